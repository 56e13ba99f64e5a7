#pragma once
// CLIP's byte-level BPE tokenizer, a port of openai/CLIP clip/simple_tokenizer.py (SimpleTokenizer), which
// diffusers' CLIPTokenizer and OpenCLIP's tokenizer reproduce. One difference: ftfy.fix_text is not applied
// (the golden ids are the no-ftfy ids; prompts with curly quotes, ligatures or fullwidth letters can differ
// from a front-end that runs ftfy).
//
// Input is UTF-8. Invalid UTF-8 never fails: each maximal invalid subsequence becomes U+FFFD, exactly as
// Python's bytes.decode("utf-8", errors="replace") does.
//
// Prompts longer than kMaxPromptBytes are rejected with std::length_error (a guard for untrusted input;
// CLIP reads 75 tokens per window).
//
// A tokenizer is immutable once built; every const method may be called from several threads at once.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace darkroom::text {

// SimpleTokenizer's cleaning, as UTF-8: html.unescape twice, strip, whitespace runs -> one space, lower().
std::string normalize_prompt(std::string_view text);

// normalize_prompt, then SimpleTokenizer's pre-tokenizing pattern: the words (UTF-8) that BPE runs on.
std::vector<std::string> pre_tokenize(std::string_view text);

class ClipTokenizer {
 public:
  static constexpr int64_t kBos = 49406, kEos = 49407;
  static constexpr std::string_view kStartOfText = "<|startoftext|>", kEndOfText = "<|endoftext|>";
  static constexpr int kContext = 77;
  static constexpr size_t kMaxPromptBytes = size_t{1} << 24;

  // OpenAI's bpe_simple_vocab_16e6.txt.gz: merges are lines 1..48894, the vocab is built from them as
  // simple_tokenizer.py does (256 byte symbols, the same with </w>, one token per merge, then the two
  // special tokens). Throws std::runtime_error naming the file if it is missing, not gzip, or malformed.
  static ClipTokenizer from_bpe_file(const std::filesystem::path& gz);

  // A diffusers / Hugging Face tokenizer folder: vocab.json (token -> id) and merges.txt ("#version" header
  // line, then one "a b" merge per line, in rank order). Throws std::runtime_error naming the file and
  // problem.
  static ClipTokenizer from_vocab_and_merges(const std::filesystem::path& vocab_json,
                                             const std::filesystem::path& merges_txt);

  // BPE ids of the normalised text: no BOS/EOS, no truncation. A literal <|startoftext|> or <|endoftext|>
  // in the prompt becomes the special id, as in SimpleTokenizer.
  std::vector<int64_t> encode(std::string_view text) const;

  // As SimpleTokenizer.decode: concatenated token bytes decoded with errors="replace", "</w>" -> " ".
  // Throws std::out_of_range for an id that is not in the vocabulary.
  std::string decode(const std::vector<int64_t>& ids) const;

  // Fixed-length model input: [BOS] + ids[:context-2] + [EOS], then pad_id up to `context`.
  // SD1 / SDXL text_encoder pad with eos_id() (49407), SD2 / SDXL text_encoder_2 (OpenCLIP) pad with 0.
  std::vector<int64_t> pad(const std::vector<int64_t>& ids, int64_t pad_id, int context = kContext) const;

  // Long prompts: encode(text) split into consecutive windows of context-2 ids, each padded as pad() does
  // (the caller concatenates the windows' embeddings, as A1111 / ComfyUI do). At least one window, even
  // for an empty prompt. Throws std::invalid_argument for context < 3.
  std::vector<std::vector<int64_t>> windows(std::string_view text, int64_t pad_id,
                                            int context = kContext) const;

  int64_t bos_id() const { return bos_; }
  int64_t eos_id() const { return eos_; }
  // Number of tokens (ids need not be dense for a vocab.json).
  size_t vocab_size() const { return decoder_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // id of the concatenated token
  };
  // encoder: token (byte-level unicode, UTF-8) -> id. merges: in rank order. source names the file(s)
  // in error messages.
  ClipTokenizer(const std::unordered_map<std::string, int64_t>& encoder,
                const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source);

  void bpe(std::string_view word_bytes, std::vector<int64_t>& out) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  std::array<int32_t, 256> byte_id_{};          // byte -> id of its symbol
  std::array<int32_t, 256> byte_end_id_{};      // byte -> id of its symbol + "</w>" (last symbol of a word)
  std::unordered_map<uint64_t, Merge> merges_;  // key: left id << 32 | right id
  std::unordered_map<int64_t, std::string> decoder_;  // id -> token bytes (byte-level unicode undone)
  int64_t bos_ = kBos, eos_ = kEos;
};

}  // namespace darkroom::text
