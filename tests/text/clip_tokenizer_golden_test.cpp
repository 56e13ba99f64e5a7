// Every case of tokenizer/tokenizer_golden.json (SimpleTokenizer without ftfy), through both loaders:
// OpenAI's bpe_simple_vocab_16e6.txt.gz and a vocab.json + merges.txt pair written from it.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "darkroom/text/clip_tokenizer.hpp"
#include "support/golden.hpp"

namespace darkroom::text {
namespace {

struct Case {
  std::string text, normalized_text, decoded;
  std::vector<int64_t> bpe_ids, sd1_input_ids, sd2_input_ids;
};

const std::vector<Case>& golden_cases() {
  static const std::vector<Case> cases = [] {
    std::ifstream in(golden::path("tokenizer/tokenizer_golden.json"));
    const nlohmann::json doc = nlohmann::json::parse(in);
    std::vector<Case> out;
    for (const auto& c : doc.at("cases")) {
      out.push_back({c.at("text"), c.at("normalized_text"), c.at("decoded"), c.at("bpe_ids"),
                     c.at("sd1_input_ids"), c.at("sd2_input_ids")});
    }
    return out;
  }();
  return cases;
}

std::filesystem::path bpe_gz() { return golden::path("clip/bpe_simple_vocab_16e6.txt.gz"); }

const ClipTokenizer& openai_tokenizer() {
  static const ClipTokenizer tokenizer = ClipTokenizer::from_bpe_file(bpe_gz());
  return tokenizer;
}

void expect_matches_golden(const ClipTokenizer& tok) {
  ASSERT_EQ(golden_cases().size(), 41u);
  for (const Case& c : golden_cases()) {
    SCOPED_TRACE("prompt: " + c.text);
    const std::vector<int64_t> ids = tok.encode(c.text);
    EXPECT_EQ(ids, c.bpe_ids);
    EXPECT_EQ(tok.pad(ids, ClipTokenizer::kEos), c.sd1_input_ids);
    EXPECT_EQ(tok.pad(ids, 0), c.sd2_input_ids);
    EXPECT_EQ(tok.decode(c.bpe_ids), c.decoded);
  }
}

TEST(ClipTokenizerGolden, BpeFileMatchesEveryCase) { expect_matches_golden(openai_tokenizer()); }

TEST(ClipTokenizerGolden, NormalizedText) {
  for (const Case& c : golden_cases()) EXPECT_EQ(normalize_prompt(c.text), c.normalized_text) << c.text;
}

TEST(ClipTokenizerGolden, SpecialIds) {
  const ClipTokenizer& tok = openai_tokenizer();
  EXPECT_EQ(tok.bos_id(), ClipTokenizer::kBos);
  EXPECT_EQ(tok.eos_id(), ClipTokenizer::kEos);
  EXPECT_EQ(tok.vocab_size(), 49408u);
}

// Windows of 75 ids: the first is the golden model input, together they hold every id in order.
TEST(ClipTokenizerGolden, WindowsContinueTheIds) {
  const ClipTokenizer& tok = openai_tokenizer();
  bool saw_several = false;
  for (const Case& c : golden_cases()) {
    SCOPED_TRACE("prompt: " + c.text);
    for (int64_t pad_id : {ClipTokenizer::kEos, int64_t{0}}) {
      const auto windows = tok.windows(c.text, pad_id);
      EXPECT_EQ(windows.front(), pad_id == 0 ? c.sd2_input_ids : c.sd1_input_ids);
      EXPECT_EQ(windows.size(), std::max<size_t>(1, (c.bpe_ids.size() + 74) / 75));
      std::vector<int64_t> joined;
      for (const auto& w : windows) {
        ASSERT_EQ(w.size(), 77u);
        EXPECT_EQ(w.front(), ClipTokenizer::kBos);
        // A literal <|endoftext|> in the prompt is an EOS id inside the window; the real one is last.
        const auto last_id = w.begin() + 1 + std::min<std::ptrdiff_t>(75, c.bpe_ids.size() - joined.size());
        EXPECT_EQ(*last_id, ClipTokenizer::kEos);
        joined.insert(joined.end(), w.begin() + 1, last_id);
        EXPECT_TRUE(std::all_of(last_id + 1, w.end(), [&](int64_t id) { return id == pad_id; }));
      }
      EXPECT_EQ(joined, c.bpe_ids);
      saw_several = saw_several || windows.size() > 1;
    }
  }
  EXPECT_TRUE(saw_several) << "the golden set should contain a prompt longer than one window";
}

TEST(ClipTokenizerGolden, SharedAcrossThreads) {
  const ClipTokenizer& tok = openai_tokenizer();
  std::array<int, 4> failures{};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (const Case& c : golden_cases()) failures[t] += tok.encode(c.text) != c.bpe_ids;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// The Hugging Face files, written the way OpenAI's vocabulary is defined (bytes_to_unicode order, the same
// with </w>, one token per merge, the two special tokens): an independent construction of the vocabulary.
class HuggingFaceFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("darkroom_text_hf_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<std::string> merge_lines() {
    gzFile gz = gzopen(bpe_gz().c_str(), "rb");
    EXPECT_NE(gz, nullptr);
    std::string text;
    std::array<char, 1 << 16> buffer{};
    for (int n; (n = gzread(gz, buffer.data(), buffer.size())) > 0;) text.append(buffer.data(), n);
    gzclose(gz);
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return {lines.begin() + 1, lines.begin() + 1 + 48894};
  }

  void write_files() {
    std::vector<std::string> vocab;
    std::vector<int> printable, others;
    for (int b = 0; b < 256; ++b) {
      ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE ? printable : others).push_back(b);
    }
    const auto utf8 = [](int c) {
      std::string s;
      if (c < 0x80) {
        s.push_back(static_cast<char>(c));
      } else {
        s.push_back(static_cast<char>(0xC0 | (c >> 6)));
        s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
      return s;
    };
    for (int b : printable) vocab.push_back(utf8(b));
    for (size_t k = 0; k < others.size(); ++k) vocab.push_back(utf8(256 + static_cast<int>(k)));
    for (size_t k = 0; k < 256; ++k) vocab.push_back(vocab[k] + "</w>");
    std::ofstream merges(dir_ / "merges.txt");
    merges << "#version: 0.2\n";
    for (const std::string& line : merge_lines()) {
      merges << line << "\n";
      vocab.push_back(line.substr(0, line.find(' ')) + line.substr(line.find(' ') + 1));
    }
    vocab.push_back("<|startoftext|>");
    vocab.push_back("<|endoftext|>");
    nlohmann::json json = nlohmann::json::object();
    for (size_t id = 0; id < vocab.size(); ++id) json[vocab[id]] = id;
    std::ofstream(dir_ / "vocab.json") << json.dump();
  }

  std::filesystem::path dir_;
};

TEST_F(HuggingFaceFiles, VocabAndMergesMatchEveryCase) {
  write_files();
  const ClipTokenizer tok = ClipTokenizer::from_vocab_and_merges(dir_ / "vocab.json", dir_ / "merges.txt");
  EXPECT_EQ(tok.vocab_size(), 49408u);
  EXPECT_EQ(tok.bos_id(), ClipTokenizer::kBos);
  EXPECT_EQ(tok.eos_id(), ClipTokenizer::kEos);
  expect_matches_golden(tok);
}

}  // namespace
}  // namespace darkroom::text
