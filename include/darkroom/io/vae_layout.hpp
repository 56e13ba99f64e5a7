#pragma once
// AutoencoderKL checkpoints come in the LDM layout (`encoder.down.i.block.j`, `decoder.up.i`, numbered from
// the highest resolution, inside single files as `first_stage_model.*`) and diffusers' layout
// (`encoder.down_blocks.i.resnets.j`, decoder up blocks numbered in execution order). The model is written
// against the diffusers names; LDM files are renamed here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::io {

struct VaeConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  int64_t latent_channels = 4;
  std::vector<int64_t> block_out_channels;  // encoder order, highest resolution first
  int64_t layers_per_block = 2;             // encoder resnets per level; decoder levels have one more
  int64_t norm_groups = 32;
  double norm_eps = 1e-6;
  // Model latents = (encoded - shift_factor) * scaling_factor: 0.18215 (SD1/SD2), 0.13025 (SDXL).
  double scaling_factor = 0.18215;
  double shift_factor = 0;
  bool use_quant_conv = true;  // quant_conv and post_quant_conv (1x1) around the latent

  bool operator==(const VaeConfig&) const = default;
};

// Renames LDM VAE keys (already stripped of "first_stage_model.") to diffusers keys. The mid-block
// attention's q/k/v/proj_out stay 1x1 conv weights [C,C,1,1]; the model loads them as Linear [C,C].
// Training-only `loss.*` tensors are dropped; any other unknown key throws ModelFileError.
WeightIndex vae_from_ldm(const WeightIndex& ldm);

// The inverse of vae_from_ldm, for saving: the LDM name (without "first_stage_model.") of a diffusers
// AutoencoderKL parameter of config's architecture. Only the name changes: a writer must itself store the
// mid-block attention's q/k/v/proj_out weights as [C,C,1,1]. Throws std::invalid_argument naming the key
// when config's architecture has no such parameter.
std::string vae_key_to_ldm(std::string_view diffusers_key, const VaeConfig& config);

// Widths and depths from diffusers-named weights; the scaling factor is not in the weights.
// Throws ModelFileError naming the file when the weights do not form a consistent AutoencoderKL.
VaeConfig vae_config_from_weights(const WeightIndex& diffusers, double scaling_factor);

// A diffusers vae/config.json; architecture fields must agree with the weights (ModelFileError otherwise),
// a missing or unsupported field throws std::invalid_argument naming it.
VaeConfig vae_config_from_diffusers(const nlohmann::json& config, const WeightIndex& diffusers);

}  // namespace darkroom::io
