#pragma once
// safetensors: u64 little-endian header length, a JSON header, then the tensor bytes.
// The file is memory-mapped; nothing is copied until a tensor is converted for compute.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "darkroom/io/error.hpp"

namespace darkroom::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::string_view dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;

  int64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by name
  std::map<std::string, std::string> metadata;
};

// Parses and validates a header against the size of the data section that follows it: known dtypes,
// non-negative shapes whose byte size matches the offsets, offsets inside the data, no overlaps.
// Throws std::invalid_argument describing the first problem. Exposed on its own for fuzzing.
SafetensorsHeader parse_safetensors_header(std::string_view json, uint64_t data_size);

class SafetensorsFile {
 public:
  // Opens and validates the file; throws ModelFileError naming the file and the problem.
  static std::shared_ptr<const SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  std::span<const std::byte> bytes(const TensorInfo& tensor) const;
  // Drops the whole pages of one tensor's bytes from this process's memory (they stay in the page cache
  // and are read again if touched): once a tensor is copied into a module, a model being loaded costs its
  // modules' memory, not that plus the file's.
  void release_pages(const TensorInfo& tensor) const;

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  SafetensorsHeader header_;
  const std::byte* map_ = nullptr;
  std::size_t map_size_ = 0;
  const std::byte* data_ = nullptr;
};

}  // namespace darkroom::io
