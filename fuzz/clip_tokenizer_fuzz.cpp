// Prompts are untrusted text: any bytes must tokenize without crashing, and every window must have the
// model's context length.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "darkroom/text/clip_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto tokenizer =
      darkroom::text::ClipTokenizer::from_bpe_file(DARKROOM_GOLDEN_DIR "/clip/bpe_simple_vocab_16e6.txt.gz");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ids = tokenizer.encode(text);
  (void)tokenizer.decode(ids);
  for (const auto& window : tokenizer.windows(text, 0))
    if (window.size() != darkroom::text::ClipTokenizer::kContext) std::abort();
  (void)darkroom::text::normalize_prompt(text);
  return 0;
}
