#include "darkroom/image/jpeg.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sample_images.hpp"

namespace darkroom::image {
namespace {

using testing::photo_like;
using testing::psnr;

::testing::AssertionResult decode_fails_with(const std::vector<uint8_t>& bytes, std::string_view problem) {
  return testing::decode_fails_with([](std::span<const uint8_t> b) { return decode_jpeg(b); }, bytes, "JPEG data: ", problem);
}

TEST(Jpeg, RoundTripWithinPsnr) {
  const auto image = photo_like(64, 48);
  const auto bytes = encode_jpeg(image, 90);
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes[0], 0xff);
  EXPECT_EQ(bytes[1], 0xd8);
  EXPECT_EQ(bytes[bytes.size() - 2], 0xff);  // EOI: the file is complete
  EXPECT_EQ(bytes[bytes.size() - 1], 0xd9);
  const auto back = decode_jpeg(bytes);
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 48);
  EXPECT_EQ(back.channels, 3);
  EXPECT_GE(psnr(image, back), 34.0);  // measured 35.7; 4:2:0 chroma limits the red/green square's edges
}

TEST(Jpeg, LowerQualityIsSmallerAndLessFaithful) {
  const auto image = photo_like(64, 48);
  const auto low = encode_jpeg(image, 30), high = encode_jpeg(image, 90);
  EXPECT_LT(low.size(), high.size());
  EXPECT_LT(psnr(image, decode_jpeg(low)), psnr(image, decode_jpeg(high)));
  EXPECT_GE(psnr(image, decode_jpeg(low)), 28.0);  // measured 30.8
  EXPECT_NO_THROW(decode_jpeg(encode_jpeg(image, 0)));
  EXPECT_NO_THROW(decode_jpeg(encode_jpeg(image, 100)));
}

TEST(Jpeg, RgbaEncodesAsItsRgb) {
  const auto rgba = photo_like(33, 17, 4);  // odd sizes: partial MCUs
  const auto rgb = photo_like(33, 17, 3);
  EXPECT_EQ(encode_jpeg(rgba, 85), encode_jpeg(rgb, 85));
}

TEST(Jpeg, LargeImagesGrowTheOutputBuffer) {
  // Noise compresses badly: the file is larger than the first buffer, which must grow intact. Gray, so
  // that chroma subsampling loses nothing and the round trip stays close.
  Image noise{256, 256, 3, {}};
  uint32_t state = 1;
  for (int i = 0; i < 256 * 256; ++i) {
    state = state * 1664525 + 1013904223;
    noise.pixels.insert(noise.pixels.end(), 3, static_cast<uint8_t>(state >> 24));
  }
  const auto bytes = encode_jpeg(noise, 100);
  EXPECT_GT(bytes.size(), noise.pixels.size() / 8 + 4096);
  EXPECT_GE(psnr(noise, decode_jpeg(bytes)), 30.0);
}

TEST(Jpeg, RejectsBadArguments) {
  const auto image = photo_like(8, 8);
  EXPECT_THROW(encode_jpeg(image, -1), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(image, 101), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(Image{0, 0, 3, {}}), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(Image{8, 8, 2, std::vector<uint8_t>(128)}), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(Image{8, 9, 3, image.pixels}), std::invalid_argument);
  try {
    encode_jpeg(image, 101);
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "encode_jpeg: quality must be in 0..100, not 101");
  }
}

TEST(Jpeg, CorruptDataGivesClearErrors) {
  const auto good = encode_jpeg(photo_like(64, 48), 85);
  EXPECT_TRUE(decode_fails_with({}, "not a JPEG file"));
  EXPECT_TRUE(decode_fails_with({'h', 'e', 'l', 'l', 'o'}, "not a JPEG file"));
  // libjpeg would fill the missing rows with gray and warn; the warning is an error here.
  EXPECT_TRUE(decode_fails_with({good.begin(), good.begin() + good.size() / 2}, "Premature end of JPEG file"));
  EXPECT_TRUE(decode_fails_with({good.begin(), good.begin() + 20}, "JPEG data: "));

  // The frame header (SOF0: FF C0, length, precision, height, width) claims 16385x16385: refused before
  // anything is allocated.
  auto huge = good;
  std::size_t sof = 2;
  while (sof + 1 < huge.size() && !(huge[sof] == 0xff && huge[sof + 1] == 0xc0)) ++sof;
  ASSERT_LT(sof + 9, huge.size());
  for (int i : {5, 7}) {
    huge[sof + i] = 0x40;
    huge[sof + i + 1] = 0x01;
  }
  EXPECT_TRUE(decode_fails_with(huge, "the image is 16385x16385, larger than the 16384x16384 allowed"));

  auto empty = good;
  for (int i = 5; i < 9; ++i) empty[sof + i] = 0;
  EXPECT_TRUE(decode_fails_with(empty, "JPEG data: "));
}

}  // namespace
}  // namespace darkroom::image
