#include "checks.hpp"

#include <stdexcept>
#include <string>

namespace darkroom::image::detail {

void check_image(const Image& image, std::string_view function, int max_side) {
  const std::string who(function);
  const std::string size = std::to_string(image.width) + "x" + std::to_string(image.height);
  if (image.channels != 3 && image.channels != 4)
    throw std::invalid_argument(who + ": an image needs 3 (RGB) or 4 (RGBA) channels, not " +
                                std::to_string(image.channels));
  if (image.width <= 0 || image.height <= 0) throw std::invalid_argument(who + ": image size " + size + " is empty");
  if (image.width > max_side || image.height > max_side)
    throw std::invalid_argument(who + ": image size " + size + " exceeds the largest side this format holds, " +
                                std::to_string(max_side));
  if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels)
    throw std::invalid_argument(who + ": " + std::to_string(image.pixels.size()) + " pixel bytes for a " + size +
                                "x" + std::to_string(image.channels) + " image");
}

void check_quality(int quality, std::string_view function) {
  if (quality < 0 || quality > 100)
    throw std::invalid_argument(std::string(function) + ": quality must be in 0..100, not " + std::to_string(quality));
}

}  // namespace darkroom::image::detail
