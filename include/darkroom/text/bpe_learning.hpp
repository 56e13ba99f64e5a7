#pragma once
// Learning a small CLIP-format BPE vocabulary from a corpus. A model trained on a narrow language (the
// embedded model's scene captions) needs a few hundred tokens, not CLIP's 49,408; the files written here
// read back through ClipTokenizer::from_vocab_and_merges like any Hugging Face CLIP tokenizer.
#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace darkroom::text {

using BpeMerges = std::vector<std::pair<std::string, std::string>>;

// Classic BPE (Sennrich et al.) over the pre-tokenized words of the corpus, on CLIP's byte-level symbols
// with "</w>" on each word's last symbol: repeatedly merge the most frequent adjacent pair (ties: the
// smaller pair, so the result is deterministic) until every word is one token or max_merges are made.
BpeMerges learn_bpe(const std::vector<std::string>& corpus,
                    std::size_t max_merges = std::numeric_limits<std::size_t>::max());

// vocab.json (CLIP's id order: bytes, bytes + </w>, merges, <|startoftext|>, <|endoftext|>) and merges.txt
// ("#version: 0.2" header, one merge per line). Throws std::runtime_error naming a file it cannot write.
void write_bpe_tokenizer(const BpeMerges& merges, const std::filesystem::path& vocab_json,
                         const std::filesystem::path& merges_txt);

}  // namespace darkroom::text
