#pragma once
// Writes safetensors files (used to save trained models and to build benchmark checkpoints).
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "darkroom/io/safetensors.hpp"

namespace darkroom::io {

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const std::byte> bytes;  // must stay valid until write_safetensors returns
};

// Tensors are laid out in the order given; the header is padded with spaces to 8 bytes, as the
// reference writer does. Writes to a temporary name and renames, so readers never see half a file.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace darkroom::io
