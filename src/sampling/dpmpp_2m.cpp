// DPM-Solver++(2M) (Lu et al. 2022) in k-diffusion form. With lambda = -log(sigma) and h the step in lambda,
// diffusers' VP update x_t = (sigma_t/sigma_s) x_s - alpha_t expm1(-h) D becomes, in k-space,
// x' = r x + (1 - r) D with r = sigma_next / sigma.
#include <cmath>

#include "internal.hpp"

namespace darkroom::sampling {

torch::Tensor sample_dpmpp_2m(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                              const StepCallback& callback) {
  detail::check_schedule(schedule);
  torch::Tensor previous;
  for (int i = 0; i < schedule.steps(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double sigma = schedule.sigmas[k];
    const double sigma_next = schedule.sigmas[k + 1];
    const auto denoised = model(x, sigma, schedule.timesteps[k]);
    // First order on the first step (no history) and on the step to sigma 0 (diffusers' lower_order_final
    // with final_sigmas_type "zero"); second order (midpoint) in between.
    auto d = denoised;
    if (previous.defined() && sigma_next > 0.0) {
      const double h = std::log(sigma / sigma_next);
      const double h_last = std::log(schedule.sigmas[k - 1] / sigma);
      const double half_inv_r = h / (2.0 * h_last);
      d = denoised * (1.0 + half_inv_r) - previous * half_inv_r;
    }
    const double r = sigma_next / sigma;
    x = x * r + d * (1.0 - r);
    previous = denoised;
    detail::report(callback, i, schedule, x, denoised);
  }
  return x;
}

}  // namespace darkroom::sampling
