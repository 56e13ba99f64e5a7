// Corners of SimpleTokenizer's behaviour beyond the golden prompts. Expected values were produced with
// Python 3.11 (html.unescape, str.lower) and regex 2026.5.9 running clip/simple_tokenizer.py without ftfy.
#include "darkroom/text/clip_tokenizer.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/golden.hpp"

namespace darkroom::text {
namespace {

using Ids = std::vector<int64_t>;

const ClipTokenizer& tokenizer() {
  static const ClipTokenizer tok =
      ClipTokenizer::from_bpe_file(golden::path("clip/bpe_simple_vocab_16e6.txt.gz"));
  return tok;
}

struct Expected {
  std::string text, normalized;
  Ids ids;
};

void expect_all(const std::vector<Expected>& cases) {
  for (const Expected& c : cases) {
    EXPECT_EQ(normalize_prompt(c.text), c.normalized) << c.text;
    EXPECT_EQ(tokenizer().encode(c.text), c.ids) << c.text;
  }
}

TEST(ClipTokenizer, NumericCharacterReferences) {
  expect_all({
      {"&#0;", "\uFFFD", {39802}},
      {"&#13;x", "x", {343}},  // &#13; is kept as \r, then stripped as whitespace
      {"&#128;&#x9F;&#x81;", "€ÿ\u0081", {6309, 127, 379, 126, 479}},  // Windows-1252 reading of C1
      {"&#xD800;", "\uFFFD", {39802}},
      {"&#1;a&#11;b&#xFDD0;c&#x1FFFF;d", "abcd", {596, 4480}},  // invalid code points are dropped
      {"&#1114112;", "\uFFFD", {39802}},
      {"&#99999999999999999999;", "\uFFFD", {39802}},
      {"&#65&#x42;&#X43", "abc", {5334}},
      {"&;", "&;", {5, 282}},
      {"&#;", "&#;", {5, 2, 282}},
      {"&#x;", "&#x;", {5, 258, 343, 282}},
  });
}

TEST(ClipTokenizer, NamedCharacterReferences) {
  expect_all({
      {"&ampfoo", "&foo", {261, 23435}},  // longest legacy prefix, without ';'
      {"&ampfoo;", "&foo;", {261, 23435, 282}},
      {"&amp;amp;", "&", {261}},  // unescaped twice
      {"&notin;", "∉", {17788, 487}},
      {"&notit;", "¬it;", {126, 361, 585, 282}},
      {"&lang;", "⟨", {158, 253, 357}},   // HTML5's value, not HTML4's U+2329
      {"&alpha", "&alpha", {261, 8624}},  // not a legacy name: needs its ';'
      {"&AMP;&COPY", "&©", {5, 5811}},
      {"&" + std::string(40, 'b') + ";",
       "&" + std::string(40, 'b') + ";",
       {261,  1174, 1174, 1174, 1174, 1174, 1174, 1174, 1174, 1174, 1174,
        1174, 1174, 1174, 1174, 1174, 1174, 1174, 1174, 1174, 3529, 282}},
      {"a &eacute b", "a é b", {320, 4166, 321}},
  });
}

TEST(ClipTokenizer, WhitespaceAndCase) {
  expect_all({
      // strip() also removes U+001C..U+001F, the regex's \s does not match them.
      {"\x1c a\x1c"
       "b \x1f",
       "a\x1c"
       "b",
       {320, 472, 321}},
      {"x\u00A0\u3000y\u2028z", "x y z", {343, 344, 345}},
      {"ΟΔΟΣ ΣΑΣ",
       "οδος σας",
       {138, 123, 138, 112, 138, 123, 139, 480, 139, 225, 138, 109, 139, 480}},  // final sigma
      {"İstanbul", "i\u0307stanbul", {328, 16384, 11231}},                       // full case mapping
  });
}

TEST(ClipTokenizer, RegexQuirks) {
  expect_all({
      // IGNORECASE equates U+017F with 's': "'ſ" is a contraction, "<|ſtartoftext|>" a (non-special) match.
      {"it'ſ <|ſtartoftext|>",
       "it'ſ <|ſtartoftext|>",
       {585, 6, 129, 379, 27, 91, 129, 123, 2002, 6659, 18169, 91, 285}},
      {"a\u0345b", "a\u0345b", {320, 321}},  // U+0345 matches no alternative and is dropped
      {"!<|endoftext|>", "!<|endoftext|>", {0, 27, 347, 40786, 4160, 91, 285}},  // "!<|" is one run
      {"x<|endoftext|>y", "x<|endoftext|>y", {343, 49407, 344}},
      {"'''s", "'''s", {6, 8445, 338}},
  });
}

TEST(ClipTokenizer, InvalidUtf8BecomesReplacementCharacters) {
  // Each maximal invalid subsequence is one U+FFFD, as bytes.decode("utf-8", errors="replace").
  expect_all({
      {"\xE0\x80", "\uFFFD\uFFFD", {47356, 39802}},
      {"\xF0\x90\x80"
       "a",
       "\uFFFDa",
       {39802, 320}},
      {"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD", {47356, 47356, 39802}},  // an encoded surrogate
      {"\xC0\xAF", "\uFFFD\uFFFD", {47356, 39802}},                   // overlong
      {"\xFF", "\uFFFD", {39802}},
      {"caf\xC3", "caf\uFFFD", {20867, 39802}},
      {"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD", {47356, 47356, 47356, 39802}},  // above U+10FFFF
  });
}

TEST(ClipTokenizer, DecodeReplacesBrokenBytes) {
  // Splitting a multi-byte character across a decode leaves replacement characters, as in Python.
  const Ids ids = tokenizer().encode("🪐");
  EXPECT_EQ(ids, (Ids{558, 103, 494}));
  EXPECT_EQ(tokenizer().decode(ids), "🪐 ");
  EXPECT_EQ(tokenizer().decode({ids.front()}), "\uFFFD");
  EXPECT_THROW(tokenizer().decode({49408}), std::out_of_range);
  EXPECT_THROW(tokenizer().decode({-1}), std::out_of_range);
}

TEST(ClipTokenizer, PadAndWindowBoundaries) {
  const ClipTokenizer& tok = tokenizer();
  const Ids cat = tok.encode("cat");
  ASSERT_EQ(cat.size(), 1u);
  const auto repeat = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "cat ";
    return s;
  };
  EXPECT_EQ(tok.windows(repeat(75), 0).size(), 1u);
  EXPECT_EQ(tok.windows(repeat(150), 0).size(), 2u);
  EXPECT_EQ(tok.windows(repeat(151), 0).size(), 3u);
  const auto last = tok.windows(repeat(151), 0).back();
  EXPECT_EQ(last[0], ClipTokenizer::kBos);
  EXPECT_EQ(last[1], cat[0]);
  EXPECT_EQ(last[2], ClipTokenizer::kEos);
  EXPECT_EQ(last[3], 0);

  EXPECT_EQ(tok.windows("", ClipTokenizer::kEos), std::vector<Ids>{tok.pad({}, ClipTokenizer::kEos)});
  EXPECT_EQ(tok.pad({1, 2, 3}, 0, 4), (Ids{ClipTokenizer::kBos, 1, 2, ClipTokenizer::kEos}));
  EXPECT_EQ(tok.windows("a b c", 0, 4).size(), 2u);
  EXPECT_THROW(tok.pad({}, 0, 1), std::invalid_argument);
  EXPECT_THROW(tok.windows("a", 0, 2), std::invalid_argument);
}

// The prompt is untrusted input: arbitrary bytes must tokenize without crashing, into decodable ids.
TEST(ClipTokenizer, ArbitraryBytesNeverFail) {
  const ClipTokenizer& tok = tokenizer();
  const std::vector<std::string> pieces = {
      "&amp", "&#", "&#x", ";", "<|endoftext|>", "<|startoftext|>", "'s", "\xC3", "\xF0\x9F", "\xE2\x80\x8D",
      "Σ",    " ",  "1",   "a"};
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int parts = static_cast<int>(rng() % 24);
    for (int p = 0; p < parts; ++p) {
      if (rng() % 2 == 0) {
        text += pieces[rng() % pieces.size()];
      } else {
        text.push_back(static_cast<char>(rng() % 256));
      }
    }
    const Ids ids = tok.encode(text);
    EXPECT_NO_THROW(tok.decode(ids));
    EXPECT_FALSE(tok.windows(text, 0).empty());
  }
}

TEST(ClipTokenizer, LongWordsStayFast) {
  // One unbroken 200k-letter word: BPE must not be quadratic on untrusted input.
  const std::string word(200000, 'a');
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = tokenizer().encode(word);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(tokenizer().decode(ids), word + " ");
  EXPECT_LT(seconds, 5.0);
  EXPECT_THROW(tokenizer().encode(std::string(ClipTokenizer::kMaxPromptBytes + 1, 'a')), std::length_error);
}

// Bad files: std::runtime_error naming the file and the problem.
class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("darkroom_text_bad_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  std::filesystem::path write_gz(const std::string& name, const std::string& text) {
    gzFile gz = gzopen((dir_ / name).c_str(), "wb");
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    return dir_ / name;
  }

  template <typename F>
  static void expect_error(F&& load, const std::string& file, const std::string& problem) {
    try {
      load();
      ADD_FAILURE() << "no error for " << file;
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(problem), std::string::npos) << message;
    }
  }

  std::filesystem::path dir_;
};

TEST_F(BadFiles, BpeFile) {
  const auto missing = dir_ / "missing.txt.gz";
  expect_error([&] { ClipTokenizer::from_bpe_file(missing); }, missing.string(), "cannot open");
  const auto plain = write("plain.txt.gz", "#version: 0.2\ni n\n");
  expect_error([&] { ClipTokenizer::from_bpe_file(plain); }, plain.string(), "not a gzip file");

  std::ifstream in(golden::path("clip/bpe_simple_vocab_16e6.txt.gz"), std::ios::binary);
  std::string real((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto truncated = write("truncated.txt.gz", real.substr(0, real.size() / 2));
  expect_error([&] { ClipTokenizer::from_bpe_file(truncated); }, truncated.string(), "corrupt gzip data");
  std::string flipped = real;
  flipped[flipped.size() / 2] ^= 0x55;
  const auto corrupt = write("corrupt.txt.gz", flipped);
  expect_error([&] { ClipTokenizer::from_bpe_file(corrupt); }, corrupt.string(), "corrupt gzip data");

  const auto short_file = write_gz("short.txt.gz", "#version: 0.2\ni n\nt h\n");
  expect_error([&] { ClipTokenizer::from_bpe_file(short_file); }, short_file.string(), "48894 merges");
}

TEST_F(BadFiles, VocabJsonAndMerges) {
  const auto merges = write("merges.txt", "#version: 0.2\ni n\n");
  for (const auto& [json, problem] : std::vector<std::pair<std::string, std::string>>{
           {"{\"a\": 1", "malformed JSON"},
           {"[1, 2]", "expected an object"},
           {"{\"a\": \"x\"}", "is not an integer"},
           {"{\"a\": -3}", "outside 0..2^31-1"},
           {"{\"a\": 0, \"b\": 0}", "used twice"},
           {"{\"a\": 0}", "missing from the vocabulary"},  // no byte symbols
           {"{\"\\u0000\": 0}", "not made of byte-level symbols"},
       }) {
    const auto vocab = write("vocab.json", json);
    expect_error([&] { ClipTokenizer::from_vocab_and_merges(vocab, merges); }, vocab.string(), problem);
  }
  const auto bad_merges = write("bad_merges.txt", "#version: 0.2\ni n x\n");
  const auto vocab = write("vocab.json", "{}");
  expect_error([&] { ClipTokenizer::from_vocab_and_merges(vocab, bad_merges); }, bad_merges.string(),
               "line 2: expected a merge of two symbols");
  expect_error([&] { ClipTokenizer::from_vocab_and_merges(vocab, dir_ / "nope.txt"); }, "nope.txt",
               "cannot open");
}

}  // namespace
}  // namespace darkroom::text
