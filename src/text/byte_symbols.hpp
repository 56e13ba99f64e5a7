#pragma once
// Internal to the text layer: CLIP's byte-level symbols and the vocabulary order built from a merge list,
// shared by the tokenizer (reading vocabularies) and the BPE learner (writing them).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace darkroom::text::detail {

using Merges = std::vector<std::pair<std::string, std::string>>;

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes for
// U+0100.., in byte order. Vocabulary order is the printable bytes first, then the others.
struct ByteSymbols {
  std::array<char32_t, 256> symbol{};      // byte -> its character
  std::array<uint8_t, 256> vocab_order{};  // k-th vocabulary entry -> byte
};
ByteSymbols byte_symbols();

// The symbol as UTF-8, with an optional suffix ("</w>").
std::string symbol_utf8(char32_t c, std::string_view suffix = {});

// simple_tokenizer.py's vocabulary: bytes, bytes + </w>, one token per merge, then <|startoftext|> and
// <|endoftext|>; a repeated string keeps its last index, as dict(zip(vocab, range(len(vocab)))) does.
std::unordered_map<std::string, int64_t> clip_vocabulary(const Merges& merges);

}  // namespace darkroom::text::detail
