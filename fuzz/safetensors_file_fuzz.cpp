// libFuzzer target for SafetensorsFile::open: the input is the whole file. It lives in a memfd reached
// through /proc/self/fd, so open() takes its real path (open, fstat, mmap) without touching the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "darkroom/io/safetensors.hpp"
#include "safetensors_invariants.hpp"
#include "safetensors_mutator.hpp"

namespace {

int memfd() {
  static const int fd = ::memfd_create("safetensors_fuzz", MFD_CLOEXEC);
  darkroom::fuzz::require(fd >= 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd();
  darkroom::fuzz::require(::ftruncate(fd, 0) == 0);
  darkroom::fuzz::require(::pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  try {
    const auto file = darkroom::io::SafetensorsFile::open("/proc/self/fd/" + std::to_string(fd));
    // An accepted file has an 8-byte length and that many header bytes; the tensor spans must point at
    // exactly the input bytes after them.
    const uint64_t header_len = darkroom::fuzz::read_u64_le(data);
    const uint8_t* tensor_data = data + 8 + header_len;
    darkroom::fuzz::check_tensors(file->tensors(), size - 8 - header_len);
    for (const auto& tensor : file->tensors()) {
      const auto bytes = file->bytes(tensor);
      darkroom::fuzz::require(bytes.size() == tensor.end - tensor.begin);
      darkroom::fuzz::require(std::memcmp(bytes.data(), tensor_data + tensor.begin, bytes.size()) == 0);
      darkroom::fuzz::require(file->find(tensor.name) == &tensor);
    }
  } catch (const darkroom::io::ModelFileError&) {
    // The documented rejection of a bad file.
  }
  return 0;
}

// Edits the header and rewrites the length prefix to match; the data section keeps its bytes, cut or
// zero-extended to the edited data size.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return darkroom::fuzz::mutate(data, size, max_size, seed, [&](std::string_view input, std::minstd_rand& rng) {
    if (input.size() < 8) return std::string();
    const uint64_t header_len = darkroom::fuzz::read_u64_le(reinterpret_cast<const uint8_t*>(input.data()));
    if (header_len > input.size() - 8) return std::string();
    auto header = nlohmann::json::parse(input.substr(8, header_len));
    if (!header.is_object()) return std::string();
    uint64_t data_size = input.size() - 8 - header_len;
    darkroom::fuzz::mutate_header(header, data_size, rng);
    std::string json = header.dump();
    if (data_size > max_size) return std::string();
    std::string out = darkroom::fuzz::u64_le(json.size()) + json + std::string(input.substr(8 + header_len));
    out.resize(8 + json.size() + data_size);
    return out;
  });
}
