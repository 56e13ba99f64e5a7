// A development animation: previews fitted to the canvas, the final image last, the canvas capped.
#include <gtest/gtest.h>

#include "darkroom/image/development.hpp"
#include "darkroom/image/webp.hpp"

namespace darkroom::image {
namespace {

Image solid(int width, int height, uint8_t value) {
  return {width, height, 3, std::vector<uint8_t>(std::size_t(width) * height * 3, value)};
}

TEST(Development, FitToCanvasEnlargesByWholeFactorsAndShrinksToFit) {
  const auto enlarged = fit_to_canvas(solid(8, 8, 200), 64, 64);
  EXPECT_EQ(enlarged.width, 64);
  EXPECT_EQ(enlarged.pixels, solid(64, 64, 200).pixels);
  const auto shrunk = fit_to_canvas(solid(128, 128, 50), 64, 64);
  EXPECT_EQ(shrunk.width, 64);
  EXPECT_EQ(shrunk.pixels, solid(64, 64, 50).pixels);
  // 10 does not divide 64: enlarged 6x to 60, the rest black.
  const auto padded = fit_to_canvas(solid(10, 10, 255), 64, 64);
  EXPECT_EQ(padded.pixels[0], 255);
  EXPECT_EQ(padded.pixels[(63 * 64 + 63) * 3], 0);
  EXPECT_THROW(fit_to_canvas(Image{}, 64, 64), std::invalid_argument);
}

TEST(Development, PreviewsThenTheFinalImageOnACappedCanvas) {
  const std::vector<Image> previews = {solid(8, 8, 0), solid(8, 8, 120)};
  const auto bytes = encode_development(previews, solid(128, 96, 255), {.max_side = 64, .quality = 100});
  const auto animation = decode_webp_animation(bytes);
  EXPECT_EQ(animation.width, 64);
  EXPECT_EQ(animation.height, 48);
  ASSERT_EQ(animation.frames.size(), 3u);
  EXPECT_EQ(animation.frames[0].duration_ms, 150);
  EXPECT_EQ(animation.frames[2].duration_ms, 1500);
  EXPECT_EQ(animation.frames[2].image.pixels, solid(64, 48, 255).pixels);
  EXPECT_EQ(animation.frames[1].image.pixels[0], 120);
}

TEST(Development, TheFinalImageAloneWhenThereAreNoPreviews) {
  const auto animation = decode_webp_animation(encode_development({}, solid(32, 32, 9), {.quality = 100}));
  EXPECT_EQ(animation.frames.size(), 1u);
  EXPECT_EQ(animation.width, 32);
}

}  // namespace
}  // namespace darkroom::image
