#include "darkroom/io/safetensors.hpp"

#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace darkroom::io {
namespace {

TEST(Safetensors, OpensGoldenCheckpoint) {
  auto file = SafetensorsFile::open(golden::path("checkpoints/sd1_tiny.safetensors"));
  EXPECT_EQ(file->tensors().size(), 981u);
  const auto* t = file->find("model.diffusion_model.input_blocks.0.0.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::F16);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{32, 4, 3, 3}));
  EXPECT_EQ(file->find("no.such.tensor"), nullptr);
}

}  // namespace
}  // namespace darkroom::io
