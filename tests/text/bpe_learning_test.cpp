// A learned vocabulary reads back through the CLIP tokenizer and spells every corpus word as one token.
#include <gtest/gtest.h>

#include <filesystem>

#include "darkroom/text/bpe_learning.hpp"
#include "darkroom/text/clip_tokenizer.hpp"

namespace darkroom::text {
namespace {

namespace fs = std::filesystem;

ClipTokenizer round_trip(const BpeMerges& merges, const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("darkroom_bpe_" + name);
  fs::create_directories(dir);
  write_bpe_tokenizer(merges, dir / "vocab.json", dir / "merges.txt");
  auto tokenizer = ClipTokenizer::from_vocab_and_merges(dir / "vocab.json", dir / "merges.txt");
  fs::remove_all(dir);
  return tokenizer;
}

TEST(BpeLearning, EveryCorpusWordBecomesOneToken) {
  const std::vector<std::string> corpus{"a large red circle at the top left", "two small yellow squares",
                                        "a red square on a blue background"};
  const auto merges = learn_bpe(corpus);
  const auto tokenizer = round_trip(merges, "words");
  EXPECT_EQ(tokenizer.vocab_size(), 512 + merges.size() + 2);
  EXPECT_EQ(tokenizer.bos_id(), static_cast<int64_t>(512 + merges.size()));
  EXPECT_EQ(tokenizer.eos_id(), tokenizer.bos_id() + 1);
  for (const auto& caption : corpus) {
    const auto ids = tokenizer.encode(caption);
    EXPECT_EQ(ids.size(), pre_tokenize(caption).size()) << caption;
    EXPECT_EQ(tokenizer.decode(ids), caption + " ");
  }
  // Words outside the corpus still encode, from the byte symbols and the merges they share.
  const auto unknown = tokenizer.encode("a purple circles");
  EXPECT_GT(unknown.size(), 3u);
  EXPECT_EQ(tokenizer.decode(unknown), "a purple circles ");
}

TEST(BpeLearning, MergesTheMostFrequentPairFirstAndStopsWhenAsked) {
  const auto merges = learn_bpe({"ab ab ab cd"});
  ASSERT_EQ(merges.size(), 2u);
  EXPECT_EQ(merges[0], (std::pair<std::string, std::string>{"a", "b</w>"}));
  EXPECT_EQ(merges[1], (std::pair<std::string, std::string>{"c", "d</w>"}));
  EXPECT_EQ(learn_bpe({"ab ab ab cd"}, 1).size(), 1u);
  EXPECT_EQ(learn_bpe({"ab cd"}), learn_bpe({"ab cd"}));  // deterministic ties
  EXPECT_TRUE(learn_bpe({}).empty());
}

}  // namespace
}  // namespace darkroom::text
