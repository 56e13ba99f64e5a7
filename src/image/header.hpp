#pragma once
// Image sizes read from file headers alone, shared by probe() and the decoders, so both report the same
// size and a decoder can refuse an oversized image before it allocates anything for its pixels.
#include <cstdint>
#include <span>
#include <string>

#include "darkroom/image/probe.hpp"

namespace darkroom::image::detail {

struct Size {
  int width;
  int height;
};

// From the IHDR chunk a PNG starts with. Throws std::runtime_error "<source>: ..." (source: "PNG data" or
// a file name) for a missing signature or a damaged or truncated IHDR.
Size png_size(std::span<const uint8_t> bytes, const std::string& source);
// From the frame header (SOFn), read by libjpeg's marker reader, which allocates no pixel or coefficient
// buffers. Throws std::runtime_error "JPEG data: ...".
Size jpeg_size(std::span<const uint8_t> bytes);
// The canvas of a still or animated WebP. Throws std::runtime_error "WebP data: ...".
Size webp_size(std::span<const uint8_t> bytes);

// Throws std::runtime_error "<source>: the image is WxH, larger than the AxB allowed" when a side exceeds
// `limits` or the decoders' own bound, kMaxSide.
void check_size(const std::string& source, Size size, const DecodeLimits& limits);

}  // namespace darkroom::image::detail
