#pragma once
// Resizing for previews: fit under a size cap, and enlarge the 1/8-size latent2rgb previews.
#include "darkroom/image/image.hpp"

namespace darkroom::image {

// Scales `image` down so its longer side is max_side, keeping the aspect ratio (the shorter side rounds
// to the nearest pixel, at least 1). Each output pixel is the area-weighted average of the source pixels
// it covers (a box filter with fractional edges, as PIL's BOX and OpenCV's INTER_AREA), so no source
// pixel is skipped and there is no aliasing. Never upscales: an image that fits is returned as is.
// Alpha is averaged like the colours. Throws std::invalid_argument for max_side < 1 or a bad image.
Image resize_to_fit(const Image& image, int max_side);

// Repeats every pixel factor x factor times. Throws std::invalid_argument for factor < 1, a bad image, or
// a result side above 16384.
Image upscale_nearest(const Image& image, int factor);

}  // namespace darkroom::image
