#include "support/golden.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "darkroom/io/safetensors.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::golden {

std::filesystem::path path(std::string_view relative) {
  return std::filesystem::path(DARKROOM_GOLDEN_DIR) / relative;
}

namespace {

// Owns the folder of configured checkpoints for the life of the process.
struct CheckpointsFolder {
  std::filesystem::path dir;
  CheckpointsFolder() {
    namespace fs = std::filesystem;
    dir = fs::temp_directory_path() / ("darkroom-golden-models-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* name : {"sd1_tiny", "sdxl_tiny"}) {
      const std::string stem = name;
      fs::create_symlink(fs::absolute(path("checkpoints/" + stem + ".safetensors")), dir / (stem + ".safetensors"));
      fs::copy_file(fs::path(DARKROOM_TEST_DATA_DIR) / "golden_models" / (stem + ".json"), dir / (stem + ".json"));
    }
    // A checkpoint a server lists but cannot load: its heads fit no convention and it has no config.
    fs::create_symlink(fs::absolute(path("checkpoints/sd1_tiny.safetensors")), dir / "sd1_tiny_unconfigured.safetensors");
  }
  ~CheckpointsFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

std::filesystem::path checkpoints_dir() {
  static const CheckpointsFolder folder;
  return folder.dir;
}

std::filesystem::path checkpoint(std::string_view name) {
  return checkpoints_dir() / (std::string(name) + ".safetensors");
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

::testing::AssertionResult image_close(const image::Image& image, const torch::Tensor& image_uint8) {
  if (image.channels != 3 || image_uint8.dim() != 3 || image.height != image_uint8.size(0) ||
      image.width != image_uint8.size(1))
    return ::testing::AssertionFailure() << "the image is " << image.width << "x" << image.height << "x"
                                         << image.channels << ", the golden " << image_uint8.sizes();
  const auto ours = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.height, image.width, 3},
                                     torch::kUInt8).to(torch::kInt32);
  const auto diff = (ours - image_uint8.to(torch::kInt32)).abs();
  const int max_diff = diff.max().item<int>();
  const int64_t differing = diff.gt(0).sum().item<int64_t>();
  if (max_diff <= 1 && differing <= diff.numel() / 1000) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "largest difference " << max_diff << " levels, " << differing << " of "
                                       << diff.numel() << " values differ (allowed: 1 level, 0.1%)";
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
