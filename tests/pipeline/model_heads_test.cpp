// Checkpoints whose attention heads differ from the golden ones and from every convention, as a user's own
// tiny or unusual model would: the model config (single file) or config.json (diffusers folder) is what
// splits them, and the result follows it. Same weights, other heads: other conditioning.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "darkroom/io/error.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {
namespace fs = std::filesystem;
using golden::TinyLayout;

constexpr const char* kPrompt = "a red apple on a wooden table";

class ModelHeads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darkroom-model-heads-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<StableDiffusion> load(const fs::path& model, std::optional<fs::path> config = std::nullopt) {
    LoadOptions options;
    options.vocab = golden::vocab_file();
    options.model_config = config;
    return StableDiffusion::load(model, options);
  }

  // A copy of the tiny SD1 diffusers folder (links) whose config.json files say other heads.
  fs::path diffusers_folder_with_other_heads() {
    const auto folder = dir_ / "sd1-folder";
    fs::copy(golden::tiny_sd1_path(TinyLayout::diffusers_folder), folder,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const auto rewrite = [](const fs::path& file, const char* field, const nlohmann::json& value) {
      std::ifstream in(file);
      auto config = nlohmann::json::parse(in);
      in.close();
      config[field] = value;
      fs::remove(file);  // a link into the golden folder: replace it, never write through it
      std::ofstream(file) << config.dump();
    };
    rewrite(folder / "text_encoder/config.json", "num_attention_heads", 2);
    rewrite(folder / "unet/config.json", "attention_head_dim", nlohmann::json::array({4, 2, 2, 8}));
    return folder;
  }

  fs::path dir_;
};

TEST_F(ModelHeads, SingleFileHeadsFollowTheModelConfig) {
  const auto golden_loop = golden::load("loops/sd1_euler.safetensors");
  const auto model = dir_ / "m.safetensors";
  fs::create_symlink(golden::path("checkpoints/sd1_tiny.safetensors"), model);

  // The golden heads reproduce the reference...
  std::ofstream(dir_ / "m.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "unet": {"heads": 8}})";
  EXPECT_TRUE(golden::component_close(load(model)->encode_prompt(kPrompt), golden_loop.at("prompt_embeds")));

  // ...and the same weights read as 2 heads of 16 channels are another model, which the config says.
  std::ofstream(dir_ / "m.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 2}, "unet": {"heads": [4, 2, 2, 8]}})";
  const auto other = load(model);
  EXPECT_EQ(other->source().text_config.heads, 2);
  EXPECT_EQ(other->source().unet_config.num_heads, (std::vector<int64_t>{4, 2, 2, 8}));
  EXPECT_GT(golden::closeness(other->encode_prompt(kPrompt), golden_loop.at("prompt_embeds")).rel_l2, 1e-3);

  // --model-config: a config elsewhere wins over the one beside the file.
  std::ofstream(dir_ / "golden-heads.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "unet": {"heads": 8}})";
  EXPECT_TRUE(golden::component_close(load(model, dir_ / "golden-heads.json")->encode_prompt(kPrompt),
                                      golden_loop.at("prompt_embeds")));
}

TEST_F(ModelHeads, SdxlSingleFileHeadsFollowTheModelConfig) {
  const auto golden_loop = golden::load("loops/sdxl_euler_neg.safetensors");
  const auto model = dir_ / "xl.safetensors";
  fs::create_symlink(golden::path("checkpoints/sdxl_tiny.safetensors"), model);
  std::ofstream(dir_ / "xl.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "text_encoder_2": {"heads": 2}, "unet": {"head_dim": 8}})";
  const auto other = load(model);
  ASSERT_TRUE(other->source().text_encoder_2);
  EXPECT_EQ(other->source().text_encoder_2->config.heads, 2);
  EXPECT_EQ(other->source().unet_config.num_heads, (std::vector<int64_t>{4, 4, 8}));
  const auto embedding = other->embed_prompt(kPrompt);
  const auto expected = golden_loop.at("encoder_hidden_states").slice(0, 1, 2);
  // te1's half (4 heads, as the golden) matches; te2's half and the pooled output (2 heads) do not.
  EXPECT_TRUE(golden::component_close(embedding.context.slice(2, 0, 32), expected.slice(2, 0, 32)));
  EXPECT_GT(golden::closeness(embedding.context.slice(2, 32, 64), expected.slice(2, 32, 64)).rel_l2, 1e-3);
  EXPECT_GT(golden::closeness(embedding.pooled, golden_loop.at("add_text_embeds").slice(0, 1, 2)).rel_l2, 1e-3);
}

TEST_F(ModelHeads, DiffusersFolderHeadsFollowItsConfigJson) {
  const auto folder = diffusers_folder_with_other_heads();
  const auto model = load(folder);
  EXPECT_EQ(model->source().text_config.heads, 2);
  EXPECT_EQ(model->source().unet_config.num_heads, (std::vector<int64_t>{4, 2, 2, 8}));
  EXPECT_GT(golden::closeness(model->encode_prompt(kPrompt), golden::load("loops/sd1_euler.safetensors").at("prompt_embeds"))
                .rel_l2,
            1e-3);

  // A model config given for a folder may restate its heads, not contradict them.
  std::ofstream(dir_ / "same.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 2}, "unet": {"heads": [4, 2, 2, 8]}})";
  EXPECT_NO_THROW(io::open_model(folder, io::OpenOptions{dir_ / "same.json"}));
  // Beside the folder (as a server's model folders keep it), a config applies without being asked for.
  std::ofstream(dir_ / "sd1-folder.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 2}, "guidance_scale": 3})";
  EXPECT_EQ(io::open_model(folder).guidance_scale, 3.0);
  std::ofstream(dir_ / "contradicts.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}})";
  try {
    io::open_model(folder, io::OpenOptions{dir_ / "contradicts.json"});
    ADD_FAILURE() << "accepted heads that contradict text_encoder/config.json";
  } catch (const io::ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("text_encoder.heads"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace darkroom::pipeline
