// init images arrive from clients: damaged or hostile PNG data must give an error, never a crash or an
// unbounded allocation.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>

#include "darkroom/image/png.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto image = darkroom::image::decode_png(std::span<const uint8_t>(data, size));
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) std::abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
