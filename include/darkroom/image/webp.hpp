#pragma once
// WebP through libwebp: smaller than JPEG at the same quality, and animated, so a client can watch an
// image develop from one file (`--preview-anim`).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "darkroom/image/image.hpp"
#include "darkroom/image/probe.hpp"

namespace darkroom::image {

// quality 0..99: lossy (VP8) at that libwebp quality; 100: lossless (VP8L), pixels exactly as given, alpha
// included. Throws std::invalid_argument for a quality outside 0..100, an empty or inconsistent image or
// a side above 16383 (the WebP limit); std::runtime_error if libwebp fails.
std::vector<uint8_t> encode_webp(const Image& image, int quality = 80);

// Decodes a still WebP (lossy or lossless) to RGB8, alpha dropped, as decode_png does. Damaged or
// truncated data, animated files and a size beyond `limits` (refused before any pixel is allocated) throw
// std::runtime_error.
Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

// An animated WebP built frame by frame (libwebpmux's WebPAnimEncoder), looping forever. Frames are RGB or
// RGBA images of the canvas size, encoded as encode_webp would at `quality`; the encoder stores only
// the rectangle that changed, and a frame identical to the one before becomes a longer showing of it.
class WebpAnimation {
 public:
  // Throws std::invalid_argument for a canvas side outside 1..16383 or a quality outside 0..100.
  WebpAnimation(int width, int height, int quality = 80);
  ~WebpAnimation();
  WebpAnimation(WebpAnimation&&) noexcept;
  WebpAnimation& operator=(WebpAnimation&&) noexcept;

  // Shows `frame` for duration_ms (1..16777215, the longest a WebP frame lasts). Throws
  // std::invalid_argument for a frame of another size, a bad image or duration, std::logic_error after
  // finish() or on a moved-from object, std::runtime_error if libwebp fails.
  void add_frame(const Image& frame, int duration_ms);
  int frame_count() const;
  // The finished file. Throws std::logic_error when no frame was added or finish() already ran.
  std::vector<uint8_t> finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct WebpFrame {
  Image image;  // RGB8, the whole canvas as shown at this frame
  int duration_ms = 0;
};
struct WebpAnimationData {
  int width = 0;   // canvas
  int height = 0;
  int loop_count = 0;  // 0: forever
  std::vector<WebpFrame> frames;
};
// Decodes every frame of an animated WebP (a still WebP is one frame). Damaged data, a canvas side above
// 16384 or more than 1 GiB of decoded frames throws std::runtime_error.
WebpAnimationData decode_webp_animation(std::span<const uint8_t> bytes);

}  // namespace darkroom::image
