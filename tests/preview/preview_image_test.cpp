#include "darkroom/preview/preview_image.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"

namespace darkroom::preview {
namespace {

image::Image gradient(int width, int height) {
  image::Image img{width, height, 3, {}};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) img.pixels.insert(img.pixels.end(), {uint8_t(x * 7), uint8_t(y * 5), uint8_t(x ^ y)});
  return img;
}

// Counts its calls per (format, quality) and is slow, so that concurrent callers overlap.
struct CountingEncoder {
  std::mutex mutex;
  std::map<std::pair<image::Format, int>, int> calls;
  PreviewImage::Encoder encoder() {
    return [this](const image::Image& img, image::Format format, int quality) {
      {
        std::lock_guard lock(mutex);
        ++calls[{format, quality}];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return std::vector<uint8_t>{uint8_t(format), uint8_t(quality), uint8_t(img.width)};
    };
  }
};

TEST(PreviewImage, EncodesOncePerFormatUnderConcurrentCallers) {
  CountingEncoder counter;
  const PreviewImage preview(gradient(16, 8), counter.encoder());
  const std::pair<image::Format, int> wanted[] = {
      {image::Format::jpeg, 80}, {image::Format::jpeg, 90}, {image::Format::webp, 80}, {image::Format::png, 80}};
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::map<std::pair<image::Format, int>, std::set<const std::vector<uint8_t>*>> seen;
  std::atomic<bool> go{false};
  for (int t = 0; t < 32; ++t)
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      const auto [format, quality] = wanted[t % 4];
      const auto bytes = preview.encoded(format, quality);
      std::lock_guard lock(mutex);
      seen[{format, quality}].insert(bytes.get());
    });
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.calls.size(), 4u);
  for (const auto& [key, calls] : counter.calls) EXPECT_EQ(calls, 1) << "format " << int(key.first) << " quality " << key.second;
  for (const auto& [key, pointers] : seen) EXPECT_EQ(pointers.size(), 1u) << "every caller shares one encoding";
  EXPECT_EQ(*preview.encoded(image::Format::jpeg, 90), (std::vector<uint8_t>{uint8_t(image::Format::jpeg), 90, 16}));
  // PNG has no quality: any quality reuses the one PNG encoding.
  preview.encoded(image::Format::png, 10);
  EXPECT_EQ(counter.calls.size(), 4u);
}

TEST(PreviewImage, AFailedEncodingIsRetried) {
  int calls = 0;
  const PreviewImage preview(gradient(4, 4), [&](const image::Image&, image::Format, int) -> std::vector<uint8_t> {
    if (++calls == 1) throw std::runtime_error("codec busy");
    return {1, 2, 3};
  });
  EXPECT_THROW(preview.encoded(image::Format::jpeg, 80), std::runtime_error);
  EXPECT_EQ(*preview.encoded(image::Format::jpeg, 80), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(calls, 2);
}

TEST(PreviewImage, DefaultEncoderWritesRealImages) {
  const auto rgb = gradient(24, 16);
  const PreviewImage preview(rgb);
  EXPECT_EQ(preview.rgb().pixels, rgb.pixels);
  EXPECT_EQ(preview.width(), 24);
  EXPECT_EQ(image::decode_png(*preview.encoded(image::Format::png, 80)).pixels, rgb.pixels);
  EXPECT_EQ(image::decode_webp(*preview.encoded(image::Format::webp, 100)).pixels, rgb.pixels);  // lossless
  const auto jpeg = preview.encoded(image::Format::jpeg, 85);
  const auto decoded = image::decode_jpeg(*jpeg);
  EXPECT_EQ(decoded.width, 24);
  EXPECT_EQ(decoded.height, 16);
  EXPECT_EQ(preview.encoded(image::Format::jpeg, 85), jpeg);  // the same bytes, not a second encoding
}

}  // namespace
}  // namespace darkroom::preview
