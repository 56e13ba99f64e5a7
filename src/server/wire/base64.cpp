#include "darkroom/server/base64.hpp"

#include <array>
#include <cctype>
#include <stdexcept>

namespace darkroom::server::base64 {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;
constexpr int8_t kSpace = -2;

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  for (char c : {' ', '\t', '\n', '\r', '\f', '\v'}) table[static_cast<uint8_t>(c)] = kSpace;
  return table;
}
constexpr auto kTable = make_table();

// prefix: lower case. Media types and the "base64" marker are case-insensitive (RFC 2397).
bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

std::string describe(uint8_t c) {
  if (c >= 0x20 && c < 0x7f) return "'" + std::string(1, static_cast<char>(c)) + "'";
  constexpr std::string_view kHex = "0123456789abcdef";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
}

}  // namespace

std::string encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (rest == 2 ? uint32_t{bytes[i + 1]} << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::vector<uint8_t> decode(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  std::size_t symbols = 0;  // alphabet characters so far
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c == '=') {
      ++padding;
      continue;
    }
    const int8_t value = kTable[c];
    if (value == kSpace) continue;
    if (value == kInvalid)
      throw std::invalid_argument("invalid base64: " + describe(c) + " at offset " + std::to_string(i));
    if (padding > 0) throw std::invalid_argument("invalid base64: '=' padding before the end");
    bits = (bits << 6) | static_cast<uint32_t>(value);
    if (++symbols % 4 == 0) {
      out.push_back(static_cast<uint8_t>(bits >> 16));
      out.push_back(static_cast<uint8_t>(bits >> 8));
      out.push_back(static_cast<uint8_t>(bits));
      bits = 0;
    }
  }
  const std::size_t tail = symbols % 4;
  if (tail == 1) throw std::invalid_argument("invalid base64: truncated (4n + 1 characters)");
  if (padding > 0 && (padding > 2 || tail + padding != 4))
    throw std::invalid_argument("invalid base64: wrong amount of '=' padding");
  if (tail == 2) out.push_back(static_cast<uint8_t>(bits >> 4));
  if (tail == 3) {
    out.push_back(static_cast<uint8_t>(bits >> 10));
    out.push_back(static_cast<uint8_t>(bits >> 2));
  }
  return out;
}

std::vector<uint8_t> decode_data_url_or_base64(std::string_view text) {
  if (!starts_with_ignoring_case(text, "data:")) return decode(text);
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) throw std::invalid_argument("data URL without ',' before its data");
  const std::string_view header = text.substr(0, comma);
  constexpr std::string_view kMarker = ";base64";
  if (header.size() < kMarker.size() ||
      !starts_with_ignoring_case(header.substr(header.size() - kMarker.size()), kMarker))
    throw std::invalid_argument("data URL must be base64 (data:<type>;base64,...)");
  return decode(text.substr(comma + 1));
}

}  // namespace darkroom::server::base64
