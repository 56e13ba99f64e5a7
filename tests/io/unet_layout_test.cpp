#include "darkroom/io/unet_layout.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/golden.hpp"

namespace darkroom::io {
namespace {

WeightIndex open(const char* relative) { return WeightIndex::of(SafetensorsFile::open(golden::path(relative))); }

nlohmann::json read_json(const char* relative) { return nlohmann::json::parse(std::ifstream(golden::path(relative))); }

WeightIndex ldm_unet(const char* checkpoint) { return unet_from_ldm(open(checkpoint).under("model.diffusion_model.")); }

// The converted LDM index must hold exactly the diffusers file's keys, each pointing at a tensor of the
// same shape (the tiny diffusers files were converted from the same weights).
void expect_same_layout(const WeightIndex& converted, const WeightIndex& reference) {
  EXPECT_EQ(converted.size(), reference.size());
  for (const auto& [key, ref] : reference.entries()) {
    ASSERT_TRUE(converted.contains(key)) << key;
    EXPECT_EQ(converted.shape(key), ref.shape()) << key;
  }
}

TEST(UNetLayout, Sd1LdmKeysBecomeDiffusersKeys) {
  const auto ldm = open("checkpoints/sd1_tiny.safetensors").under("model.diffusion_model.");
  const auto converted = unet_from_ldm(ldm);
  expect_same_layout(converted, open("models/unet_sd1_tiny.diffusers.safetensors"));
  // Spot checks of the structure-derived numbering: the downsampler after level 0, the upsampler that sits
  // at slot 1 of an output block without attention, and the last resnet of the last up level.
  EXPECT_EQ(converted.at("down_blocks.0.downsamplers.0.conv.weight").info, ldm.at("input_blocks.3.0.op.weight").info);
  EXPECT_EQ(converted.at("up_blocks.0.upsamplers.0.conv.weight").info, ldm.at("output_blocks.2.1.conv.weight").info);
  EXPECT_EQ(converted.at("up_blocks.3.resnets.2.conv_shortcut.weight").info,
            ldm.at("output_blocks.11.0.skip_connection.weight").info);
  EXPECT_EQ(converted.at("up_blocks.3.attentions.2.proj_in.weight").info,
            ldm.at("output_blocks.11.1.proj_in.weight").info);
}

TEST(UNetLayout, SdxlLdmKeysBecomeDiffusersKeys) {
  const auto converted = ldm_unet("checkpoints/sdxl_tiny.safetensors");
  expect_same_layout(converted, open("models/unet_sdxl_tiny.diffusers.safetensors"));
  EXPECT_TRUE(converted.contains("add_embedding.linear_2.bias"));
}

TEST(UNetLayout, Sd1ConfigFromWeightsEqualsDiffusersConfig) {
  const auto diffusers = open("models/unet_sd1_tiny.diffusers.safetensors");
  const auto from_json = unet_config_from_diffusers(read_json("models/unet_sd1_tiny.config.json"), diffusers);
  const auto inferred = unet_config_from_weights(ldm_unet("checkpoints/sd1_tiny.safetensors"), HeadRule::count(8));
  EXPECT_EQ(inferred, from_json);

  EXPECT_EQ(from_json.block_out_channels, (std::vector<int64_t>{32, 32, 64, 64}));
  EXPECT_EQ(from_json.cross_attention, (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(from_json.transformer_layers, (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_EQ(from_json.num_heads, (std::vector<int64_t>{8, 8, 8, 8}));
  EXPECT_EQ(from_json.layers_per_block, 2);
  EXPECT_EQ(from_json.cross_attention_dim, 32);
  EXPECT_FALSE(from_json.use_linear_projection);
  EXPECT_EQ(from_json.norm_eps, 1e-5);
  EXPECT_EQ(from_json.projection_class_embeddings_input_dim, 0);
  EXPECT_EQ(from_json.time_embed_dim(), 128);
}

TEST(UNetLayout, SdxlConfigFromWeightsEqualsDiffusersConfig) {
  const auto diffusers = open("models/unet_sdxl_tiny.diffusers.safetensors");
  const auto from_json = unet_config_from_diffusers(read_json("models/unet_sdxl_tiny.config.json"), diffusers);
  EXPECT_EQ(from_json.num_heads, (std::vector<int64_t>{2, 2, 4}));  // attention_head_dim (2,2,4) = head counts
  EXPECT_EQ(from_json.transformer_layers, (std::vector<int64_t>{0, 2, 2}));
  EXPECT_EQ(from_json.mid_transformer_layers, 2);
  EXPECT_TRUE(from_json.use_linear_projection);
  EXPECT_EQ(from_json.cross_attention_dim, 64);
  EXPECT_EQ(from_json.addition_time_embed_dim, 8);
  EXPECT_EQ(from_json.projection_class_embeddings_input_dim, 80);

  // The tiny SDXL's heads are 16 channels wide, as SDXL's are 64.
  const auto inferred = unet_config_from_weights(ldm_unet("checkpoints/sdxl_tiny.safetensors"), HeadRule::width(16),
                                                 /*addition_time_embed_dim=*/8);
  EXPECT_EQ(inferred, from_json);
}

TEST(UNetLayout, UnknownLdmKeyIsNamed) {
  auto ldm = open("checkpoints/sd1_tiny.safetensors");
  // A VAE tensor under the UNet prefix stands in for a foreign key.
  ldm.set("model.diffusion_model.encoder.conv_in.weight", ldm.at("first_stage_model.encoder.conv_in.weight"));
  try {
    unet_from_ldm(ldm.under("model.diffusion_model."));
    FAIL() << "expected ModelFileError";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.conv_in.weight"), std::string::npos) << e.what();
  }
}

TEST(UNetLayout, InconsistentWeightsAreRejected) {
  const auto good = open("models/unet_sd1_tiny.diffusers.safetensors");
  auto missing_downsampler = good;
  missing_downsampler.erase("down_blocks.1.downsamplers.0.conv.weight");
  missing_downsampler.erase("down_blocks.1.downsamplers.0.conv.bias");
  EXPECT_THROW(unet_config_from_weights(missing_downsampler, HeadRule::count(8)), ModelFileError);

  auto missing_attention = good;
  const auto attention = good.under("up_blocks.1.attentions.2.");
  for (const auto& [key, ref] : attention.entries()) missing_attention.erase("up_blocks.1.attentions.2." + key);
  EXPECT_THROW(unet_config_from_weights(missing_attention, HeadRule::count(8)), ModelFileError);

  // A head count that does not divide the channels is an error...
  EXPECT_THROW(unet_config_from_weights(good, HeadRule::count(5)), ModelFileError);
  // ...and so is a head width the channels do not split into: never rounded to a count that fits.
  try {
    unet_config_from_weights(good, HeadRule::width(64, "the convention; give a model config"));
    FAIL() << "guessed a head count";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("heads of 64 channels"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("give a model config"), std::string::npos) << e.what();
  }
  EXPECT_EQ(unet_config_from_weights(good, HeadRule::width(16)).num_heads, (std::vector<int64_t>{2, 2, 4, 4}));
  // Per level, as a model config may give them: one entry per level, or one for all.
  EXPECT_EQ(unet_config_from_weights(good, HeadRule{{4, 2, 2, 8}, {}, ""}).num_heads,
            (std::vector<int64_t>{4, 2, 2, 8}));
  EXPECT_EQ(unet_config_from_weights(good, HeadRule{{}, {8, 16, 32, 16}, ""}).num_heads,
            (std::vector<int64_t>{4, 2, 2, 4}));
  EXPECT_THROW(unet_config_from_weights(good, HeadRule{{4, 2}, {}, ""}), ModelFileError);  // 2 values, 4 levels
}

TEST(UNetLayout, DiffusersConfigMustMatchWeights) {
  const auto weights = open("models/unet_sd1_tiny.diffusers.safetensors");
  auto config = read_json("models/unet_sd1_tiny.config.json");
  config["block_out_channels"] = {32, 64, 64, 64};
  EXPECT_THROW(unet_config_from_diffusers(config, weights), ModelFileError);

  config = read_json("models/unet_sd1_tiny.config.json");
  config["down_block_types"][3] = "CrossAttnDownBlock2D";
  EXPECT_THROW(unet_config_from_diffusers(config, weights), ModelFileError);

  config = read_json("models/unet_sd1_tiny.config.json");
  config["class_embed_type"] = "timestep";
  EXPECT_THROW(unet_config_from_diffusers(config, weights), std::invalid_argument);

  config = read_json("models/unet_sd1_tiny.config.json");
  config["attention_head_dim"] = {8, 8};
  EXPECT_THROW(unet_config_from_diffusers(config, weights), std::invalid_argument);

  // num_attention_heads, when set, is the head count.
  config = read_json("models/unet_sd1_tiny.config.json");
  config["num_attention_heads"] = 4;
  EXPECT_EQ(unet_config_from_diffusers(config, weights).num_heads, (std::vector<int64_t>{4, 4, 4, 4}));
}

}  // namespace
}  // namespace darkroom::io
