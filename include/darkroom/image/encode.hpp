#pragma once
// The wire formats by name: one entry point that encodes an image as the client asked.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "darkroom/image/image.hpp"

namespace darkroom::image {

enum class Format { png, jpeg, webp };

std::string_view format_name(Format format);     // "png" "jpeg" "webp"
std::string_view content_type(Format format);    // "image/png" "image/jpeg" "image/webp"
std::string_view file_extension(Format format);  // ".png" ".jpg" ".webp"
// A name as format_name gives it, or "jpg"; ASCII case is ignored. nullopt for anything else, so the
// caller can name the field in its own error.
std::optional<Format> parse_format(std::string_view name);

// encode_png (no text chunks), encode_jpeg or encode_webp. quality must be in 0..100 for every format,
// although PNG, being lossless, does not use it. Throws what the encoder throws.
std::vector<uint8_t> encode(const Image& image, Format format, int quality);

}  // namespace darkroom::image
