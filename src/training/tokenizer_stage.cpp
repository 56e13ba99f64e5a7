// The caption vocabulary: BPE learned from generated captions, so every word of the grammar is one token.
#include <cstdio>

#include "darkroom/scenes/caption.hpp"
#include "darkroom/text/bpe_learning.hpp"
#include "darkroom/training/trainer.hpp"
#include "training_files.hpp"

namespace darkroom::training {

void train_tokenizer(const TrainOptions& options) {
  const TrainingFiles files(options.work_dir);
  if (std::filesystem::exists(files.vocab_json) && std::filesystem::exists(files.merges_txt)) return;
  constexpr int kCaptions = 20000;  // every word of the grammar occurs many times over
  std::vector<std::string> corpus;
  corpus.reserve(kCaptions);
  for (uint64_t i = 0; i < kCaptions; ++i) corpus.push_back(scenes::example_for_seed(i).caption);
  const auto merges = text::learn_bpe(corpus);
  text::write_bpe_tokenizer(merges, files.vocab_json, files.merges_txt);
  std::printf("tokenizer: %zu merges from %d captions\n", merges.size(), kCaptions);
}

}  // namespace darkroom::training
