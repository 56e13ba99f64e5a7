#include "darkroom/io/vae_layout.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/golden.hpp"

namespace darkroom::io {
namespace {

WeightIndex open(const char* relative) { return WeightIndex::of(SafetensorsFile::open(golden::path(relative))); }

nlohmann::json read_json(const char* relative) { return nlohmann::json::parse(std::ifstream(golden::path(relative))); }

std::vector<int64_t> without_trailing_ones(std::vector<int64_t> shape) {
  while (shape.size() > 1 && shape.back() == 1) shape.pop_back();
  return shape;
}

TEST(VaeLayout, LdmKeysBecomeDiffusersKeys) {
  for (const char* checkpoint : {"checkpoints/sd1_tiny.safetensors", "checkpoints/sdxl_tiny.safetensors"}) {
    SCOPED_TRACE(checkpoint);
    const auto ldm = open(checkpoint).under("first_stage_model.");
    const auto converted = vae_from_ldm(ldm);
    const auto reference = open("models/vae_tiny.diffusers.safetensors");
    EXPECT_EQ(converted.size(), reference.size());
    for (const auto& [key, ref] : reference.entries()) {
      ASSERT_TRUE(converted.contains(key)) << key;
      // The mid attention stays a 1x1 conv [C,C,1,1] where diffusers has Linear [C,C].
      EXPECT_EQ(without_trailing_ones(converted.shape(key)), without_trailing_ones(ref.shape())) << key;
    }
    // The LDM decoder counts levels from the highest resolution.
    EXPECT_EQ(converted.at("decoder.up_blocks.0.upsamplers.0.conv.weight").info,
              ldm.at("decoder.up.3.upsample.conv.weight").info);
    EXPECT_EQ(converted.at("decoder.up_blocks.2.resnets.0.conv_shortcut.weight").info,
              ldm.at("decoder.up.1.block.0.nin_shortcut.weight").info);
    EXPECT_EQ(converted.at("encoder.mid_block.attentions.0.to_out.0.weight").info,
              ldm.at("encoder.mid.attn_1.proj_out.weight").info);
    EXPECT_EQ(converted.shape("encoder.mid_block.attentions.0.to_q.weight"), (std::vector<int64_t>{64, 64, 1, 1}));
  }
}

TEST(VaeLayout, ConfigFromWeightsEqualsDiffusersConfig) {
  const auto diffusers = open("models/vae_tiny.diffusers.safetensors");
  const auto from_json = vae_config_from_diffusers(read_json("models/vae_tiny.config.json"), diffusers);
  const auto inferred = vae_config_from_weights(
      vae_from_ldm(open("checkpoints/sd1_tiny.safetensors").under("first_stage_model.")), 0.18215);
  EXPECT_EQ(inferred, from_json);
  EXPECT_EQ(from_json.block_out_channels, (std::vector<int64_t>{32, 32, 64, 64}));
  EXPECT_EQ(from_json.layers_per_block, 2);
  EXPECT_EQ(from_json.latent_channels, 4);
  EXPECT_EQ(from_json.norm_eps, 1e-6);
  EXPECT_EQ(from_json.scaling_factor, 0.18215);
  EXPECT_EQ(from_json.shift_factor, 0.0);
  EXPECT_TRUE(from_json.use_quant_conv);
}

TEST(VaeLayout, BadInputIsNamed) {
  auto ldm = open("checkpoints/sd1_tiny.safetensors").under("first_stage_model.");
  auto foreign = ldm;
  foreign.set("decoder.mystery.weight", ldm.at("decoder.conv_in.weight"));
  EXPECT_THROW(vae_from_ldm(foreign), ModelFileError);
  auto with_loss = ldm;
  with_loss.set("loss.logvar", ldm.at("decoder.conv_in.bias"));
  EXPECT_EQ(vae_from_ldm(with_loss).size(), vae_from_ldm(ldm).size());

  auto diffusers = open("models/vae_tiny.diffusers.safetensors");
  diffusers.erase("decoder.up_blocks.1.upsamplers.0.conv.weight");
  diffusers.erase("decoder.up_blocks.1.upsamplers.0.conv.bias");
  EXPECT_THROW(vae_config_from_weights(diffusers, 0.18215), ModelFileError);

  auto config = read_json("models/vae_tiny.config.json");
  config["latent_channels"] = 16;
  EXPECT_THROW(vae_config_from_diffusers(config, open("models/vae_tiny.diffusers.safetensors")), ModelFileError);
}

}  // namespace
}  // namespace darkroom::io
