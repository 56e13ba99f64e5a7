#pragma once
// Test images for the codec and resize suites, and the measure lossy codecs are judged by.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <cstdint>
#include <vector>

#include "darkroom/image/image.hpp"

namespace darkroom::image::testing {

// Photo-like content: smooth gradients plus a hard-edged square, so lossy codecs see both. `phase` shifts
// the pattern, giving distinct animation frames.
inline Image photo_like(int width, int height, int channels = 3, int phase = 0) {
  Image image{width, height, channels, {}};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool square = x >= width / 4 && x < width / 2 && y >= height / 4 && y < height / 2;
      const double t = x + 3 * phase;
      image.pixels.push_back(square ? 230 : static_cast<uint8_t>(128 + 100 * std::sin(t / 7.0)));
      image.pixels.push_back(square ? 40 : static_cast<uint8_t>(128 + 90 * std::cos(y / 5.0)));
      image.pixels.push_back(static_cast<uint8_t>((64 + 2 * x + y) % 256));
      if (channels == 4) image.pixels.push_back(static_cast<uint8_t>(255 - x));
    }
  return image;
}

// Peak signal-to-noise ratio in dB over the RGB channels of two images of the same size (`b` RGB).
inline double psnr(const Image& a, const Image& b) {
  double squared = 0;
  const std::size_t pixels = static_cast<std::size_t>(a.width) * a.height;
  for (std::size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) {
      const double d = double(a.pixels[p * a.channels + c]) - double(b.pixels[p * b.channels + c]);
      squared += d * d;
    }
  const double mse = squared / (3.0 * pixels);
  return mse == 0 ? INFINITY : 10 * std::log10(255.0 * 255.0 / mse);
}

// decode(bytes) throws std::runtime_error whose message starts with `prefix` and contains `problem`.
template <typename Decode>
::testing::AssertionResult decode_fails_with(Decode decode, std::span<const uint8_t> bytes, std::string_view prefix,
                                             std::string_view problem) {
  try {
    decode(bytes);
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    if (!message.starts_with(prefix) || message.find(problem) == std::string::npos)
      return ::testing::AssertionFailure() << "expected \"" << problem << "\" in: " << message;
    return ::testing::AssertionSuccess() << message;
  }
  return ::testing::AssertionFailure() << "decoded without error";
}

}  // namespace darkroom::image::testing
