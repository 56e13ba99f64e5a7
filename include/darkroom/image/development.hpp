#pragma once
// An image's development as one animated WebP: its previews in order, then the final image, on one canvas.
// `darkroom generate --preview-anim` writes one; `darkroom serve` makes one for a job that asks.
#include <cstdint>
#include <vector>

#include "darkroom/image/image.hpp"

namespace darkroom::image {

struct DevelopmentOptions {
  int max_side = 0;         // the canvas: the final image's size, scaled down to fit this side (0: as it is)
  int quality = 80;         // of every frame, as encode_webp takes it
  int frame_ms = 150;       // each preview
  int final_frame_ms = 1500;  // the final image, before the loop starts again
};

// `frame` on a canvas of width x height: shrunk to fit when larger, else enlarged by the largest whole
// factor that fits (previews are often 1/8 of the image, or capped by preview.max_size), the remainder
// black. Throws std::invalid_argument for an empty frame or canvas.
Image fit_to_canvas(const Image& frame, int width, int height);

// The animation; previews may be empty (the final image alone). Throws as WebpAnimation does.
std::vector<uint8_t> encode_development(const std::vector<Image>& previews, const Image& final_image,
                                        const DevelopmentOptions& options);

}  // namespace darkroom::image
