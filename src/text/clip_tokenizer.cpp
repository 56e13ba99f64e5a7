// SimpleTokenizer.encode/decode: the pre-tokenizing regex, byte-level BPE, and the fixed-length inputs.
#include "darkroom/text/clip_tokenizer.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>

#include "unicode.hpp"

namespace darkroom::text {
namespace {

enum class CharClass { kSpace, kLetter, kNumber, kOther, kUnmatched };

CharClass classify(char32_t c) {
  // Quirk of the `regex` module under IGNORECASE: U+0345 COMBINING GREEK YPOGEGRAMMENI is not \p{L}, yet it
  // is excluded from [^\s\p{L}\p{N}] because its case variants (U+0399, U+03B9) are letters. No alternative
  // matches it, so findall skips it like whitespace (checked against regex 2026.5.9).
  if (c == 0x345) return CharClass::kUnmatched;
  if (detail::is_regex_space(c)) return CharClass::kSpace;
  if (detail::is_letter(c)) return CharClass::kLetter;
  if (detail::is_number(c)) return CharClass::kNumber;
  return CharClass::kOther;
}

// Case-insensitive match of an ASCII literal of the pattern. The text is lower-case already, so the only
// other character IGNORECASE equates with a pattern letter is U+017F LATIN SMALL LETTER LONG S (~ 's').
bool literal_at(std::u32string_view text, size_t pos, std::string_view literal) {
  if (text.size() - pos < literal.size()) return false;
  for (size_t i = 0; i < literal.size(); ++i) {
    const char32_t c = text[pos + i];
    if (c != static_cast<char32_t>(literal[i]) && !(literal[i] == 's' && c == 0x17F)) return false;
  }
  return true;
}

// re.findall with
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (IGNORECASE): at each position the first alternative that matches wins, each greedy.
std::vector<std::u32string_view> split_words(std::u32string_view text) {
  static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  std::vector<std::u32string_view> words;
  const auto run_end = [&](size_t i, CharClass cls) {
    while (i < text.size() && classify(text[i]) == cls) ++i;
    return i;
  };
  for (size_t i = 0; i < text.size();) {
    size_t end = i;
    for (std::string_view special : {ClipTokenizer::kStartOfText, ClipTokenizer::kEndOfText}) {
      if (end == i && literal_at(text, i, special)) end = i + special.size();
    }
    for (std::string_view contraction : kContractions) {
      if (end == i && literal_at(text, i, contraction)) end = i + contraction.size();
    }
    if (end == i) {
      const CharClass cls = classify(text[i]);
      if (cls == CharClass::kSpace || cls == CharClass::kUnmatched) {
        ++i;
        continue;
      }
      end = cls == CharClass::kNumber ? i + 1 : run_end(i, cls);
    }
    words.push_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

}  // namespace

const ClipTokenizer::Merge* ClipTokenizer::find_merge(int32_t left, int32_t right) const {
  const auto it =
      merges_.find(static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right));
  return it == merges_.end() ? nullptr : &it->second;
}

// SimpleTokenizer.bpe on the word's bytes, on ids instead of strings (the vocabulary maps every symbol to
// one id and back). Python repeatedly takes the lowest-ranked adjacent pair and merges all its
// occurrences left to right; a heap of candidate pairs does the same in O(n log n), so a huge
// unbroken word in an untrusted prompt costs little.
void ClipTokenizer::bpe(std::string_view word, std::vector<int64_t>& out) const {
  struct Symbol {
    int32_t id;    // -1 once merged into its left neighbour
    int32_t next;  // index of the next live symbol, -1 at the end
    int32_t prev;
  };
  const auto n = static_cast<int32_t>(word.size());
  std::vector<Symbol> symbols(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    const auto byte = static_cast<uint8_t>(word[static_cast<size_t>(i)]);
    symbols[i] = {i + 1 < n ? byte_id_[byte] : byte_end_id_[byte], i + 1 < n ? i + 1 : -1, i - 1};
  }

  struct Candidate {
    int32_t rank, left, left_id, right_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  const auto push = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    const int32_t right = symbols[left].next;
    if (const Merge* m = find_merge(symbols[left].id, symbols[right].id)) {
      heap.push({m->rank, left, symbols[left].id, symbols[right].id});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);

  std::vector<Candidate> batch;
  while (!heap.empty()) {
    // Every occurrence of the best pair, in text order; later entries may be stale or overlap.
    batch.clear();
    const int32_t rank = heap.top().rank;
    while (!heap.empty() && heap.top().rank == rank) {
      batch.push_back(heap.top());
      heap.pop();
    }
    for (const Candidate& c : batch) {
      Symbol& left = symbols[c.left];
      if (left.id != c.left_id || left.next < 0 || symbols[left.next].id != c.right_id) continue;
      Symbol& right = symbols[left.next];
      left.id = find_merge(c.left_id, c.right_id)->result;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = c.left;
      right.id = -1;
      push(left.prev);
      push(c.left);
    }
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

std::vector<std::string> pre_tokenize(std::string_view text) {
  const std::u32string cleaned = detail::clean_and_lower(text);
  std::vector<std::string> words;
  for (std::u32string_view word : split_words(cleaned)) words.push_back(detail::encode_utf8(word));
  return words;
}

std::vector<int64_t> ClipTokenizer::encode(std::string_view text) const {
  const std::u32string cleaned = detail::clean_and_lower(text);
  std::vector<int64_t> ids;
  std::string bytes;
  for (std::u32string_view word : split_words(cleaned)) {
    bytes = detail::encode_utf8(word);
    // SimpleTokenizer's bpe cache is seeded with the two special tokens, which map to themselves.
    if (bytes == kStartOfText) {
      ids.push_back(bos_);
    } else if (bytes == kEndOfText) {
      ids.push_back(eos_);
    } else {
      bpe(bytes, ids);
    }
  }
  return ids;
}

std::string ClipTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    const auto it = decoder_.find(id);
    if (it == decoder_.end()) {
      throw std::out_of_range("ClipTokenizer::decode: token id " + std::to_string(id) +
                              " is not in the vocabulary");
    }
    bytes += it->second;
  }
  std::string text = detail::encode_utf8(detail::decode_utf8(bytes));
  std::string out;
  out.reserve(text.size());
  constexpr std::string_view kEndOfWord = "</w>";
  for (size_t i = 0; i < text.size();) {
    if (std::string_view(text).substr(i, kEndOfWord.size()) == kEndOfWord) {
      out.push_back(' ');
      i += kEndOfWord.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

std::vector<int64_t> ClipTokenizer::pad(const std::vector<int64_t>& ids, int64_t pad_id, int context) const {
  if (context < 2) {
    throw std::invalid_argument("ClipTokenizer::pad: context " + std::to_string(context) +
                                " leaves no room for BOS and EOS");
  }
  const size_t kept = std::min(ids.size(), static_cast<size_t>(context - 2));
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(context));
  out.push_back(bos_);
  out.insert(out.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kept));
  out.push_back(eos_);
  out.resize(static_cast<size_t>(context), pad_id);
  return out;
}

std::vector<std::vector<int64_t>> ClipTokenizer::windows(std::string_view text, int64_t pad_id,
                                                         int context) const {
  if (context < 3) {
    throw std::invalid_argument("ClipTokenizer::windows: context " + std::to_string(context) +
                                " leaves no room for tokens");
  }
  const std::vector<int64_t> ids = encode(text);
  const auto width = static_cast<size_t>(context - 2);
  std::vector<std::vector<int64_t>> out;
  size_t start = 0;
  do {
    const size_t end = std::min(ids.size(), start + width);
    out.push_back(pad(
        {ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end)},
        pad_id, context));
    start = end;
  } while (start < ids.size());
  return out;
}

}  // namespace darkroom::text
