#pragma once
// Stable Diffusion UNet checkpoints come in two key layouts: the original LDM/SGM one
// (`input_blocks.k.s`, `middle_block.s`, `output_blocks.k.s`, inside single-file checkpoints) and
// diffusers' UNet2DConditionModel (`down_blocks.i.resnets.j`, ...). The model is written against the
// diffusers names; LDM files are renamed here. The architecture is read back from tensor shapes, except
// for what no tensor records (the attention head split, norm settings, the prediction type).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::io {

// What the UNet output means; a property of the training, not of the weights.
enum class Prediction { epsilon, v_prediction };

struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  std::vector<int64_t> block_out_channels;  // per resolution level, highest resolution first
  int64_t layers_per_block = 2;             // resnets per down level; up levels have one more
  std::vector<bool> cross_attention;        // per level: CrossAttn{Down,Up}Block2D rather than {Down,Up}Block2D
  std::vector<int64_t> transformer_layers;  // per level (down order; up levels use the reverse), 0 without attention
  int64_t mid_transformer_layers = 1;
  std::vector<int64_t> num_heads;  // per level, resolved head counts; the mid block uses the last
  int64_t cross_attention_dim = 768;
  bool use_linear_projection = false;  // Transformer2DModel proj_in/proj_out: Linear (true) or 1x1 conv
  int64_t norm_groups = 32;
  double norm_eps = 1e-5;
  // SDXL "text_time" added conditioning; 0 = none. The add_embedding input is
  // pooled text embedding width + number of time ids * addition_time_embed_dim.
  int64_t addition_time_embed_dim = 0;
  int64_t projection_class_embeddings_input_dim = 0;
  Prediction prediction = Prediction::epsilon;

  int64_t levels() const { return static_cast<int64_t>(block_out_channels.size()); }
  int64_t time_embed_dim() const { return 4 * block_out_channels.at(0); }
  bool operator==(const UNetConfig&) const = default;
};

// How attention heads split, which no tensor records: a fixed head count (SD1's LDM config: num_heads 8)
// or a fixed head width (SD2 and SDXL: num_head_channels 64), one value for every level or one per level.
struct HeadRule {
  std::vector<int64_t> heads;       // fixed head count, or
  std::vector<int64_t> head_width;  // fixed channels per head
  // Where the rule comes from, added to the error when the UNet's widths do not split that way (for a
  // convention: how to give the heads instead).
  std::string origin;
  static HeadRule count(int64_t n, std::string origin = {}) { return {{n}, {}, std::move(origin)}; }
  static HeadRule width(int64_t channels, std::string origin = {}) { return {{}, {channels}, std::move(origin)}; }
};

// Renames LDM UNet keys (already stripped of "model.diffusion_model.") to diffusers keys. The block
// structure (which input block is a downsampler, which output block carries an upsampler or an
// attention) is read from the keys, so any widths and depths map. Throws ModelFileError on a key that
// does not belong to an SD UNet.
WeightIndex unet_from_ldm(const WeightIndex& ldm);

// The inverse of unet_from_ldm, for saving: the LDM name (without "model.diffusion_model.") of a diffusers
// UNet parameter, numbered for config's levels, depths and attention placement. Throws
// std::invalid_argument naming the key when config's architecture has no such parameter.
std::string unet_key_to_ldm(std::string_view diffusers_key, const UNetConfig& config);

// Reads widths, levels, attention placement, transformer depths, context width, projection kind and the
// SDXL add-embedding from diffusers-named weights. addition_time_embed_dim is only used when the weights
// have an add_embedding (SDXL base and refiner use 256). GroupNorm settings are SD's (32 groups, 1e-5).
// Throws ModelFileError naming the file when the weights do not form a consistent UNet, or when a level
// with attention does not split into heads as the rule says (never rounding to a head count that fits).
UNetConfig unet_config_from_weights(const WeightIndex& diffusers, HeadRule heads,
                                    int64_t addition_time_embed_dim = 256);

// A diffusers unet/config.json. Its `attention_head_dim` is really the head count (int or per level) unless
// `num_attention_heads` is set. Architecture fields must agree with the weights (ModelFileError otherwise);
// a missing or unsupported field throws std::invalid_argument naming it.
UNetConfig unet_config_from_diffusers(const nlohmann::json& config, const WeightIndex& diffusers);

}  // namespace darkroom::io
