#pragma once
// TAESD-family tiny autoencoders (taesd, taesdxl, taef1, taef2, ...) ship as two taesd.py state dicts,
// `0.weight`, `1.conv.0.weight`, ... (one file per half), or as one diffusers AutoencoderTiny file
// (`encoder.layers.N.*`, `decoder.layers.N.*`). The models are written against the taesd.py names.
#include <cstdint>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::io {

struct TinyAutoencoderConfig {
  int64_t latent_channels = 4;
  bool use_midblock_gn = false;  // taef2: GroupNorm "pool" branches in the lowest-resolution Blocks
};

// taesd.py encoder keys, from either taesd.py encoder keys (returned unchanged) or a diffusers
// AutoencoderTiny index (`encoder.layers.N.*` = `N.*`).
WeightIndex tiny_encoder_to_taesd(const WeightIndex& weights);

// taesd.py decoder keys, from either taesd.py decoder keys (returned unchanged) or a diffusers
// AutoencoderTiny index: `decoder.layers.(N-1).*` = `N.*`, since taesd.py's leading Clamp is a layer there
// but not in diffusers.
WeightIndex tiny_decoder_to_taesd(const WeightIndex& weights);

// Configs read from taesd.py-keyed weights: latent channels from the last encoder conv / first decoder
// conv, the mid-block GroupNorm variant from the presence of `N.pool.*` keys.
TinyAutoencoderConfig tiny_encoder_config(const WeightIndex& taesd_encoder);
TinyAutoencoderConfig tiny_decoder_config(const WeightIndex& taesd_decoder);

}  // namespace darkroom::io
