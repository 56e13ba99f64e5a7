#include "darkroom/text/bpe_learning.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "byte_symbols.hpp"
#include "darkroom/text/clip_tokenizer.hpp"

namespace darkroom::text {
namespace {

using Symbols = std::vector<std::string>;

Symbols byte_level_symbols(const std::string& word, const detail::ByteSymbols& bytes) {
  Symbols symbols;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const auto byte = static_cast<uint8_t>(word[i]);
    symbols.push_back(detail::symbol_utf8(bytes.symbol[byte], i + 1 == word.size() ? "</w>" : ""));
  }
  return symbols;
}

void merge_pair(Symbols& symbols, const std::pair<std::string, std::string>& pair) {
  Symbols out;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (i + 1 < symbols.size() && symbols[i] == pair.first && symbols[i + 1] == pair.second) {
      out.push_back(pair.first + pair.second);
      ++i;
    } else {
      out.push_back(symbols[i]);
    }
  }
  symbols = std::move(out);
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error(path.string() + ": cannot be written");
}

}  // namespace

BpeMerges learn_bpe(const std::vector<std::string>& corpus, std::size_t max_merges) {
  const auto bytes = detail::byte_symbols();
  std::map<std::string, int64_t> word_counts;
  for (const auto& text : corpus)
    for (const auto& word : pre_tokenize(text))
      if (word != ClipTokenizer::kStartOfText && word != ClipTokenizer::kEndOfText) ++word_counts[word];
  std::vector<std::pair<Symbols, int64_t>> words;
  for (const auto& [word, count] : word_counts) words.emplace_back(byte_level_symbols(word, bytes), count);

  BpeMerges merges;
  while (merges.size() < max_merges) {
    std::map<std::pair<std::string, std::string>, int64_t> pair_counts;
    for (const auto& [symbols, count] : words)
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i) pair_counts[{symbols[i], symbols[i + 1]}] += count;
    if (pair_counts.empty()) break;
    auto best = pair_counts.begin();
    for (auto it = pair_counts.begin(); it != pair_counts.end(); ++it)
      if (it->second > best->second) best = it;  // strictly greater: the smallest pair wins a tie
    merges.push_back(best->first);
    for (auto& [symbols, count] : words) merge_pair(symbols, best->first);
  }
  return merges;
}

void write_bpe_tokenizer(const BpeMerges& merges, const std::filesystem::path& vocab_json,
                         const std::filesystem::path& merges_txt) {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  const auto encoder = detail::clip_vocabulary(merges);
  std::vector<std::pair<int64_t, std::string>> by_id;
  for (const auto& [token, id] : encoder) by_id.emplace_back(id, token);
  std::sort(by_id.begin(), by_id.end());
  for (const auto& [id, token] : by_id) vocab[token] = id;
  write_file(vocab_json, vocab.dump());

  std::string lines = "#version: 0.2\n";
  for (const auto& [left, right] : merges) lines += left + " " + right + "\n";
  write_file(merges_txt, lines);
}

}  // namespace darkroom::text
