#pragma once
// JPEG through libjpeg-turbo's libjpeg API: the small, fast format for previews on the wire.
#include <cstdint>
#include <span>
#include <vector>

#include "darkroom/image/image.hpp"
#include "darkroom/image/probe.hpp"

namespace darkroom::image {

// Baseline JPEG, 4:2:0 chroma, at libjpeg quality 0..100 (0 is stored as 1, the lowest libjpeg has).
// RGBA images are encoded without their alpha. Throws std::invalid_argument for a quality outside 0..100,
// an empty or inconsistent image, or a side above 65500 (the JPEG limit).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 85);

// Decodes a baseline or progressive JPEG (gray or YCbCr) to RGB8. Damaged data is an error, not a partly
// gray image: every libjpeg warning (a truncated file, corrupt entropy data) throws std::runtime_error, as do
// a size beyond `limits` or a side above 16384 (refused before any pixel is allocated), more than 500
// progressive scans and CMYK files.
Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

}  // namespace darkroom::image
