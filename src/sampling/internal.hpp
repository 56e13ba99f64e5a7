#pragma once
// Pieces the samplers share.
#include "darkroom/sampling/samplers.hpp"

namespace darkroom::sampling::detail {

// Throws std::invalid_argument unless the schedule has one more sigma than timesteps.
void check_schedule(const Schedule& schedule);

// One draw from the CPU generator, shaped and typed like x (diffusers' randn_tensor), on x's device.
torch::Tensor noise_like(const torch::Tensor& x, at::Generator& gen);

// Calls the callback, if any, for step `step` of `schedule`.
void report(const StepCallback& callback, int step, const Schedule& schedule, const torch::Tensor& x,
            const torch::Tensor& denoised);

// An Euler step of the probability-flow ODE, in diffusers' arithmetic: d = (x - x0) / sigma,
// x + d * (sigma_next - sigma).
inline torch::Tensor euler_step(const torch::Tensor& x, const torch::Tensor& denoised, double sigma,
                                double sigma_next) {
  return x + (x - denoised) / sigma * (sigma_next - sigma);
}

}  // namespace darkroom::sampling::detail
