#include "darkroom/image/encode.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "sample_images.hpp"

namespace darkroom::image {
namespace {

TEST(Encode, NamesContentTypesAndParsing) {
  EXPECT_EQ(format_name(Format::png), "png");
  EXPECT_EQ(format_name(Format::jpeg), "jpeg");
  EXPECT_EQ(format_name(Format::webp), "webp");
  EXPECT_EQ(content_type(Format::png), "image/png");
  EXPECT_EQ(content_type(Format::jpeg), "image/jpeg");
  EXPECT_EQ(content_type(Format::webp), "image/webp");
  EXPECT_EQ(file_extension(Format::jpeg), ".jpg");
  for (Format format : {Format::png, Format::jpeg, Format::webp}) EXPECT_EQ(parse_format(format_name(format)), format);
  EXPECT_EQ(parse_format("JPG"), Format::jpeg);
  EXPECT_EQ(parse_format("WebP"), Format::webp);
  EXPECT_EQ(parse_format("gif"), std::nullopt);
  EXPECT_EQ(parse_format(""), std::nullopt);
  EXPECT_EQ(parse_format("image/png"), std::nullopt);
}

TEST(Encode, DispatchesToEachEncoder) {
  const auto image = testing::photo_like(24, 16);
  EXPECT_EQ(encode(image, Format::png, 80), encode_png(image));
  EXPECT_EQ(encode(image, Format::jpeg, 70), encode_jpeg(image, 70));
  EXPECT_EQ(encode(image, Format::webp, 70), encode_webp(image, 70));
  EXPECT_EQ(decode_webp(encode(image, Format::webp, 100)).pixels, image.pixels);
}

TEST(Encode, QualityIsCheckedForEveryFormat) {
  const auto image = testing::photo_like(4, 4);
  for (Format format : {Format::png, Format::jpeg, Format::webp}) {
    SCOPED_TRACE(format_name(format));
    EXPECT_THROW(encode(image, format, -1), std::invalid_argument);
    EXPECT_THROW(encode(image, format, 101), std::invalid_argument);
    EXPECT_THROW(encode(Image{}, format, 50), std::invalid_argument);
  }
}

}  // namespace
}  // namespace darkroom::image
