#include "darkroom/image/encode.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "checks.hpp"
#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"

namespace darkroom::image {

std::string_view format_name(Format format) {
  switch (format) {
    case Format::png: return "png";
    case Format::jpeg: return "jpeg";
    case Format::webp: return "webp";
  }
  return "?";
}

std::string_view content_type(Format format) {
  switch (format) {
    case Format::png: return "image/png";
    case Format::jpeg: return "image/jpeg";
    case Format::webp: return "image/webp";
  }
  return "application/octet-stream";
}

std::string_view file_extension(Format format) {
  switch (format) {
    case Format::png: return ".png";
    case Format::jpeg: return ".jpg";
    case Format::webp: return ".webp";
  }
  return "";
}

std::optional<Format> parse_format(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (lower == "jpg") return Format::jpeg;
  for (Format format : {Format::png, Format::jpeg, Format::webp})
    if (lower == format_name(format)) return format;
  return std::nullopt;
}

std::vector<uint8_t> encode(const Image& image, Format format, int quality) {
  detail::check_quality(quality, "encode");
  switch (format) {
    case Format::png: return encode_png(image);
    case Format::jpeg: return encode_jpeg(image, quality);
    case Format::webp: return encode_webp(image, quality);
  }
  throw std::invalid_argument("encode: unknown format " + std::to_string(static_cast<int>(format)));
}

}  // namespace darkroom::image
