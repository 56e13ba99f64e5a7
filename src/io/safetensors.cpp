#include "darkroom/io/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace darkroom::io {
namespace {

// The reference implementation refuses headers over 100 MB; a larger one is hostile or corrupt.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeEntry {
  std::string_view name;
  DType dtype;
  std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {"F64", DType::F64, 8}, {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2},
    {"I64", DType::I64, 8}, {"I32", DType::I32, 4}, {"I16", DType::I16, 2}, {"I8", DType::I8, 1},
    {"U8", DType::U8, 1},   {"BOOL", DType::BOOL, 1},
};

DType parse_dtype(const std::string& name, const std::string& tensor) {
  for (const auto& entry : kDTypes)
    if (entry.name == name) return entry.dtype;
  throw std::invalid_argument("tensor '" + tensor + "' has unknown dtype '" + name + "'");
}

uint64_t checked_u64(const nlohmann::json& value, const std::string& what) {
  if (!value.is_number_unsigned()) throw std::invalid_argument(what + " is not a non-negative integer");
  return value.get<uint64_t>();
}

TensorInfo parse_tensor(const std::string& name, const nlohmann::json& entry, uint64_t data_size) {
  if (!entry.is_object()) throw std::invalid_argument("tensor '" + name + "' entry is not an object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key)) throw std::invalid_argument("tensor '" + name + "' has no '" + key + "'");
  if (!entry["dtype"].is_string()) throw std::invalid_argument("tensor '" + name + "' dtype is not a string");
  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(entry["dtype"].get<std::string>(), name);

  const auto& shape = entry["shape"];
  if (!shape.is_array()) throw std::invalid_argument("tensor '" + name + "' shape is not an array");
  if (shape.size() > 16) throw std::invalid_argument("tensor '" + name + "' has more than 16 dimensions");
  // The product of the non-zero dims must fit in int64, so that numel() and torch can multiply the dims
  // in any order without overflow even when a zero dim makes the tensor empty.
  constexpr auto kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  unsigned __int128 elements = 1;
  bool empty = false;
  for (const auto& dim : shape) {
    const uint64_t d = checked_u64(dim, "tensor '" + name + "' shape entry");
    if (d == 0)
      empty = true;
    else if ((elements *= d) > kMaxElements)
      throw std::invalid_argument("tensor '" + name + "' shape has too many elements");
    info.shape.push_back(static_cast<int64_t>(d));
  }
  const unsigned __int128 bytes = empty ? 0 : elements * dtype_size(info.dtype);

  const auto& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    throw std::invalid_argument("tensor '" + name + "' data_offsets is not a pair");
  info.begin = checked_u64(offsets[0], "tensor '" + name + "' begin offset");
  info.end = checked_u64(offsets[1], "tensor '" + name + "' end offset");
  if (info.begin > info.end) throw std::invalid_argument("tensor '" + name + "' offsets are reversed");
  if (info.end > data_size)
    throw std::invalid_argument("tensor '" + name + "' data [" + std::to_string(info.begin) + ", " +
                                std::to_string(info.end) + ") lies past the end of the data (" +
                                std::to_string(data_size) + " bytes)");
  if (bytes != info.end - info.begin)
    throw std::invalid_argument("tensor '" + name + "' shape needs " +
                                (bytes > data_size ? std::string("more bytes than the file has")
                                                   : std::to_string(static_cast<uint64_t>(bytes)) + " bytes") +
                                " but its offsets span " + std::to_string(info.end - info.begin));
  return info;
}

// A download that went wrong often leaves a text file (a Git LFS pointer, an HTML error page) under the
// model's name. A real header length below the 100 MB limit has zero high bytes, so it is never text.
bool is_text(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t'; });
}

}  // namespace

std::string_view dtype_name(DType dtype) {
  for (const auto& entry : kDTypes)
    if (entry.dtype == dtype) return entry.name;
  return "?";
}

std::size_t dtype_size(DType dtype) {
  for (const auto& entry : kDTypes)
    if (entry.dtype == dtype) return entry.size;
  return 0;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors_header(std::string_view json, uint64_t data_size) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object()) throw std::invalid_argument("header is not a JSON object");

  SafetensorsHeader header;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw std::invalid_argument("__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) throw std::invalid_argument("__metadata__ value '" + mk + "' is not a string");
        header.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_tensor(key, value, data_size));
  }

  // No two tensors may share bytes; zero-sized tensors occupy nothing.
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : header.tensors)
    if (t.end > t.begin) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      throw std::invalid_argument("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
                                  "' overlap");
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return header;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK so that a FIFO given by mistake is rejected below instead of blocking the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ModelFileError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ModelFileError(path, S_ISDIR(st.st_mode) ? "is a directory, not a file" : "not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw ModelFileError(path, "too short to be a safetensors file (" + std::to_string(size) + " bytes)");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw ModelFileError(path, std::string("cannot map: ") + std::strerror(errno));

  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->map_ = static_cast<const std::byte*>(map);
  file->map_size_ = size;

  const std::string_view start(reinterpret_cast<const char*>(file->map_), 8);
  if (is_text(start))
    throw ModelFileError(path, "not a safetensors file: it starts with the text \"" + std::string(start) +
                                   "\" (a Git LFS pointer or a web page saved under the model's name?)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | std::to_integer<uint64_t>(file->map_[i]);
  if (header_len == 0) throw ModelFileError(path, "header length is 0; not a safetensors file");
  if (header_len > size - 8)
    throw ModelFileError(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                                   std::to_string(size) + " bytes); the file is truncated or not safetensors");
  if (header_len > kMaxHeaderBytes)
    throw ModelFileError(path, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  if (std::to_integer<char>(file->map_[8]) != '{')
    throw ModelFileError(path, "not a safetensors file (the header does not start with '{')");

  const std::string_view json(reinterpret_cast<const char*>(file->map_ + 8), header_len);
  try {
    file->header_ = parse_safetensors_header(json, size - 8 - header_len);
  } catch (const std::invalid_argument& e) {
    throw ModelFileError(path, e.what());
  }
  file->data_ = file->map_ + 8 + header_len;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<std::byte*>(map_), map_size_);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(header_.tensors.begin(), header_.tensors.end(), name,
                             [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != header_.tensors.end() && it->name == name ? &*it : nullptr;
}

void SafetensorsFile::release_pages(const TensorInfo& tensor) const {
  // Unmodified pages of a private read-only mapping: MADV_DONTNEED only unmaps them; a later read faults
  // them back in from the file. Only pages wholly inside the tensor, as neighbours may still be unread.
  // Advice, so a failure changes nothing but the memory held.
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(data_ + tensor.begin);
  const auto end = reinterpret_cast<uintptr_t>(data_ + tensor.end);
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& tensor) const {
  return {data_ + tensor.begin, static_cast<std::size_t>(tensor.end - tensor.begin)};
}

}  // namespace darkroom::io
