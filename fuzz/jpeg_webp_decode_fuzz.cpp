// Preview and init images may arrive as JPEG or WebP from clients: damaged or hostile data must give an
// error, never a crash or an unbounded allocation. Every decoder sees every input; each refuses the other
// formats at their signature, and libFuzzer finds both. Decoding uses the server's default limits (a request
// asks for at most 2048x2048); scripts/fuzz.sh runs this target with a malloc limit that a decode near
// 16384x16384 breaks, so an oversized image must be refused from its header, before its pixels are
// allocated. What decodes must have the size probe() reads from the header.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/probe.hpp"
#include "darkroom/image/webp.hpp"

namespace {

using darkroom::image::Format;
using darkroom::image::Image;
using darkroom::image::ImageInfo;

constexpr darkroom::image::DecodeLimits kLimits{2048, 2048};
// decode_webp_animation has no limits parameter: it keeps every frame at the canvas size, up to 1 GiB,
// beyond fuzz.sh's -rss_limit_mb. This bounds what one input may decode to.
constexpr size_t kMaxAnimationBytes = size_t{128} << 20;

void check(const Image& image, int width, int height) {
  if (image.width != width || image.height != height || image.channels != 3 ||
      image.pixels.size() != static_cast<size_t>(width) * height * 3)
    std::abort();
}

void check_still(const Image& image, const std::optional<ImageInfo>& info, Format format) {
  if (!info || info->format != format || image.width > kLimits.max_width || image.height > kLimits.max_height)
    std::abort();
  check(image, info->width, info->height);
}

// Each frame needs an ANMF chunk, so counting the name anywhere in the data bounds the frame count.
bool animation_fits(std::span<const uint8_t> bytes, const ImageInfo& info) {
  if (info.format != Format::webp || info.width > kLimits.max_width || info.height > kLimits.max_height)
    return false;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  size_t frames = 1;
  for (auto at = text.find("ANMF"); at != text.npos; at = text.find("ANMF", at + 4)) ++frames;
  return frames * 3 * static_cast<size_t>(info.width) * info.height <= kMaxAnimationBytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  std::optional<ImageInfo> info;
  try {
    info = darkroom::image::probe(bytes);
  } catch (const std::runtime_error&) {
  }
  try {
    check_still(darkroom::image::decode_jpeg(bytes, kLimits), info, Format::jpeg);
  } catch (const std::runtime_error&) {
  }
  try {
    check_still(darkroom::image::decode_webp(bytes, kLimits), info, Format::webp);
  } catch (const std::runtime_error&) {
  }
  if (!info || !animation_fits(bytes, *info)) return 0;
  try {
    const auto animation = darkroom::image::decode_webp_animation(bytes);
    if (animation.width != info->width || animation.height != info->height) std::abort();
    for (const auto& frame : animation.frames) check(frame.image, animation.width, animation.height);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
