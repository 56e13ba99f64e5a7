#include "darkroom/image/webp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sample_images.hpp"

namespace darkroom::image {
namespace {

using testing::photo_like;
using testing::psnr;

::testing::AssertionResult decode_fails_with(const std::vector<uint8_t>& bytes, std::string_view problem) {
  return testing::decode_fails_with([](std::span<const uint8_t> b) { return decode_webp(b); }, bytes, "WebP data: ", problem);
}

std::vector<uint8_t> cut(const std::vector<uint8_t>& bytes, std::size_t size) {
  return {bytes.begin(), bytes.begin() + size};
}

TEST(Webp, LossyRoundTripWithinPsnr) {
  const auto image = photo_like(64, 48);
  const auto bytes = encode_webp(image, 80);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "RIFF");
  EXPECT_EQ(std::string(bytes.begin() + 12, bytes.begin() + 16), "VP8 ");  // lossy
  const auto back = decode_webp(bytes);
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 48);
  EXPECT_EQ(back.channels, 3);
  EXPECT_GE(psnr(image, back), 32.0);  // measured 33.5
  EXPECT_LT(encode_webp(image, 30).size(), bytes.size());
}

TEST(Webp, Quality100IsLosslessAndExact) {
  const auto image = photo_like(37, 21);  // odd sizes
  const auto bytes = encode_webp(image, 100);
  EXPECT_EQ(std::string(bytes.begin() + 12, bytes.begin() + 16), "VP8L");
  EXPECT_EQ(decode_webp(bytes).pixels, image.pixels);

  // RGBA keeps its colours exactly, also where alpha is 0 (the decoder drops alpha, as decode_png does).
  auto rgba = photo_like(37, 21, 4);
  for (std::size_t p = 3; p < rgba.pixels.size(); p += 8) rgba.pixels[p] = 0;
  EXPECT_EQ(psnr(rgba, decode_webp(encode_webp(rgba, 100))), INFINITY);
}

TEST(Webp, RejectsBadArguments) {
  const auto image = photo_like(8, 8);
  EXPECT_THROW(encode_webp(image, -1), std::invalid_argument);
  EXPECT_THROW(encode_webp(image, 101), std::invalid_argument);
  EXPECT_THROW(encode_webp(Image{0, 5, 3, {}}), std::invalid_argument);
  EXPECT_THROW(encode_webp(Image{8, 8, 1, std::vector<uint8_t>(64)}), std::invalid_argument);
  EXPECT_THROW(encode_webp(Image{16384, 1, 3, std::vector<uint8_t>(16384 * 3)}), std::invalid_argument);
}

TEST(Webp, CorruptDataGivesClearErrors) {
  const auto good = encode_webp(photo_like(64, 48), 80);
  EXPECT_TRUE(decode_fails_with({}, "not a WebP file"));
  EXPECT_TRUE(decode_fails_with({'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'}, "not a WebP file"));
  EXPECT_TRUE(decode_fails_with(cut(good, good.size() / 2), "truncated"));
  EXPECT_TRUE(decode_fails_with(cut(good, 20), "WebP data: "));
  const auto lossless = encode_webp(photo_like(64, 48), 100);
  EXPECT_TRUE(decode_fails_with(cut(lossless, lossless.size() - 10), "WebP data: "));

  // Garbage in place of the VP8L bitstream after its header.
  auto garbage = lossless;
  for (std::size_t i = 30; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37);
  EXPECT_TRUE(decode_fails_with(garbage, "WebP data: "));
}

// --- animation ---

TEST(WebpAnimation, DecodesToItsFramesCanvasAndDurations) {
  WebpAnimation animation(64, 48, 90);
  const int durations[] = {100, 250, 40};
  for (int i = 0; i < 3; ++i) animation.add_frame(photo_like(64, 48, 3, 5 * i), durations[i]);
  EXPECT_EQ(animation.frame_count(), 3);
  const auto bytes = animation.finish();

  const auto decoded = decode_webp_animation(bytes);
  EXPECT_EQ(decoded.width, 64);
  EXPECT_EQ(decoded.height, 48);
  EXPECT_EQ(decoded.loop_count, 0);
  ASSERT_EQ(decoded.frames.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(decoded.frames[i].duration_ms, durations[i]);
    EXPECT_EQ(decoded.frames[i].image.width, 64);
    EXPECT_EQ(decoded.frames[i].image.channels, 3);
    EXPECT_GE(psnr(photo_like(64, 48, 3, 5 * i), decoded.frames[i].image), 32.0);
  }
  EXPECT_THROW(decode_webp(bytes), std::runtime_error);  // a still decoder refuses an animation
}

TEST(WebpAnimation, LosslessFramesComeBackExactly) {
  WebpAnimation animation(40, 30, 100);
  for (int i = 0; i < 4; ++i) animation.add_frame(photo_like(40, 30, i % 2 ? 4 : 3, i), 50);
  const auto decoded = decode_webp_animation(animation.finish());
  ASSERT_EQ(decoded.frames.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(decoded.frames[i].image.pixels, photo_like(40, 30, 3, i).pixels) << i;
}

TEST(WebpAnimation, IdenticalFramesBecomeOneLongerFrame) {
  WebpAnimation animation(16, 16, 100);
  animation.add_frame(photo_like(16, 16, 3, 0), 100);
  animation.add_frame(photo_like(16, 16, 3, 0), 100);
  animation.add_frame(photo_like(16, 16, 3, 1), 30);
  const auto decoded = decode_webp_animation(animation.finish());
  ASSERT_EQ(decoded.frames.size(), 2u);
  EXPECT_EQ(decoded.frames[0].duration_ms, 200);
  EXPECT_EQ(decoded.frames[1].duration_ms, 30);
}

TEST(WebpAnimation, StillWebpIsOneFrame) {
  const auto image = photo_like(20, 10);
  const auto decoded = decode_webp_animation(encode_webp(image, 100));
  EXPECT_EQ(decoded.width, 20);
  EXPECT_EQ(decoded.height, 10);
  ASSERT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.frames[0].image.pixels, image.pixels);
}

TEST(WebpAnimation, RejectsMisuse) {
  EXPECT_THROW(WebpAnimation(0, 10), std::invalid_argument);
  EXPECT_THROW(WebpAnimation(16384, 10), std::invalid_argument);
  EXPECT_THROW(WebpAnimation(10, 10, 101), std::invalid_argument);

  WebpAnimation animation(16, 16);
  EXPECT_THROW(animation.finish(), std::logic_error);  // no frames yet
  try {
    animation.add_frame(photo_like(16, 15), 10);
    ADD_FAILURE() << "a frame of the wrong size was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "WebpAnimation::add_frame: frame size 16x15 differs from the canvas size 16x16");
  }
  EXPECT_THROW(animation.add_frame(photo_like(16, 16), 0), std::invalid_argument);
  EXPECT_THROW(animation.add_frame(photo_like(16, 16), 1 << 24), std::invalid_argument);
  EXPECT_THROW(animation.add_frame(Image{16, 16, 3, {}}, 10), std::invalid_argument);
  EXPECT_EQ(animation.frame_count(), 0);

  animation.add_frame(photo_like(16, 16), 10);
  const auto bytes = animation.finish();
  EXPECT_EQ(decode_webp_animation(bytes).frames.size(), 1u);
  EXPECT_THROW(animation.finish(), std::logic_error);
  EXPECT_THROW(animation.add_frame(photo_like(16, 16), 10), std::logic_error);

  WebpAnimation moved = std::move(animation);  // movable, for owners that build one per job
  EXPECT_THROW(moved.finish(), std::logic_error);
}

TEST(WebpAnimation, CorruptAnimationGivesClearErrors) {
  WebpAnimation animation(32, 32);
  for (int i = 0; i < 3; ++i) animation.add_frame(photo_like(32, 32, 3, 4 * i), 10);
  const auto bytes = animation.finish();
  for (std::size_t size : {std::size_t{0}, std::size_t{16}, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(size);
    try {
      decode_webp_animation(cut(bytes, size));
      ADD_FAILURE() << "decoded without error";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("WebP data: ")) << e.what();
    }
  }
}

}  // namespace
}  // namespace darkroom::image
