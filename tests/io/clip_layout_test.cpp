#include "darkroom/io/clip_layout.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "darkroom/io/safetensors_writer.hpp"

#include "support/golden.hpp"

namespace darkroom::io {
namespace {

using Activation = ClipTextConfig::Activation;

WeightIndex open(const char* relative) { return WeightIndex::of(SafetensorsFile::open(golden::path(relative))); }

TEST(ClipLayout, HfIsUnchanged) {
  const auto hf = open("models/clip_tiny_gelu.hf.safetensors");
  const auto converted = clip_text_to_hf(hf);
  EXPECT_EQ(converted.size(), hf.size());
  EXPECT_EQ(converted.find("text_projection.weight")->info, hf.find("text_projection.weight")->info);
}

TEST(ClipLayout, OpenAiIsRenamedSplitAndTransposed) {
  const auto openai = open("models/clip_tiny_quickgelu.openai.safetensors");
  const auto hf = clip_text_to_hf(openai);
  // Same key set as a real HF CLIPTextModelWithProjection, minus position_ids.
  const auto reference = open("models/clip_tiny_gelu.hf.safetensors");
  EXPECT_EQ(hf.size(), reference.size());
  for (const auto& [key, ref] : reference.entries()) {
    ASSERT_TRUE(hf.contains(key)) << key;
    EXPECT_EQ(hf.shape(key), ref.shape()) << key;
  }

  const auto& fused = openai.at("transformer.resblocks.2.attn.in_proj_weight");
  const auto& k = hf.at("text_model.encoder.layers.2.self_attn.k_proj.weight");
  EXPECT_EQ(k.info, fused.info);
  EXPECT_EQ(k.rows_begin, 32);
  EXPECT_EQ(k.rows_end, 64);
  const auto& v_bias = hf.at("text_model.encoder.layers.2.self_attn.v_proj.bias");
  EXPECT_EQ(v_bias.info, openai.at("transformer.resblocks.2.attn.in_proj_bias").info);
  EXPECT_EQ(v_bias.rows_begin, 64);
  EXPECT_TRUE(hf.at("text_projection.weight").transpose);
}

TEST(ClipLayout, UnknownLayoutAndMissingTensorsAreNamed) {
  const auto unet = open("models/unet_sd1_tiny.diffusers.safetensors");
  EXPECT_THROW(clip_text_to_hf(unet), ModelFileError);

  auto openai = open("models/clip_tiny_quickgelu.openai.safetensors");
  openai.erase("transformer.resblocks.1.attn.in_proj_bias");
  try {
    clip_text_to_hf(openai);
    FAIL() << "expected ModelFileError";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("transformer.resblocks.1.attn.in_proj_bias"), std::string::npos);
  }
}

TEST(ClipLayout, ConfigFromWeights) {
  const auto sdxl = open("checkpoints/sdxl_tiny.safetensors");
  // The tiny encoders' 4 heads (manifest.json) are what a model config gives; no tensor records them.
  const auto te1 = clip_config_from_weights(clip_text_to_hf(sdxl.under("conditioner.embedders.0.transformer.")),
                                            Activation::quick_gelu, 4);
  EXPECT_EQ(te1.vocab_size, 49408);
  EXPECT_EQ(te1.context_length, 77);
  EXPECT_EQ(te1.width, 32);
  EXPECT_EQ(te1.heads, 4);
  EXPECT_EQ(te1.layers, 3);
  EXPECT_EQ(te1.intermediate_size, 128);
  EXPECT_EQ(te1.projection_dim, 0);
  EXPECT_EQ(te1.activation, Activation::quick_gelu);

  const auto te2 =
      clip_config_from_weights(clip_text_to_hf(sdxl.under("conditioner.embedders.1.model.")), Activation::gelu, 2);
  EXPECT_EQ(te2.heads, 2);
  EXPECT_EQ(te2.layers, 3);
  EXPECT_EQ(te2.projection_dim, 32);
  EXPECT_EQ(te2.activation, Activation::gelu);
}

TEST(ClipLayout, HeadsAreNeverGuessed) {
  const auto hf = clip_text_to_hf(open("checkpoints/sdxl_tiny.safetensors").under("conditioner.embedders.1.model."));
  // Width 32: the released encoders' 64-channel heads do not fit, and no count is made up.
  try {
    clip_config_from_weights(hf, Activation::gelu, std::nullopt, "text_encoder_2");
    FAIL() << "guessed a head count";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("text_encoder_2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model config"), std::string::npos) << e.what();
  }
  EXPECT_THROW(clip_config_from_weights(hf, Activation::gelu, 3), ModelFileError);  // 32 channels, 3 heads
  EXPECT_THROW(clip_config_from_weights(hf, Activation::gelu, 0), ModelFileError);
}

TEST(ClipLayout, WidthsOf64ChannelHeadsTakeTheConvention) {
  // Only shapes are read: a 128-wide encoder (zeros) has 2 heads unless a config says otherwise.
  const auto file = std::filesystem::temp_directory_path() / ("darkroom-clip-128-" + std::to_string(::getpid()) + ".safetensors");
  const std::vector<std::byte> zeros(512 * 128 * 2);
  const TensorToWrite token{"text_model.embeddings.token_embedding.weight", DType::F16, {100, 128},
                            std::span(zeros).first(100 * 128 * 2)};
  const TensorToWrite position{"text_model.embeddings.position_embedding.weight", DType::F16, {77, 128},
                               std::span(zeros).first(77 * 128 * 2)};
  const TensorToWrite fc1{"text_model.encoder.layers.0.mlp.fc1.weight", DType::F16, {512, 128}, std::span(zeros)};
  write_safetensors(file, {token, position, fc1});
  const auto hf = WeightIndex::of(SafetensorsFile::open(file));
  EXPECT_EQ(clip_config_from_weights(hf, Activation::gelu).heads, 2);
  EXPECT_EQ(clip_config_from_weights(hf, Activation::gelu, 8).heads, 8);
  std::filesystem::remove(file);
}

TEST(ClipLayout, ConfigFromHfJson) {
  const auto hf = open("models/clip_tiny_gelu.hf.safetensors");
  auto json = nlohmann::json{{"vocab_size", 49408},         {"max_position_embeddings", 77},
                             {"hidden_size", 32},           {"num_attention_heads", 4},
                             {"num_hidden_layers", 3},      {"intermediate_size", 128},
                             {"hidden_act", "gelu"},        {"layer_norm_eps", 1e-05},
                             {"projection_dim", 32}};
  const auto c = clip_config_from_hf_json(json, hf);
  EXPECT_EQ(c.heads, 4);
  EXPECT_EQ(c.projection_dim, 32);
  EXPECT_EQ(c.activation, Activation::gelu);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);

  // A CLIPTextModel config carries projection_dim too, but without a text_projection tensor it is unused.
  EXPECT_EQ(clip_config_from_hf_json(json, hf.under("text_model.").prefixed("text_model.")).projection_dim, 0);

  json["hidden_act"] = "relu";
  EXPECT_THROW(clip_config_from_hf_json(json, hf), std::invalid_argument);
  json["hidden_act"] = "quick_gelu";
  EXPECT_EQ(clip_config_from_hf_json(json, hf).activation, Activation::quick_gelu);
  json.erase("hidden_size");
  try {
    clip_config_from_hf_json(json, hf);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos);
  }
}

}  // namespace
}  // namespace darkroom::io
