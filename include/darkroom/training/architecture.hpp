#pragma once
// The embedded model's architecture: Stable Diffusion 1.x's (CLIP text encoder, UNet with cross-attention,
// 4-channel KL autoencoder), scaled down to what an hour on two CPU cores can train on 64x64 scenes.
// Shapes give the loader every size but the attention head splits, which the exported model config states
// (its text encoder's 32-channel heads are not the released encoders' 64).
#include <cstdint>

#include "darkroom/io/clip_layout.hpp"
#include "darkroom/io/unet_layout.hpp"
#include "darkroom/io/vae_layout.hpp"

namespace darkroom::training {

struct Architecture {
  int image_size = 64;
  io::VaeConfig vae;        // 3 levels: 4x downsampling, 16x16x4 latents for 64x64 images
  io::UNetConfig unet;      // 64/128/128 channels, one layer per block, cross-attention at 8x8 and 4x4
  io::ClipTextConfig text;  // 4 layers of width 128, the vocabulary learned from the captions
};

// `prediction`: what the UNet learns to predict (the exported config says which).
Architecture shapes_architecture(int64_t vocab_size, io::Prediction prediction);

}  // namespace darkroom::training
