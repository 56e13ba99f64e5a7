#include "byte_symbols.hpp"

#include "darkroom/text/clip_tokenizer.hpp"
#include "unicode.hpp"

namespace darkroom::text::detail {

ByteSymbols byte_symbols() {
  ByteSymbols b;
  const auto printable = [](int c) {
    return (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
  };
  size_t k = 0;
  for (int c = 0; c < 256; ++c) {
    if (printable(c)) {
      b.symbol[c] = static_cast<char32_t>(c);
      b.vocab_order[k++] = static_cast<uint8_t>(c);
    }
  }
  char32_t next = 256;
  for (int c = 0; c < 256; ++c) {
    if (!printable(c)) {
      b.symbol[c] = next++;
      b.vocab_order[k++] = static_cast<uint8_t>(c);
    }
  }
  return b;
}

std::string symbol_utf8(char32_t c, std::string_view suffix) {
  std::string s;
  append_utf8(s, c);
  s += suffix;
  return s;
}

std::unordered_map<std::string, int64_t> clip_vocabulary(const Merges& merges) {
  const ByteSymbols bytes = byte_symbols();
  std::unordered_map<std::string, int64_t> encoder;
  int64_t next_id = 0;
  for (uint8_t b : bytes.vocab_order) encoder.insert_or_assign(symbol_utf8(bytes.symbol[b]), next_id++);
  for (uint8_t b : bytes.vocab_order) encoder.insert_or_assign(symbol_utf8(bytes.symbol[b], "</w>"), next_id++);
  for (const auto& [left, right] : merges) encoder.insert_or_assign(left + right, next_id++);
  encoder.insert_or_assign(std::string(ClipTokenizer::kStartOfText), next_id++);
  encoder.insert_or_assign(std::string(ClipTokenizer::kEndOfText), next_id++);
  return encoder;
}

}  // namespace darkroom::text::detail
