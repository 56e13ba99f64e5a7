// The trainers' batches: images, captions and the foreground mask that weights both stages' losses.
#include "scene_batches.hpp"

#include <gtest/gtest.h>

namespace darkroom::training {
namespace {

TEST(SceneBatches, ForegroundMarksTheObjectsAndNothingElse) {
  SceneBatches batches(/*domain=*/1, /*batch=*/8, /*image_size=*/64, /*threads=*/2, torch::kCPU);
  const auto batch = batches.at(0);
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{8, 3, 64, 64}));
  ASSERT_EQ(batch.foreground.sizes(), (std::vector<int64_t>{8, 1, 64, 64}));
  EXPECT_TRUE(batch.foreground.eq(0).logical_or(batch.foreground.eq(1)).all().item<bool>());
  for (int64_t i = 0; i < 8; ++i) {
    const auto mask = batch.foreground[i][0];
    const double share = mask.mean().item<double>();
    EXPECT_GT(share, 0.002) << batch.captions[i];  // every scene has an object
    EXPECT_LT(share, 0.5) << batch.captions[i];    // and mostly background
    // The scenes keep a margin of pure background at the border.
    EXPECT_EQ(mask.index({0}).sum().item<double>(), 0) << batch.captions[i];
    EXPECT_EQ(mask.index({63}).sum().item<double>(), 0) << batch.captions[i];
  }
  // A step's batch is the same whatever the thread count, so a resumed run sees what an uninterrupted one
  // would have.
  SceneBatches again(1, 8, 64, 1, torch::kCPU);
  const auto same = again.at(0);
  EXPECT_TRUE(torch::equal(same.images, batch.images));
  EXPECT_TRUE(torch::equal(same.foreground, batch.foreground));
}

TEST(SceneBatches, ForegroundWeightsCountEveryCellAnObjectTouches) {
  auto foreground = torch::zeros({1, 1, 8, 8});
  foreground.index_put_({0, 0, 1, 2}, 1);  // one pixel of the 4x4 cell (0, 0) at a quarter of the size
  const auto full = foreground_weights(foreground, 8, 10);
  EXPECT_EQ(full.sum().item<double>(), 63 + 10);
  const auto quarter = foreground_weights(foreground, 2, 10);
  ASSERT_EQ(quarter.sizes(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_TRUE(torch::equal(quarter.view({-1}), torch::tensor({10.0f, 1.0f, 1.0f, 1.0f})));
  EXPECT_TRUE(torch::equal(foreground_weights(foreground, 2, 1), torch::ones({1, 1, 2, 2})));  // off
}

}  // namespace
}  // namespace darkroom::training
