#pragma once
// Samplers in the style of k-diffusion: each is a short loop over (denoiser, x, schedule) in k-diffusion space
// (x = x0 + sigma * eps). Where diffusers keeps VP latents (DDIM, DPM++, LCM) the update here is the same
// update rewritten in that space; the VP latent is x / sqrt(sigma^2 + 1) (see to_vp).
#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <functional>

#include "darkroom/sampling/schedule.hpp"

namespace darkroom::sampling {

// The model as a sampler sees it: the denoised estimate x0 of k-space `x` at noise level `sigma`; `timestep`
// is the UNet timestep that goes with it. Guidance is the denoiser's business.
using Denoiser = std::function<torch::Tensor(const torch::Tensor& x, double sigma, double timestep)>;

struct StepInfo {
  int step;                        // 0-based
  int total;
  double sigma;                    // the noise level the model saw at this step
  double sigma_next;               // the noise level of `x`
  const torch::Tensor& x;          // k-space latent after the step; to_vp(x, sigma_next) is a decodable latent
  const torch::Tensor& denoised;   // the step's x0 estimate (for LCM, after its boundary-condition scalings)
};
// Called once per step, after the update. It may throw to cancel sampling; the exception propagates.
using StepCallback = std::function<void(const StepInfo&)>;

// Every sampler draws its noise from `gen` on the CPU, shaped and typed like x, in diffusers' order:
// euler one unused draw per step (diffusers draws for s_churn even when it is 0), euler_a one per step,
// lcm one per step except the last, ddim and dpm++2m none.
torch::Tensor sample(SamplerKind kind, const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                     at::Generator& gen, const StepCallback& callback = {});

torch::Tensor sample_euler(const Denoiser& model, torch::Tensor x, const Schedule& schedule, at::Generator& gen,
                           const StepCallback& callback = {});
torch::Tensor sample_euler_ancestral(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                                     at::Generator& gen, const StepCallback& callback = {});
// DPM-Solver++(2M): first order on the first step and on the step to sigma 0, second order between.
torch::Tensor sample_dpmpp_2m(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                              const StepCallback& callback = {});
// DDIM with eta 0, which in k-space is an Euler step without noise.
torch::Tensor sample_ddim(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                          const StepCallback& callback = {});
// LCM: x0 blended with the VP latent by the consistency boundary scalings, then re-noised to the next sigma.
torch::Tensor sample_lcm(const Denoiser& model, torch::Tensor x, const Schedule& schedule, at::Generator& gen,
                         const StepCallback& callback = {});

// The VP (diffusers) latent of k-space x at noise level sigma: x / sqrt(sigma^2 + 1). This is also the UNet's
// input scaling.
torch::Tensor to_vp(const torch::Tensor& x, double sigma);
// The latent to decode after sampling: to_vp(x, schedule.sigmas.back()), the identity when that sigma is 0.
torch::Tensor final_latents(const torch::Tensor& x, const Schedule& schedule);

}  // namespace darkroom::sampling
