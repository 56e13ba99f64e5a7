// init images arrive from clients: damaged or hostile PNG data must give an error, never a crash or an
// unbounded allocation. Decoding uses the server's default limits (a request asks for at most 2048x2048);
// scripts/fuzz.sh runs this target with a malloc limit that a decode near 16384x16384 breaks, so an
// oversized image must be refused from its header, before its pixels are allocated. What decodes must
// have the size probe() reads from the header.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <stdexcept>

#include "darkroom/image/png.hpp"
#include "darkroom/image/probe.hpp"

namespace {

using darkroom::image::Format;

constexpr darkroom::image::DecodeLimits kLimits{2048, 2048};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  std::optional<darkroom::image::ImageInfo> info;
  try {
    info = darkroom::image::probe(bytes);
  } catch (const std::runtime_error&) {
  }
  try {
    const auto image = darkroom::image::decode_png(bytes, kLimits);
    if (!info || info->format != Format::png || image.width != info->width || image.height != info->height ||
        image.width > kLimits.max_width || image.height > kLimits.max_height ||
        image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
      std::abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
