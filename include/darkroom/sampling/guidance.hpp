#pragma once
// Classifier-free guidance.
#include <torch/torch.h>

namespace darkroom::sampling {

// uncond + scale * (cond - uncond), on noise predictions (or, equivalently, on denoised estimates).
inline torch::Tensor cfg_combine(const torch::Tensor& uncond, const torch::Tensor& cond, double scale) {
  return uncond + scale * (cond - uncond);
}

}  // namespace darkroom::sampling
