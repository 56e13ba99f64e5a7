#include "darkroom/models/clip_text.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "darkroom/io/clip_layout.hpp"
#include "darkroom/io/safetensors.hpp"
#include "support/golden.hpp"

namespace darkroom::models {
namespace {

// manifest.json: the tiny CLIPs split their 32 channels into 4 heads, which no tensor records.
constexpr int64_t kTinyHeads = 4;

using Activation = io::ClipTextConfig::Activation;

struct ClipCase {
  std::string name;
  std::string weights_file;
  std::string prefix;
  Activation activation;
  std::string golden_file;
};

std::ostream& operator<<(std::ostream& os, const ClipCase& c) { return os << c.name; }

io::WeightIndex weights_of(const ClipCase& c) {
  return io::WeightIndex::of(io::SafetensorsFile::open(golden::path(c.weights_file))).under(c.prefix);
}

void expect_close(const std::string& what, const torch::Tensor& actual, const torch::Tensor& expected) {
  const auto c = golden::closeness(actual, expected);
  std::cout << "[ golden ] " << what << ": rel_l2 " << c.rel_l2 << " max_abs " << c.max_abs << "\n";
  EXPECT_TRUE(golden::component_close(actual, expected)) << what;
}

class ClipGolden : public ::testing::TestWithParam<ClipCase> {
 protected:
  static void SetUpTestSuite() { at::set_num_threads(2); }
};

TEST_P(ClipGolden, MatchesEveryOutput) {
  const auto& param = GetParam();
  const auto hf = io::clip_text_to_hf(weights_of(param));
  const auto config = io::clip_config_from_weights(hf, param.activation, kTinyHeads);
  auto model = load_clip_text(hf, config);
  auto golden = golden::load(param.golden_file);

  const auto out = model->forward(golden.at("input_ids"));
  ASSERT_EQ(out.hidden_states.size(), static_cast<std::size_t>(config.layers + 1));
  for (int64_t i = 0; i <= config.layers; ++i) {
    const auto name = "hidden_state_" + std::to_string(i);
    expect_close(param.name + " " + name, out.hidden_states[i], golden.at(name));
  }
  expect_close(param.name + " last_hidden_state", out.last_hidden_state, golden.at("last_hidden_state"));
  expect_close(param.name + " conditioning(clip_skip 1)", model->conditioning(out, 1), golden.at("last_hidden_state"));
  expect_close(param.name + " penultimate_hidden_state", out.raw_hidden_state(2),
               golden.at("penultimate_hidden_state"));
  expect_close(param.name + " penultimate_hidden_state_ln", model->conditioning(out, 2),
               golden.at("penultimate_hidden_state_ln"));
  expect_close(param.name + " pooler_output", out.pooled, golden.at("pooler_output"));
  if (config.projection_dim > 0) {
    expect_close(param.name + " text_embeds", out.text_embeds, golden.at("text_embeds"));
  } else {
    EXPECT_FALSE(out.text_embeds.defined());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, ClipGolden,
    ::testing::Values(
        ClipCase{"quickgelu_sd1_checkpoint_hf", "checkpoints/sd1_tiny.safetensors", "cond_stage_model.transformer.",
                 Activation::quick_gelu, "clip_text/clip_tiny_quickgelu.golden.safetensors"},
        ClipCase{"quickgelu_sdxl_checkpoint_hf", "checkpoints/sdxl_tiny.safetensors",
                 "conditioner.embedders.0.transformer.", Activation::quick_gelu,
                 "clip_text/clip_tiny_quickgelu.golden.safetensors"},
        ClipCase{"quickgelu_openai", "models/clip_tiny_quickgelu.openai.safetensors", "", Activation::quick_gelu,
                 "clip_text/clip_tiny_quickgelu.golden.safetensors"},
        ClipCase{"gelu_sdxl_checkpoint_openclip", "checkpoints/sdxl_tiny.safetensors", "conditioner.embedders.1.model.",
                 Activation::gelu, "clip_text/clip_tiny_gelu.golden.safetensors"},
        ClipCase{"gelu_hf_with_projection", "models/clip_tiny_gelu.hf.safetensors", "", Activation::gelu,
                 "clip_text/clip_tiny_gelu.golden.safetensors"}),
    [](const auto& info) { return info.param.name; });

TEST(ClipText, ShorterInputUsesLeadingPositions) {
  const auto hf = io::clip_text_to_hf(
      io::WeightIndex::of(io::SafetensorsFile::open(golden::path("models/clip_tiny_gelu.hf.safetensors"))));
  auto model = load_clip_text(hf, io::clip_config_from_weights(hf, Activation::gelu, kTinyHeads));
  auto golden = golden::load("clip_text/clip_tiny_gelu.golden.safetensors");
  // Causal attention: the first 20 positions do not see what follows them.
  const auto out = model->forward(golden.at("input_ids").slice(1, 0, 20));
  expect_close("gelu first 20 tokens", out.raw_hidden_state(1),
               golden.at("hidden_state_3").slice(1, 0, 20).contiguous());
}

TEST(ClipText, RejectsBadInputAndClipSkip) {
  const auto hf = io::clip_text_to_hf(
      io::WeightIndex::of(io::SafetensorsFile::open(golden::path("models/clip_tiny_gelu.hf.safetensors"))));
  auto model = load_clip_text(hf, io::clip_config_from_weights(hf, Activation::gelu, kTinyHeads));
  EXPECT_THROW(model->forward(torch::zeros({1, 78}, torch::kLong)), std::invalid_argument);
  EXPECT_THROW(model->forward(torch::zeros({77}, torch::kLong)), std::invalid_argument);
  const auto out = model->forward(torch::zeros({1, 5}, torch::kLong));
  EXPECT_THROW(model->conditioning(out, 0), std::invalid_argument);
  EXPECT_THROW(model->conditioning(out, 4), std::invalid_argument);
  EXPECT_NO_THROW(model->conditioning(out, 3));
}

TEST(ClipText, MissingTensorIsNamed) {
  auto hf = io::clip_text_to_hf(
      io::WeightIndex::of(io::SafetensorsFile::open(golden::path("checkpoints/sd1_tiny.safetensors")))
          .under("cond_stage_model.transformer."));
  const auto config = io::clip_config_from_weights(hf, Activation::quick_gelu, kTinyHeads);
  hf.erase("text_model.encoder.layers.1.mlp.fc2.weight");
  try {
    load_clip_text(hf, config);
    FAIL() << "expected ModelFileError";
  } catch (const io::ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("text_model.encoder.layers.1.mlp.fc2.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sd1_tiny.safetensors"), std::string::npos) << e.what();
  }
}

TEST(ClipText, ModuleNamesAreHfKeys) {
  const auto hf =
      io::WeightIndex::of(io::SafetensorsFile::open(golden::path("models/clip_tiny_gelu.hf.safetensors")));
  ClipTextModel model(io::clip_config_from_weights(hf, Activation::gelu, kTinyHeads));
  const auto params = model->named_parameters();
  EXPECT_EQ(params.size(), hf.size());
  for (const auto& item : params) EXPECT_TRUE(hf.contains(item.key())) << item.key();
}

}  // namespace
}  // namespace darkroom::models
