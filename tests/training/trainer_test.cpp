// The trainer end to end at toy size: every stage runs, a stopped stage resumes from its checkpoint and
// keeps its loss log consistent, and the export is a single file that the ordinary loader and sampler run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "darkroom/io/model_source.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/text/clip_tokenizer.hpp"
#include "darkroom/training/architecture.hpp"
#include "darkroom/training/trainer.hpp"

namespace darkroom::training {
namespace {

namespace fs = std::filesystem;

std::vector<int64_t> logged_steps(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "step,loss,learning_rate,seconds");
  std::vector<int64_t> steps;
  while (std::getline(in, line)) steps.push_back(std::stoll(line.substr(0, line.find(','))));
  return steps;
}

TEST(Trainer, StagesResumeAndExportALoadableModel) {
  torch::set_num_threads(2);
  const fs::path work = fs::temp_directory_path() / ("darkroom-train-test-" + std::to_string(::getpid()));
  fs::remove_all(work);
  TrainOptions options;
  options.work_dir = work;
  options.autoencoder = {2, 2, 1e-3, 1};
  options.diffusion = {2, 2, 1e-3, 1};
  options.log_every = 1;
  options.checkpoint_every = 1;
  fs::create_directories(work);

  train_tokenizer(options);
  const auto tokenizer = text::ClipTokenizer::from_vocab_and_merges(work / "vocab.json", work / "merges.txt");
  for (const char* word : {"red", "circle", "triangle", "background", "left"})
    EXPECT_EQ(tokenizer.encode(word).size(), 1u) << word;  // every grammar word is one token

  EXPECT_THROW(train_diffusion(options), std::runtime_error);  // the autoencoder comes first
  ASSERT_TRUE(train_autoencoder(options));
  EXPECT_EQ(logged_steps(work / "autoencoder_loss.csv"), (std::vector<int64_t>{1, 2}));
  options.autoencoder.steps = 3;  // resumes at step 2
  ASSERT_TRUE(train_autoencoder(options));
  EXPECT_EQ(logged_steps(work / "autoencoder_loss.csv"), (std::vector<int64_t>{1, 2, 3}));

  ASSERT_TRUE(train_diffusion(options));
  EXPECT_EQ(logged_steps(work / "diffusion_loss.csv"), (std::vector<int64_t>{1, 2}));
  const auto model = work / "out" / "toy.safetensors";
  export_model(options, model);
  for (const char* file : {"toy.json", "toy.vocab.json", "toy.merges.txt"}) EXPECT_TRUE(fs::exists(work / "out" / file)) << file;

  // The ordinary loader reads the architecture back from the weights and the rest from the config.
  const auto source = io::open_model(model);
  const auto architecture = shapes_architecture(static_cast<int64_t>(tokenizer.vocab_size()), options.prediction);
  EXPECT_EQ(source.family, io::ModelFamily::sd1);
  EXPECT_EQ(source.layout, io::Layout::single_file);
  EXPECT_EQ(source.unet_config, architecture.unet);
  EXPECT_EQ(source.vae_config.block_out_channels, architecture.vae.block_out_channels);
  EXPECT_EQ(source.text_config.width, architecture.text.width);
  EXPECT_EQ(source.text_config.heads, architecture.text.heads);
  EXPECT_EQ(source.text_config.context_length, architecture.text.context_length);
  EXPECT_EQ(source.image_size, 64);
  EXPECT_EQ(source.pad_token, tokenizer.eos_id());
  EXPECT_NE(source.vae_config.scaling_factor, 0.18215);

  pipeline::GenerationRequest request;
  request.prompt = "a red circle";
  request.steps = 2;
  request.seed = 1;
  const auto result = pipeline::StableDiffusion::load(model)->generate(request);
  ASSERT_EQ(result.images.size(), 1u);
  EXPECT_EQ(result.images[0].width, 64);  // the model's own size when the request names none
  fs::remove_all(work);
}

}  // namespace
}  // namespace darkroom::training
