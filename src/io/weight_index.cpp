#include "darkroom/io/weight_index.hpp"

#include <algorithm>

namespace darkroom::io {

std::vector<int64_t> TensorRef::shape() const {
  std::vector<int64_t> s = info->shape;
  if (!s.empty() && rows_end >= 0) s[0] = rows_end - rows_begin;
  if (transpose && s.size() == 2) std::swap(s[0], s[1]);
  return s;
}

TensorRef TensorRef::rows(int64_t begin, int64_t end) const {
  TensorRef r = *this;
  r.rows_begin = rows_begin + begin;
  r.rows_end = rows_begin + end;
  return r;
}

TensorRef TensorRef::transposed() const {
  TensorRef r = *this;
  r.transpose = !transpose;
  return r;
}

WeightIndex WeightIndex::of(std::shared_ptr<const SafetensorsFile> file) {
  WeightIndex index;
  for (const auto& info : file->tensors()) index.entries_.emplace(info.name, TensorRef{file, &info});
  index.add_file(file);
  return index;
}

void WeightIndex::add_file(const std::shared_ptr<const SafetensorsFile>& file) {
  if (std::find(files_.begin(), files_.end(), file) == files_.end()) files_.push_back(file);
}

WeightIndex WeightIndex::under(std::string_view prefix) const {
  WeightIndex out;
  out.files_ = files_;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it)
    out.entries_.emplace(it->first.substr(prefix.size()), it->second);
  return out;
}

WeightIndex WeightIndex::prefixed(std::string_view prefix) const {
  WeightIndex out;
  out.files_ = files_;
  for (const auto& [key, ref] : entries_) out.entries_.emplace(std::string(prefix) + key, ref);
  return out;
}

void WeightIndex::merge(const WeightIndex& other) {
  for (const auto& [key, ref] : other.entries_) entries_.insert_or_assign(key, ref);
  for (const auto& file : other.files_) add_file(file);
}

bool WeightIndex::contains(std::string_view key) const { return entries_.find(key) != entries_.end(); }

bool WeightIndex::has_prefix(std::string_view prefix) const {
  auto it = entries_.lower_bound(prefix);
  return it != entries_.end() && it->first.starts_with(prefix);
}

const TensorRef* WeightIndex::find(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

const TensorRef& WeightIndex::at(std::string_view key) const {
  if (const auto* ref = find(key)) return *ref;
  throw ModelFileError(primary_file(), "missing tensor '" + std::string(key) + "'" +
                                           (files_.size() > 1 ? " (looked in " + source() + ")" : ""));
}

void WeightIndex::set(std::string key, TensorRef ref) {
  add_file(ref.file);
  entries_.insert_or_assign(std::move(key), std::move(ref));
}

void WeightIndex::erase(std::string_view key) {
  if (auto it = entries_.find(key); it != entries_.end()) entries_.erase(it);
}

std::string WeightIndex::source() const {
  std::string s;
  for (const auto& f : files_) s += (s.empty() ? "" : ", ") + f->path().string();
  return s.empty() ? "<no file>" : s;
}

const std::filesystem::path& WeightIndex::primary_file() const {
  static const std::filesystem::path none("<no file>");
  return files_.empty() ? none : files_.front()->path();
}

}  // namespace darkroom::io
