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
}

TEST_F(ModelConfigTest, OpenModelAppliesTheConfigAndFindsThePreviewTable) {
  const auto checkpoint = dir_ / "m.safetensors";
  fs::copy_file(golden::path("checkpoints/sd1_tiny.safetensors"), checkpoint);
  const auto plain = open_model(checkpoint);
  EXPECT_EQ(plain.image_size, 512);
  EXPECT_FALSE(plain.tokenizer);
  EXPECT_FALSE(plain.latent2rgb_table);

  write(R"({"format": "darkroom.model", "version": 1, "prediction": "v_prediction", "vae_scaling_factor": 0.5,
            "image_size": 64, "tokenizer": {"vocab": "m.vocab.json", "merges": "m.merges.txt", "pad_token": 7}})");
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
            "guidance_scale": 2.5})");
  const auto zero_snr = open_model(checkpoint);
  EXPECT_TRUE(zero_snr.noise_schedule.rescale_betas_zero_snr);
  EXPECT_EQ(zero_snr.noise_schedule.timestep_spacing, "trailing");
  EXPECT_EQ(zero_snr.guidance_scale, 2.5);

  write(R"({"format": "darkroom.model", "version": 1, "image_size": "big"})");
  EXPECT_THROW(open_model(checkpoint), ModelFileError);  // a broken config is an error, not ignored
}

}  // namespace
}  // namespace darkroom::io
