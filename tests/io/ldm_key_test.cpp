// unet_key_to_ldm / vae_key_to_ldm are the exact inverses of unet_from_ldm / vae_from_ldm.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <stdexcept>
#include <string>

#include "darkroom/io/model_source.hpp"
#include "darkroom/io/unet_layout.hpp"
#include "darkroom/io/vae_layout.hpp"
#include "support/golden.hpp"

namespace darkroom::io {
namespace {

WeightIndex open(const char* relative) { return WeightIndex::of(SafetensorsFile::open(golden::path(relative))); }

std::set<std::string> keys(const WeightIndex& index) {
  std::set<std::string> out;
  for (const auto& [key, ref] : index.entries()) out.insert(key);
  return out;
}

using KeyToLdm = std::function<std::string(std::string_view)>;

// Renames every diffusers key back; each must name the very tensor of the checkpoint it was read from
// (under the component's prefix), and together they must cover that component exactly.
void expect_inverse_of_checkpoint(const WeightIndex& diffusers, const WeightIndex& checkpoint,
                                  const std::string& prefix, const KeyToLdm& to_ldm) {
  std::set<std::string> mapped;
  for (const auto& [key, ref] : diffusers.entries()) {
    const std::string name = to_ldm(key);
    EXPECT_EQ(prefix + name, ref.info->name) << key;
    mapped.insert(name);
  }
  EXPECT_EQ(mapped, keys(checkpoint.under(prefix)));
}

// diffusers -> LDM -> diffusers must give back every key, pointing at the same tensor.
void expect_round_trip(const WeightIndex& diffusers, const KeyToLdm& to_ldm,
                       const std::function<WeightIndex(const WeightIndex&)>& from_ldm) {
  WeightIndex ldm;
  for (const auto& [key, ref] : diffusers.entries()) ldm.set(to_ldm(key), ref);
  ASSERT_EQ(ldm.size(), diffusers.size()) << "two keys map to the same LDM name";
  const auto back = from_ldm(ldm);
  EXPECT_EQ(keys(back), keys(diffusers));
  for (const auto& [key, ref] : diffusers.entries())
    if (const auto* again = back.find(key)) EXPECT_EQ(again->info, ref.info) << key;
}

TEST(LdmKeys, Sd1CheckpointKeysMapBackToTheFilesOwnKeys) {
  const auto source = open_model(golden::checkpoint("sd1_tiny"));
  const auto file = open("checkpoints/sd1_tiny.safetensors");
  expect_inverse_of_checkpoint(source.unet, file, "model.diffusion_model.",
                               [&](std::string_view key) { return unet_key_to_ldm(key, source.unet_config); });
  expect_inverse_of_checkpoint(source.vae, file, "first_stage_model.",
                               [&](std::string_view key) { return vae_key_to_ldm(key, source.vae_config); });
  // The text encoder keeps its Hugging Face names in SD1 files.
  EXPECT_EQ(keys(source.text_encoder), keys(file.under("cond_stage_model.transformer.")));
}

TEST(LdmKeys, DiffusersUNetsRoundTripThroughLdm) {
  const auto sd1 = open("models/unet_sd1_tiny.diffusers.safetensors");
  const auto sd1_config = unet_config_from_weights(sd1, HeadRule::count(8));
  expect_round_trip(sd1, [&](std::string_view key) { return unet_key_to_ldm(key, sd1_config); }, unet_from_ldm);

  // SDXL: a level without attention first, two-layer transformers, linear projections, label_emb.
  const auto sdxl = open("models/unet_sdxl_tiny.diffusers.safetensors");
  const auto sdxl_config = unet_config_from_weights(sdxl, HeadRule::width(16), 8);
  expect_round_trip(sdxl, [&](std::string_view key) { return unet_key_to_ldm(key, sdxl_config); }, unet_from_ldm);
  EXPECT_EQ(unet_key_to_ldm("add_embedding.linear_2.bias", sdxl_config), "label_emb.0.2.bias");
  EXPECT_EQ(unet_key_to_ldm("mid_block.attentions.0.transformer_blocks.1.ff.net.0.proj.weight", sdxl_config),
            "middle_block.1.transformer_blocks.1.ff.net.0.proj.weight");
}

TEST(LdmKeys, DiffusersVaeRoundTripsThroughLdm) {
  const auto vae = open("models/vae_tiny.diffusers.safetensors");
  const auto config = vae_config_from_weights(vae, 0.18215);
  expect_round_trip(vae, [&](std::string_view key) { return vae_key_to_ldm(key, config); }, vae_from_ldm);
}

TEST(LdmKeys, NumberingFollowsTheBlockStructure) {
  const auto config = unet_config_from_weights(open("models/unet_sd1_tiny.diffusers.safetensors"), HeadRule::count(8));
  EXPECT_EQ(unet_key_to_ldm("conv_in.weight", config), "input_blocks.0.0.weight");
  EXPECT_EQ(unet_key_to_ldm("down_blocks.0.downsamplers.0.conv.weight", config), "input_blocks.3.0.op.weight");
  EXPECT_EQ(unet_key_to_ldm("down_blocks.1.attentions.1.proj_in.bias", config), "input_blocks.5.1.proj_in.bias");
  EXPECT_EQ(unet_key_to_ldm("down_blocks.3.resnets.1.time_emb_proj.weight", config),
            "input_blocks.11.0.emb_layers.1.weight");
  EXPECT_EQ(unet_key_to_ldm("up_blocks.0.upsamplers.0.conv.bias", config), "output_blocks.2.1.conv.bias");
  EXPECT_EQ(unet_key_to_ldm("up_blocks.1.upsamplers.0.conv.bias", config), "output_blocks.5.2.conv.bias");
  EXPECT_EQ(unet_key_to_ldm("up_blocks.3.resnets.2.conv_shortcut.weight", config),
            "output_blocks.11.0.skip_connection.weight");
  EXPECT_EQ(unet_key_to_ldm("time_embedding.linear_2.weight", config), "time_embed.2.weight");
  EXPECT_EQ(unet_key_to_ldm("conv_norm_out.bias", config), "out.0.bias");

  const auto vae = vae_config_from_weights(open("models/vae_tiny.diffusers.safetensors"), 0.18215);
  EXPECT_EQ(vae_key_to_ldm("decoder.up_blocks.0.upsamplers.0.conv.weight", vae), "decoder.up.3.upsample.conv.weight");
  EXPECT_EQ(vae_key_to_ldm("decoder.up_blocks.3.resnets.2.conv2.bias", vae), "decoder.up.0.block.2.conv2.bias");
  EXPECT_EQ(vae_key_to_ldm("encoder.mid_block.attentions.0.to_out.0.weight", vae),
            "encoder.mid.attn_1.proj_out.weight");
  EXPECT_EQ(vae_key_to_ldm("encoder.down_blocks.1.resnets.0.conv_shortcut.bias", vae),
            "encoder.down.1.block.0.nin_shortcut.bias");
  EXPECT_EQ(vae_key_to_ldm("decoder.conv_norm_out.weight", vae), "decoder.norm_out.weight");
}

void expect_rejected(const std::function<std::string(std::string_view)>& to_ldm, const std::string& key) {
  try {
    const std::string name = to_ldm(key);
    ADD_FAILURE() << "'" << key << "' was mapped to '" << name << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'" + key + "'"), std::string::npos) << e.what();
  }
}

TEST(LdmKeys, KeysOutsideTheArchitectureThrowNamingTheKey) {
  const auto unet = unet_config_from_weights(open("models/unet_sd1_tiny.diffusers.safetensors"), HeadRule::count(8));
  const auto to_ldm = [&](std::string_view key) { return unet_key_to_ldm(key, unet); };
  for (const char* key : {
           "",
           "conv_in",
           "conv_in.weight.extra",
           "conv_in.scale",
           "down_blocks.4.resnets.0.norm1.weight",              // only 4 levels
           "down_blocks.0.resnets.2.norm1.weight",              // 2 resnets per down level
           "up_blocks.0.resnets.3.norm1.weight",                // 3 per up level
           "down_blocks.3.attentions.0.proj_in.weight",         // the last level has no attention
           "up_blocks.0.attentions.0.proj_in.weight",           // nor does the first up level
           "down_blocks.3.downsamplers.0.conv.weight",          // the last level does not downsample
           "up_blocks.3.upsamplers.0.conv.weight",              // the last up level does not upsample
           "down_blocks.0.downsamplers.0.op.weight",            // an LDM name
           "down_blocks.0.resnets.0.in_layers.0.weight",        // an LDM name
           "mid_block.attentions.0.transformer_blocks.1.norm1.weight",  // one transformer block
           "mid_block.attentions.0.transformer_blocks.0.attn3.to_q.weight",
           "add_embedding.linear_1.weight",  // SD1 has no added conditioning
           "model.diffusion_model.conv_in.weight",
       })
    expect_rejected(to_ldm, key);

  auto vae = vae_config_from_weights(open("models/vae_tiny.diffusers.safetensors"), 0.18215);
  vae.use_quant_conv = false;
  const auto vae_to_ldm = [&](std::string_view key) { return vae_key_to_ldm(key, vae); };
  for (const char* key : {
           "",
           "encoder.conv_in",
           "encoder.down_blocks.3.downsamplers.0.conv.weight",  // the last level does not downsample
           "decoder.up_blocks.3.upsamplers.0.conv.weight",      // the last up block does not upsample
           "decoder.up_blocks.4.resnets.0.norm1.weight",
           "encoder.down_blocks.0.resnets.2.norm1.weight",
           "encoder.down_blocks.0.resnets.0.time_emb_proj.weight",
           "encoder.mid_block.attentions.0.to_q.scale",
           "encoder.mid.attn_1.q.weight",  // an LDM name
           "quant_conv.weight",            // not in this configuration
           "loss.logvar",
       })
    expect_rejected(vae_to_ldm, key);
}

}  // namespace
}  // namespace darkroom::io
