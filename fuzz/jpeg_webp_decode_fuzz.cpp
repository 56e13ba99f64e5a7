// Preview and init images may arrive as JPEG or WebP from clients: damaged or hostile data must give an
// error, never a crash or an unbounded allocation. Every decoder sees every input; each refuses the other
// formats at their signature, and libFuzzer finds both.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/webp.hpp"

namespace {

void check(const darkroom::image::Image& image, int width, int height) {
  if (image.width != width || image.height != height || image.channels != 3 ||
      image.pixels.size() != static_cast<size_t>(width) * height * 3)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    const auto image = darkroom::image::decode_jpeg(bytes);
    check(image, image.width, image.height);
  } catch (const std::runtime_error&) {
  }
  try {
    const auto image = darkroom::image::decode_webp(bytes);
    check(image, image.width, image.height);
  } catch (const std::runtime_error&) {
  }
  try {
    const auto animation = darkroom::image::decode_webp_animation(bytes);
    for (const auto& frame : animation.frames) check(frame.image, animation.width, animation.height);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
