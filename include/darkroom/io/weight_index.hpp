#pragma once
// A name -> tensor index over one or more safetensors files. Checkpoint layouts differ only in names
// and in a few simple tensor transforms (a fused q/k/v split into rows, a transposed projection), so
// converting a layout is building a new index; no tensor data is touched until a model loads it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "darkroom/io/safetensors.hpp"

namespace darkroom::io {

struct TensorRef {
  std::shared_ptr<const SafetensorsFile> file;
  const TensorInfo* info = nullptr;
  int64_t rows_begin = 0;   // slice [rows_begin, rows_end) of dim 0; rows_end < 0 means all rows
  int64_t rows_end = -1;
  bool transpose = false;   // transpose a 2-D tensor after slicing

  std::vector<int64_t> shape() const;  // shape after the transforms
  TensorRef rows(int64_t begin, int64_t end) const;
  TensorRef transposed() const;
};

class WeightIndex {
 public:
  WeightIndex() = default;
  static WeightIndex of(std::shared_ptr<const SafetensorsFile> file);

  // Keys that start with prefix, with the prefix removed.
  WeightIndex under(std::string_view prefix) const;
  // Every key with prefix prepended.
  WeightIndex prefixed(std::string_view prefix) const;
  // Adds other's entries (other wins on a clash).
  void merge(const WeightIndex& other);

  bool contains(std::string_view key) const;
  bool has_prefix(std::string_view prefix) const;
  const TensorRef* find(std::string_view key) const;
  // Throws ModelFileError naming the source file(s) and the missing key.
  const TensorRef& at(std::string_view key) const;
  std::vector<int64_t> shape(std::string_view key) const { return at(key).shape(); }
  void set(std::string key, TensorRef ref);
  void erase(std::string_view key);

  const std::map<std::string, TensorRef, std::less<>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // The files behind this index, for error messages.
  std::string source() const;
  const std::filesystem::path& primary_file() const;

 private:
  std::map<std::string, TensorRef, std::less<>> entries_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  void add_file(const std::shared_ptr<const SafetensorsFile>& file);
};

}  // namespace darkroom::io
