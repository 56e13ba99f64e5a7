// UTF-8 <-> UTF-32 with CPython's error handling, so that an invalid prompt is cleaned the way Python
// would clean the string it decodes from those bytes with errors="replace".
#include <cstdint>

#include "unicode.hpp"

namespace darkroom::text::detail {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one scalar value starting at bytes[i]; returns the number of bytes consumed. On an invalid
// sequence the count covers its maximal subpart (at least 1 byte), `out` is U+FFFD and `valid` false.
size_t decode_one(std::string_view bytes, size_t i, char32_t& out, bool& valid) {
  valid = false;
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(bytes[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    out = b0;
    valid = true;
    return 1;
  }
  // Length and the allowed range of the second byte (Unicode table 3-7, well-formed byte sequences):
  // the narrowed ranges exclude overlong forms, surrogates and values above U+10FFFF.
  size_t length = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    out = kReplacement;
    return 1;
  }
  char32_t value = b0 & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    const bool ok =
        i + k < bytes.size() && byte(i + k) >= (k == 1 ? lo : 0x80) && byte(i + k) <= (k == 1 ? hi : 0xBF);
    if (!ok) {
      out = kReplacement;
      return k;
    }
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  out = value;
  valid = true;
  return length;
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string text;
  text.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    char32_t c = 0;
    bool valid = false;
    i += decode_one(bytes, i, c, valid);
    text.push_back(c);
  }
  return text;
}

bool is_valid_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    char32_t c = 0;
    bool valid = false;
    i += decode_one(bytes, i, c, valid);
    if (!valid) return false;
  }
  return true;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

}  // namespace darkroom::text::detail
