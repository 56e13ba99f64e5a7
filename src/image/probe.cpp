#include "darkroom/image/probe.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "checks.hpp"
#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "header.hpp"

namespace darkroom::image {
namespace {

bool has_prefix(std::span<const uint8_t> bytes, std::string_view magic, std::size_t offset = 0) {
  return bytes.size() >= offset + magic.size() && std::memcmp(bytes.data() + offset, magic.data(), magic.size()) == 0;
}

// The signatures each decoder itself insists on.
std::optional<Format> format_of(std::span<const uint8_t> bytes) {
  if (has_prefix(bytes, "\x89PNG\r\n\x1a\n")) return Format::png;
  if (has_prefix(bytes, "\xFF\xD8\xFF")) return Format::jpeg;
  if (has_prefix(bytes, "RIFF") && has_prefix(bytes, "WEBP", 8)) return Format::webp;
  return std::nullopt;
}

Format known_format(std::span<const uint8_t> bytes) {
  const auto format = format_of(bytes);
  if (!format) throw std::runtime_error("not a PNG, JPEG or WebP image (it starts with none of their signatures)");
  return *format;
}

detail::Size header_size(std::span<const uint8_t> bytes, Format format) {
  switch (format) {
    case Format::png: return detail::png_size(bytes, "PNG data");
    case Format::jpeg: return detail::jpeg_size(bytes);
    case Format::webp: return detail::webp_size(bytes);
  }
  throw std::logic_error("probe: unknown format " + std::to_string(static_cast<int>(format)));
}

std::string size_text(int width, int height) { return std::to_string(width) + "x" + std::to_string(height); }

}  // namespace

void detail::check_size(const std::string& source, Size size, const DecodeLimits& limits) {
  const int max_width = std::min(limits.max_width, kMaxSide);
  const int max_height = std::min(limits.max_height, kMaxSide);
  if (size.width > max_width || size.height > max_height)
    throw std::runtime_error(source + ": the image is " + size_text(size.width, size.height) + ", larger than the " +
                             size_text(max_width, max_height) + " allowed");
}

ImageInfo probe(std::span<const uint8_t> bytes) {
  const Format format = known_format(bytes);
  const auto size = header_size(bytes, format);
  return {format, size.width, size.height};
}

// The decoders read the header again and check it against `limits` before they allocate; probing here
// first would only parse it twice.
Image decode(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  const Format format = known_format(bytes);
  switch (format) {
    case Format::png: return decode_png(bytes, limits);
    case Format::jpeg: return decode_jpeg(bytes, limits);
    case Format::webp: return decode_webp(bytes, limits);
  }
  throw std::logic_error("decode: unknown format " + std::to_string(static_cast<int>(format)));
}

}  // namespace darkroom::image
