#include "darkroom/image/resize.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "sample_images.hpp"

namespace darkroom::image {
namespace {

// A gray-looking image whose channel c holds value + c, so a mix-up of channels shows.
Image from_values(int width, int height, const std::vector<int>& values) {
  Image image{width, height, 3, {}};
  for (int v : values)
    for (int c = 0; c < 3; ++c) image.pixels.push_back(static_cast<uint8_t>(v + c));
  return image;
}

TEST(Resize, AveragesWholeBlocks) {
  // 4x2 -> 2x1: each output pixel is the mean of a 2x2 block.
  const auto out = resize_to_fit(from_values(4, 2, {10, 20, 100, 0,  //
                                                    30, 40, 50, 250}),
                                 2);
  EXPECT_EQ(out.width, 2);
  EXPECT_EQ(out.height, 1);
  EXPECT_EQ(out.pixels, from_values(2, 1, {25, 100}).pixels);
}

TEST(Resize, WeighsPartlyCoveredPixelsByArea) {
  // 3x3 -> 2x2: output pixel 0 covers source [0, 1.5) along each axis, so source pixels weigh 2/3 and 1/3
  // per axis: out(0,0) = (4a + 2b + 2d + e) / 9, and so on by symmetry.
  const auto out = resize_to_fit(from_values(3, 3, {0, 90, 45,  //
                                                    180, 9, 27,  //
                                                    72, 36, 225}),
                                 2);
  ASSERT_EQ(out.width, 2);
  ASSERT_EQ(out.height, 2);
  // (0 + 180 + 360 + 9) / 9, (180 + 180 + 9 + 54) / 9, (360 + 9 + 288 + 72) / 9, (9 + 54 + 72 + 900) / 9
  EXPECT_EQ(out.pixels, from_values(2, 2, {61, 47, 81, 115}).pixels);
}

TEST(Resize, KeepsAspectAndNeverUpscales) {
  const auto size = [](int w, int h, int max_side) {
    const auto out = resize_to_fit(Image{w, h, 3, std::vector<uint8_t>(3 * w * h)}, max_side);
    return std::pair{out.width, out.height};
  };
  EXPECT_EQ(size(100, 50, 40), (std::pair{40, 20}));
  EXPECT_EQ(size(50, 100, 40), (std::pair{20, 40}));
  EXPECT_EQ(size(512, 768, 256), (std::pair{171, 256}));  // 170.67 rounds to 171
  EXPECT_EQ(size(7, 3, 2), (std::pair{2, 1}));
  EXPECT_EQ(size(1000, 1, 10), (std::pair{10, 1}));  // the short side stays at least 1
  EXPECT_EQ(size(8, 6, 8), (std::pair{8, 6}));
  EXPECT_EQ(size(8, 6, 100), (std::pair{8, 6}));

  const auto image = testing::photo_like(8, 6, 4);
  EXPECT_EQ(resize_to_fit(image, 8).pixels, image.pixels);
}

TEST(Resize, UniformStaysUniformAtAnyRatio) {
  // The shares of every output pixel sum to 1, also where output pixels straddle source pixels unevenly.
  Image image{13, 7, 4, std::vector<uint8_t>(13 * 7 * 4, 77)};
  const auto out = resize_to_fit(image, 5);
  EXPECT_EQ(out.width, 5);
  EXPECT_EQ(out.height, 3);
  EXPECT_EQ(out.channels, 4);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(5 * 3 * 4, 77));
}

TEST(Resize, UpscaleNearestRepeatsPixels) {
  const auto out = upscale_nearest(from_values(2, 1, {10, 200}), 3);
  EXPECT_EQ(out.width, 6);
  EXPECT_EQ(out.height, 3);
  EXPECT_EQ(out.pixels, from_values(6, 3, {10, 10, 10, 200, 200, 200,  //
                                           10, 10, 10, 200, 200, 200,  //
                                           10, 10, 10, 200, 200, 200})
                            .pixels);
  const auto image = testing::photo_like(5, 4, 4);
  EXPECT_EQ(upscale_nearest(image, 1).pixels, image.pixels);
  // Upscaling then area-downscaling by the same factor is the identity.
  EXPECT_EQ(resize_to_fit(upscale_nearest(image, 8), 5).pixels, image.pixels);
}

TEST(Resize, RejectsBadArguments) {
  const auto image = testing::photo_like(4, 4);
  EXPECT_THROW(resize_to_fit(image, 0), std::invalid_argument);
  EXPECT_THROW(resize_to_fit(Image{4, 4, 3, {}}, 2), std::invalid_argument);
  EXPECT_THROW(upscale_nearest(image, 0), std::invalid_argument);
  EXPECT_THROW(upscale_nearest(image, 4097), std::invalid_argument);  // 16388 > 16384 per side
  EXPECT_EQ(upscale_nearest(Image{4096, 1, 3, std::vector<uint8_t>(4096 * 3)}, 4).width, 16384);
  EXPECT_THROW(upscale_nearest(Image{0, 4, 3, {}}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace darkroom::image
