#pragma once
// Access to ../shared/golden and the comparisons its README prescribes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "darkroom/image/image.hpp"

namespace darkroom::golden {

std::filesystem::path path(std::string_view relative);

// The golden checkpoints as a user would keep them: checkpoints/NAME.safetensors linked into a temporary
// folder beside its model config (tests/data/golden_models/NAME.json, with the heads no tensor records).
// Made once per process and removed at exit; the golden folder stays read-only. Holds sd1_tiny and
// sdxl_tiny, and sd1_tiny_unconfigured: the SD1 file without its config, which cannot be loaded.
std::filesystem::path checkpoints_dir();
std::filesystem::path checkpoint(std::string_view name);  // checkpoints_dir() / NAME.safetensors

// Every tensor of a golden safetensors file: floats as float32, integers as int64, uint8 kept.
std::map<std::string, torch::Tensor> load(std::string_view relative);

struct Closeness {
  double max_abs = 0;
  double rel_l2 = 0;
};
Closeness closeness(const torch::Tensor& actual, const torch::Tensor& expected);

// The README's pass criterion: rel_l2 <= rel_l2_tol and max_abs <= abs_tol * max(1, max|expected|).
// Use inside EXPECT_TRUE / ASSERT_TRUE; the failure message carries both numbers.
::testing::AssertionResult all_close(const torch::Tensor& actual, const torch::Tensor& expected,
                                     double rel_l2_tol, double abs_tol);

// Component tolerance (CLIP, UNet, VAE, TAESD) and loop tolerance, from the golden README.
inline ::testing::AssertionResult component_close(const torch::Tensor& a, const torch::Tensor& b) {
  return all_close(a, b, 1e-5, 1e-4);
}
// A pipeline's RGB8 image against a golden image_uint8 [H,W,3]: within one level, on at most 0.1% of values.
::testing::AssertionResult image_close(const image::Image& image, const torch::Tensor& image_uint8);

inline ::testing::AssertionResult loop_close(const torch::Tensor& a, const torch::Tensor& b) {
  return all_close(a, b, 1e-4, 1e-3);
}

}  // namespace darkroom::golden
