#pragma once
// Access to ../shared/golden and the comparisons its README prescribes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace darkroom::golden {

std::filesystem::path path(std::string_view relative);

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
inline ::testing::AssertionResult loop_close(const torch::Tensor& a, const torch::Tensor& b) {
  return all_close(a, b, 1e-4, 1e-3);
}

}  // namespace darkroom::golden
