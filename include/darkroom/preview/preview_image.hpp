#pragma once
// One preview as subscribers share it: immutable RGB8 pixels (what the library hands out) plus its encoded
// forms for the wire, each computed on first request and then kept. However many subscribers ask, and from
// however many threads at once, each (format, quality) is encoded exactly once; different formats encode
// concurrently.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "darkroom/image/encode.hpp"
#include "darkroom/image/image.hpp"

namespace darkroom::preview {

class PreviewImage {
 public:
  using Encoder = std::function<std::vector<uint8_t>(const image::Image&, image::Format, int quality)>;

  // encoder: image::encode unless a caller (a test, or a server with its own codecs) supplies another.
  explicit PreviewImage(image::Image rgb, Encoder encoder = image::encode);
  PreviewImage(const PreviewImage&) = delete;
  PreviewImage& operator=(const PreviewImage&) = delete;

  const image::Image& rgb() const { return rgb_; }
  int width() const { return rgb_.width; }
  int height() const { return rgb_.height; }

  // The encoded bytes; PNG ignores quality (every quality shares one encoding). An encoder error
  // propagates to the callers waiting on it, and the next call tries again.
  std::shared_ptr<const std::vector<uint8_t>> encoded(image::Format format, int quality) const;

 private:
  struct Encoding {
    std::once_flag once;
    std::shared_ptr<const std::vector<uint8_t>> bytes;
  };

  image::Image rgb_;
  Encoder encoder_;
  mutable std::mutex mutex_;  // guards the map only; encoding runs outside it
  mutable std::map<std::pair<image::Format, int>, std::shared_ptr<Encoding>> encodings_;
};

}  // namespace darkroom::preview
