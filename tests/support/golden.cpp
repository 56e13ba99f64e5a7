#include "support/golden.hpp"

#include <gtest/gtest.h>

#include "darkroom/io/safetensors.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::golden {

std::filesystem::path path(std::string_view relative) {
  return std::filesystem::path(DARKROOM_GOLDEN_DIR) / relative;
}

std::map<std::string, torch::Tensor> load(std::string_view relative) {
  auto file = io::SafetensorsFile::open(path(relative));
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : file->tensors()) {
    const io::TensorRef ref{file, &info};
    torch::ScalarType dtype = torch::kFloat32;
    if (info.dtype == io::DType::I64 || info.dtype == io::DType::I32) dtype = torch::kInt64;
    if (info.dtype == io::DType::U8) dtype = torch::kUInt8;
    out.emplace(info.name, models::load_tensor(ref, dtype));
  }
  return out;
}

Closeness closeness(const torch::Tensor& actual, const torch::Tensor& expected) {
  auto a = actual.to(torch::kFloat64);
  auto b = expected.to(torch::kFloat64);
  Closeness c;
  c.max_abs = (a - b).abs().max().item<double>();
  const double norm = b.norm().item<double>();
  c.rel_l2 = norm > 0 ? (a - b).norm().item<double>() / norm : (a - b).norm().item<double>();
  return c;
}

::testing::AssertionResult all_close(const torch::Tensor& actual, const torch::Tensor& expected,
                                     double rel_l2_tol, double abs_tol) {
  if (actual.sizes() != expected.sizes())
    return ::testing::AssertionFailure() << "shape " << actual.sizes() << " != expected " << expected.sizes();
  const auto c = closeness(actual, expected);
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  if (c.rel_l2 <= rel_l2_tol && c.max_abs <= abs_tol * scale)
    return ::testing::AssertionSuccess() << "rel_l2 " << c.rel_l2 << " max_abs " << c.max_abs;
  return ::testing::AssertionFailure() << "rel_l2 " << c.rel_l2 << " (tol " << rel_l2_tol << "), max_abs "
                                       << c.max_abs << " (tol " << abs_tol * scale << ")";
}

}  // namespace darkroom::golden
