// Euler ancestral: an Euler step down to sigma_down, then fresh noise of scale sigma_up, so that the result
// has noise level sigma_next (sigma_down^2 + sigma_up^2 = sigma_next^2).
#include <algorithm>
#include <cmath>

#include "internal.hpp"

namespace darkroom::sampling {

torch::Tensor sample_euler_ancestral(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                                     at::Generator& gen, const StepCallback& callback) {
  detail::check_schedule(schedule);
  for (int i = 0; i < schedule.steps(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double sigma = schedule.sigmas[k];
    const double sigma_next = schedule.sigmas[k + 1];
    const auto denoised = model(x, sigma, schedule.timesteps[k]);
    const double sigma_up =
        std::sqrt(sigma_next * sigma_next * (sigma * sigma - sigma_next * sigma_next) / (sigma * sigma));
    const double sigma_down = std::sqrt(std::max(0.0, sigma_next * sigma_next - sigma_up * sigma_up));
    x = detail::euler_step(x, denoised, sigma, sigma_down);
    // Drawn on the last step too, where sigma_up is 0, as diffusers does.
    x = x + detail::noise_like(x, gen) * sigma_up;
    detail::report(callback, i, schedule, x, denoised);
  }
  return x;
}

}  // namespace darkroom::sampling
