#pragma once
// The bridge between the samplers (k-diffusion space: x = x0 + sigma * eps) and the UNet, with
// classifier-free guidance: the model sees x / sqrt(sigma^2 + 1), as diffusers' scale_model_input does.
#include "darkroom/io/unet_layout.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/sampling/samplers.hpp"

namespace darkroom::pipeline {

// cond / uncond: [1, T, D] text conditioning; uncond undefined when guidance is off (cfg <= 1).
sampling::Denoiser make_denoiser(models::UNet2DConditionModel unet, io::Prediction prediction, torch::Tensor cond,
                                 torch::Tensor uncond, double cfg, int64_t batch);

}  // namespace darkroom::pipeline
