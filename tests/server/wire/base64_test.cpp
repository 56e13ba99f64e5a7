#include "darkroom/server/base64.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace darkroom::server {
namespace {

std::vector<uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// RFC 4648, section 10.
const std::vector<std::pair<std::string, std::string>> kRfcVectors = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

TEST(Base64, EncodesTheRfcVectors) {
  for (const auto& [plain, encoded] : kRfcVectors) EXPECT_EQ(base64::encode(bytes_of(plain)), encoded) << plain;
}

TEST(Base64, DecodesTheRfcVectorsPaddedAndUnpadded) {
  for (const auto& [plain, encoded] : kRfcVectors) {
    EXPECT_EQ(base64::decode(encoded), bytes_of(plain)) << encoded;
    std::string unpadded = encoded;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(base64::decode(unpadded), bytes_of(plain)) << unpadded;
  }
}

TEST(Base64, RoundTripsEveryByteValueAtEveryLengthModuloThree) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  for (std::size_t n : {254u, 255u, 256u}) {
    const std::vector<uint8_t> bytes(all.begin(), all.begin() + n);
    EXPECT_EQ(base64::decode(base64::encode(bytes)), bytes);
  }
}

TEST(Base64, SkipsWhitespaceOfWrappedLines) {
  EXPECT_EQ(base64::decode("Zm9v\nYmFy\r\n"), bytes_of("foobar"));
  EXPECT_EQ(base64::decode(" Zm9vYg==\n"), bytes_of("foob"));
}

TEST(Base64, RejectsWhatNoEncoderWrites) {
  for (const char* bad : {"Zm9v!", "Zm9v-_", "Z", "Zm9vY", "Zg=a", "Zg===", "Zm8==", "=Zg", "Zm\x80v"}) {
    EXPECT_THROW(base64::decode(bad), std::invalid_argument) << bad;
  }
  try {
    base64::decode("Zm9v*mFy");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "invalid base64: '*' at offset 4");
  }
}

TEST(Base64, AcceptsDataUrlsAndBareBase64) {
  EXPECT_EQ(base64::decode_data_url_or_base64("data:image/png;base64,Zm9v"), bytes_of("foo"));
  EXPECT_EQ(base64::decode_data_url_or_base64("DATA:image/jpeg;BASE64,Zm9vYg"), bytes_of("foob"));
  EXPECT_EQ(base64::decode_data_url_or_base64("data:;base64,"), bytes_of(""));
  EXPECT_EQ(base64::decode_data_url_or_base64("Zm9vYmFy"), bytes_of("foobar"));
  EXPECT_THROW(base64::decode_data_url_or_base64("data:image/png,Zm9v"), std::invalid_argument);
  EXPECT_THROW(base64::decode_data_url_or_base64("data:image/png;base64"), std::invalid_argument);
  EXPECT_THROW(base64::decode_data_url_or_base64("data:image/png;base64,Zm9v!"), std::invalid_argument);
}

}  // namespace
}  // namespace darkroom::server
