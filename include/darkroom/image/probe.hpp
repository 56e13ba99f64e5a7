#pragma once
// What an image file is, read from its header before anything is decoded: a few bytes that claim a huge
// image (a decompression bomb) must be refused before the pixels are allocated, not after.
#include <cstdint>
#include <span>

#include "darkroom/image/encode.hpp"
#include "darkroom/image/image.hpp"

namespace darkroom::image {

struct ImageInfo {
  Format format;
  int width;
  int height;
};

// The format (recognised by its magic bytes, not a media type a client may have got wrong) and size, read
// from the header alone: no pixel buffer is allocated. A WebP's size is its canvas. Throws
// std::runtime_error for data that is not PNG, JPEG or WebP, or whose header is damaged or truncated.
ImageInfo probe(std::span<const uint8_t> bytes);

// Size limits for decoding: a header claiming more is refused before any pixel allocation. The decoders'
// own bound of 16384 per side applies whatever these say.
struct DecodeLimits {
  int max_width = 16384;
  int max_height = 16384;
};

// decode_png, decode_jpeg or decode_webp, chosen by the format probe() finds, with `limits`. Throws
// std::runtime_error for data none of them reads and for what the chosen decoder refuses.
Image decode(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

}  // namespace darkroom::image
