#include "darkroom/image/development.hpp"

#include <algorithm>
#include <stdexcept>

#include "darkroom/image/resize.hpp"
#include "darkroom/image/webp.hpp"

namespace darkroom::image {

Image fit_to_canvas(const Image& frame, int width, int height) {
  if (frame.width <= 0 || frame.height <= 0 || width <= 0 || height <= 0)
    throw std::invalid_argument("fit_to_canvas: empty frame or canvas");
  Image out = frame;
  if (out.width > width || out.height > height) out = resize_to_fit(out, std::max(width, height));
  const int factor = std::min(width / out.width, height / out.height);
  if (factor > 1) out = upscale_nearest(out, factor);
  if (out.width == width && out.height == height) return out;
  Image canvas{width, height, out.channels, std::vector<uint8_t>(std::size_t(width) * height * out.channels)};
  for (int y = 0; y < out.height && y < height; ++y)
    std::copy_n(&out.pixels[std::size_t(y) * out.width * out.channels], std::min(out.width, width) * out.channels,
                &canvas.pixels[std::size_t(y) * width * out.channels]);
  return canvas;
}

std::vector<uint8_t> encode_development(const std::vector<Image>& previews, const Image& final_image,
                                        const DevelopmentOptions& options) {
  const Image last = options.max_side > 0 && std::max(final_image.width, final_image.height) > options.max_side
                         ? resize_to_fit(final_image, options.max_side)
                         : final_image;
  WebpAnimation animation(last.width, last.height, options.quality);
  for (const auto& frame : previews) animation.add_frame(fit_to_canvas(frame, last.width, last.height), options.frame_ms);
  animation.add_frame(last, options.final_frame_ms);
  return animation.finish();
}

}  // namespace darkroom::image
