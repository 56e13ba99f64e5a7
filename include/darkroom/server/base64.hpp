#pragma once
// Base64 (RFC 4648, standard alphabet) for images inside JSON: inline previews, OpenAI b64_json, A1111
// images, and init images that clients send.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace darkroom::server::base64 {

// Padded with '=' to a multiple of 4 characters, no line breaks.
std::string encode(std::span<const uint8_t> bytes);

// Decodes what clients send: padding may be present or left out, and ASCII whitespace is skipped (MIME
// encoders, e.g. Python's base64.encodebytes, wrap lines at 76). Throws std::invalid_argument naming the
// first character outside the alphabet (URL-safe '-' and '_' included), padding before the end, or a
// length that no encoding has (4n + 1 characters).
std::vector<uint8_t> decode(std::string_view text);

// A `data:<mime>;base64,<payload>` URL (what browsers' FileReader and fal send) or bare base64. The media
// type is not checked: callers recognise the bytes by their content. Throws std::invalid_argument for a
// data URL that is not base64 and for what decode() rejects.
std::vector<uint8_t> decode_data_url_or_base64(std::string_view text);

}  // namespace darkroom::server::base64
