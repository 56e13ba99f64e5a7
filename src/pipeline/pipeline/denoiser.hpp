#pragma once
// The bridge between the samplers (k-diffusion space: x = x0 + sigma * eps) and the UNet, with
// classifier-free guidance: the model sees x / sqrt(sigma^2 + 1), as diffusers' scale_model_input does.
#include <optional>

#include "darkroom/io/unet_layout.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/sampling/samplers.hpp"

namespace darkroom::pipeline {

// What the UNet is conditioned on for one prompt: text context [1, T, D]; for SDXL also the pooled text
// embedding [1, P] and the size conditioning (time ids) [1, 6].
struct Conditioning {
  torch::Tensor context;
  std::optional<models::AddedConditions> added;
};

// uncond.context undefined when guidance is off (cfg <= 1). The UNet batch is [uncond x B, cond x B], as
// diffusers concatenates it.
sampling::Denoiser make_denoiser(models::UNet2DConditionModel unet, io::Prediction prediction, const Conditioning& cond,
                                 const Conditioning& uncond, double cfg, int64_t batch);

}  // namespace darkroom::pipeline
