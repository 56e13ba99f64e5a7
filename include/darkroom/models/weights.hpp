#pragma once
// Turning indexed checkpoint tensors into torch tensors and module parameters.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::models {

// Reads a tensor (F32/F16/BF16/F64 or integer) from its mapped bytes into a new tensor of `dtype`,
// applying the ref's row slice and transpose.
torch::Tensor load_tensor(const io::TensorRef& ref, torch::ScalarType dtype = torch::kFloat32);

// Fills every parameter and buffer of `module` from `weights`, by the module's own dotted names.
// Shapes must match, except that trailing singleton dimensions may differ (a 1x1 conv stored where a
// linear layer is expected, and back). Throws io::ModelFileError naming the file, the component and
// every missing or mis-shaped tensor. Extra tensors in `weights` are ignored.
void load_module(torch::nn::Module& module, const io::WeightIndex& weights, std::string_view component);

}  // namespace darkroom::models

namespace darkroom::models {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Every parameter, then every buffer, of `module` under its dotted name.
NamedTensors named_tensors(const torch::nn::Module& module);

// Writes tensors to a safetensors file in the order given, converted to `dtype` (float32, float16 or
// bfloat16; F16 halves the size, and darkroom loads F16 back into float32 losslessly).
void save_tensors(const std::filesystem::path& path, const NamedTensors& tensors,
                  torch::ScalarType dtype = torch::kFloat16, const std::map<std::string, std::string>& metadata = {});

// save_tensors of named_tensors(module).
void save_module(const torch::nn::Module& module, const std::filesystem::path& path,
                 torch::ScalarType dtype = torch::kFloat16, const std::map<std::string, std::string>& metadata = {});

}  // namespace darkroom::models
