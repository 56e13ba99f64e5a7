// darkroom's model config beside a single file: read back as written, every bad field named, and applied
// by open_model together with a fitted preview table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "darkroom/io/error.hpp"
#include "darkroom/io/model_config.hpp"
#include "darkroom/io/model_source.hpp"
#include "support/golden.hpp"

namespace darkroom::io {
namespace {

namespace fs = std::filesystem;

class ModelConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darkroom-model-config-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "m.vocab.json") << "{}";
    std::ofstream(dir_ / "m.merges.txt") << "#version: 0.2\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& text) {
    const auto file = dir_ / "m.json";
    std::ofstream(file) << text;
    return file;
  }

  void expect_error(const std::string& text, const std::string& needle) {
    SCOPED_TRACE(text);
    try {
      read_model_config(write(text));
      ADD_FAILURE() << "accepted";
    } catch (const ModelFileError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(ModelConfigTest, ReadsBackWhatItWrites) {
  ModelConfig config;
  config.prediction = Prediction::v_prediction;
  config.vae_scaling_factor = 0.625;
  config.image_size = 64;
  config.tokenizer = ModelConfig::Tokenizer{dir_ / "m.vocab.json", dir_ / "m.merges.txt", 131};
  config.noise_schedule = {true, "trailing"};
  config.guidance_scale = 3.0;
  const auto file = dir_ / "m.json";
  write_model_config(file, config);
  const auto back = read_model_config(file);
  EXPECT_EQ(back.prediction, Prediction::v_prediction);
  EXPECT_EQ(back.vae_scaling_factor, 0.625);
  EXPECT_EQ(back.image_size, 64);
  ASSERT_TRUE(back.tokenizer);
  EXPECT_EQ(back.tokenizer->vocab_json, dir_ / "m.vocab.json");
  EXPECT_EQ(back.tokenizer->merges_txt, dir_ / "m.merges.txt");
  EXPECT_EQ(back.tokenizer->pad_token, 131);
  EXPECT_TRUE(back.noise_schedule.rescale_betas_zero_snr);
  EXPECT_EQ(back.noise_schedule.timestep_spacing, "trailing");
  EXPECT_EQ(back.guidance_scale, 3.0);

  const auto empty = read_model_config(write(R"({"format": "darkroom.model", "version": 1})"));
  EXPECT_FALSE(empty.prediction || empty.vae_scaling_factor || empty.image_size || empty.tokenizer);
  EXPECT_FALSE(empty.noise_schedule.rescale_betas_zero_snr || empty.noise_schedule.timestep_spacing);
  EXPECT_FALSE(empty.guidance_scale);
  EXPECT_EQ(model_config_path("/models/a.b.safetensors"), fs::path("/models/a.b.json"));
}

TEST_F(ModelConfigTest, NamesWhatIsWrong) {
  expect_error("{", "not valid JSON");
  expect_error(R"({"version": 1})", "darkroom.model");
  expect_error(R"({"format": "darkroom.model", "version": 2})", "'version'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "prediction": "x0"})", "'prediction'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "vae_scaling_factor": "big"})", "'vae_scaling_factor'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "vae_scaling_factor": -1})", "'vae_scaling_factor'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "image_size": 60})", "'image_size'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "tokenizer": []})", "'tokenizer'");
  expect_error(R"({"format": "darkroom.model", "version": 1,
                   "tokenizer": {"vocab": "gone.json", "merges": "m.merges.txt", "pad_token": 1}})", "gone.json");
  expect_error(R"({"format": "darkroom.model", "version": 1,
                   "tokenizer": {"vocab": "../m.vocab.json", "merges": "m.merges.txt", "pad_token": 1}})",
               "'tokenizer.vocab'");
  expect_error(R"({"format": "darkroom.model", "version": 1,
                   "tokenizer": {"vocab": "m.vocab.json", "merges": "m.merges.txt"}})", "'tokenizer.pad_token'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "rescale_betas_zero_snr": "yes"})", "'rescale_betas_zero_snr'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "timestep_spacing": "spread"})", "'timestep_spacing'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "guidance_scale": "low"})", "'guidance_scale'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "guidance_scale": -2})", "'guidance_scale'");
  // Unknown fields are named, at any depth: a misspelt setting is never silently ignored.
  expect_error(R"({"format": "darkroom.model", "version": 1, "guidance": 2})", "'guidance'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "unet": {"head_count": 8}})", "'unet.head_count'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "text_encoder": {"heads": 4, "layers": 3}})",
               "'text_encoder.layers'");
  expect_error(R"({"format": "darkroom.model", "version": 1,
                   "tokenizer": {"vocab": "m.vocab.json", "merges": "m.merges.txt", "pad_token": 1, "pad": 2}})",
               "'tokenizer.pad'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "text_encoder": 4})", "'text_encoder'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "text_encoder": {}})", "'text_encoder.heads'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "text_encoder_2": {"heads": 0}})", "'text_encoder_2.heads'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "unet": {"heads": 8, "head_dim": 64}})", "'unet'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "unet": {}})", "'unet'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "unet": {"heads": [8, 2.5]}})", "'unet.heads'");
  expect_error(R"({"format": "darkroom.model", "version": 1, "unet": {"head_dim": []}})", "'unet.head_dim'");
}

TEST_F(ModelConfigTest, HeadsReadBackAsWritten) {
  ModelConfig config;
  config.heads.text_encoder = 12;
  config.heads.text_encoder_2 = 20;
  config.heads.unet_head_dim = {64};
  write_model_config(dir_ / "m.json", config);
  auto back = read_model_config(dir_ / "m.json");
  EXPECT_EQ(back.heads.text_encoder, 12);
  EXPECT_EQ(back.heads.text_encoder_2, 20);
  EXPECT_EQ(back.heads.unet_head_dim, std::vector<int64_t>{64});
  EXPECT_TRUE(back.heads.unet_heads.empty());

  config.heads.unet_head_dim.clear();
  config.heads.unet_heads = {5, 10, 20};
  write_model_config(dir_ / "m.json", config);
  back = read_model_config(dir_ / "m.json");
  EXPECT_EQ(back.heads.unet_heads, (std::vector<int64_t>{5, 10, 20}));
}

// Checkpoints of the golden layouts whose heads are not the golden ones (nor any convention's): the
// model config is what says how they split, for each text encoder and the UNet.
TEST_F(ModelConfigTest, HeadsComeFromTheModelConfig) {
  const auto sd1 = dir_ / "sd1.safetensors";
  fs::create_symlink(golden::path("checkpoints/sd1_tiny.safetensors"), sd1);
  std::ofstream(dir_ / "sd1.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 2}, "unet": {"heads": [4, 2, 2, 8]}})";
  const auto a = open_model(sd1);
  EXPECT_EQ(a.text_config.heads, 2);
  EXPECT_EQ(a.unet_config.num_heads, (std::vector<int64_t>{4, 2, 2, 8}));

  const auto sdxl = dir_ / "sdxl.safetensors";
  fs::create_symlink(golden::path("checkpoints/sdxl_tiny.safetensors"), sdxl);
  std::ofstream(dir_ / "sdxl.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 8}, "text_encoder_2": {"heads": 2}, "unet": {"head_dim": 8}})";
  const auto b = open_model(sdxl);
  EXPECT_EQ(b.family, ModelFamily::sdxl);
  EXPECT_EQ(b.text_config.heads, 8);
  ASSERT_TRUE(b.text_encoder_2);
  EXPECT_EQ(b.text_encoder_2->config.heads, 2);
  EXPECT_EQ(b.unet_config.num_heads, (std::vector<int64_t>{4, 4, 8}));

  // --model-config: another file than the one beside the checkpoint.
  std::ofstream(dir_ / "other.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "text_encoder_2": {"heads": 4}, "unet": {"head_dim": 16}})";
  const auto c = open_model(sdxl, OpenOptions{dir_ / "other.json"});
  EXPECT_EQ(c.text_config.heads, 4);
  EXPECT_EQ(c.unet_config.num_heads, (std::vector<int64_t>{2, 2, 4}));
  EXPECT_THROW(open_model(sdxl, OpenOptions{dir_ / "missing.json"}), ModelFileError);

  // Heads that do not divide a width, and heads for an encoder the model does not have, are refused.
  std::ofstream(dir_ / "sd1.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 3}, "unet": {"heads": 8}})";
  EXPECT_THROW(open_model(sd1), ModelFileError);
  std::ofstream(dir_ / "sd1.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "text_encoder_2": {"heads": 4}, "unet": {"heads": 8}})";
  EXPECT_THROW(open_model(sd1), ModelFileError);
  // The SDXL UNet's 32-channel levels do not split into the convention's 64-channel heads.
  std::ofstream(dir_ / "sdxl.json") << R"({"format": "darkroom.model", "version": 1,
      "text_encoder": {"heads": 4}, "text_encoder_2": {"heads": 4}})";
  try {
    open_model(sdxl);
    ADD_FAILURE() << "guessed the UNet's heads";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("\"head_dim\""), std::string::npos) << e.what();
  }
}

TEST_F(ModelConfigTest, OpenModelAppliesTheConfigAndFindsThePreviewTable) {
  const auto checkpoint = dir_ / "m.safetensors";
  fs::copy_file(golden::path("checkpoints/sd1_tiny.safetensors"), checkpoint);
  // The tiny model's heads fit no convention: without a config it is refused, naming what to give.
  try {
    open_model(checkpoint);
    ADD_FAILURE() << "opened a model whose heads no file gives";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("{\"text_encoder\": {\"heads\": N}}"), std::string::npos) << e.what();
  }
  const std::string heads = R"("text_encoder": {"heads": 4}, "unet": {"heads": 8})";
  write(R"({"format": "darkroom.model", "version": 1, )" + heads + "}");
  const auto plain = open_model(checkpoint);
  EXPECT_EQ(plain.image_size, 512);
  EXPECT_FALSE(plain.tokenizer);
  EXPECT_FALSE(plain.latent2rgb_table);

  write(R"({"format": "darkroom.model", "version": 1, "prediction": "v_prediction", "vae_scaling_factor": 0.5,
            "image_size": 64, "tokenizer": {"vocab": "m.vocab.json", "merges": "m.merges.txt", "pad_token": 7}, )" +
        heads + "}");
  std::ofstream(dir_ / "m.latent2rgb.json") << "{}";
  const auto configured = open_model(checkpoint);
  EXPECT_EQ(configured.unet_config.prediction, Prediction::v_prediction);
  EXPECT_EQ(configured.vae_config.scaling_factor, 0.5);
  EXPECT_EQ(configured.image_size, 64);
  ASSERT_TRUE(configured.tokenizer);
  EXPECT_EQ(configured.tokenizer->vocab_json, dir_ / "m.vocab.json");
  EXPECT_EQ(configured.pad_token, 7);
  EXPECT_EQ(configured.latent2rgb_table, dir_ / "m.latent2rgb.json");
  EXPECT_FALSE(configured.noise_schedule.rescale_betas_zero_snr);

  EXPECT_FALSE(configured.guidance_scale);

  write(R"({"format": "darkroom.model", "version": 1, "rescale_betas_zero_snr": true, "timestep_spacing": "trailing",
            "guidance_scale": 2.5, )" + heads + "}");
  const auto zero_snr = open_model(checkpoint);
  EXPECT_TRUE(zero_snr.noise_schedule.rescale_betas_zero_snr);
  EXPECT_EQ(zero_snr.noise_schedule.timestep_spacing, "trailing");
  EXPECT_EQ(zero_snr.guidance_scale, 2.5);

  write(R"({"format": "darkroom.model", "version": 1, "image_size": "big"})");
  EXPECT_THROW(open_model(checkpoint), ModelFileError);  // a broken config is an error, not ignored
}

}  // namespace
}  // namespace darkroom::io
