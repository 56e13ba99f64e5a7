#pragma once
// Forward FLOPs of a UNet2DConditionModel counted from its config, layer by layer (convolutions, linear
// layers, attention's two matmuls; norms and activations are left out, as PyTorch's FLOP counter leaves
// them out). For SD1.5 it gives the counter's 180 / 803 GFLOP at 32x32 / 64x64 latents
// (../shared/reference/libtorch.md), which is how it is checked.
#include <cstdint>

#include "darkroom/io/unet_layout.hpp"

namespace darkroom::bench {

// Batch 1; context_tokens: the text context length (77 per prompt window).
double unet_forward_gflop(const io::UNetConfig& config, int64_t latent_height, int64_t latent_width,
                          int64_t context_tokens = 77);

}  // namespace darkroom::bench
