// Euler, and DDIM (eta 0), which in k-space is the same step: x0 + sigma_next * eps.
#include <utility>

#include "internal.hpp"

namespace darkroom::sampling {
namespace {

// `churn_gen`: diffusers' EulerDiscrete draws a noise tensor for s_churn on every step even when s_churn is 0
// and the draw goes unused; drawing it too keeps the generator in step with diffusers'. DDIM draws nothing.
torch::Tensor euler_loop(const Denoiser& model, torch::Tensor x, const Schedule& schedule, at::Generator* churn_gen,
                         const StepCallback& callback) {
  detail::check_schedule(schedule);
  for (int i = 0; i < schedule.steps(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double sigma = schedule.sigmas[k];
    const auto denoised = model(x, sigma, schedule.timesteps[k]);
    if (churn_gen != nullptr) detail::noise_like(x, *churn_gen);
    x = detail::euler_step(x, denoised, sigma, schedule.sigmas[k + 1]);
    detail::report(callback, i, schedule, x, denoised);
  }
  return x;
}

}  // namespace

torch::Tensor sample_euler(const Denoiser& model, torch::Tensor x, const Schedule& schedule, at::Generator& gen,
                           const StepCallback& callback) {
  return euler_loop(model, std::move(x), schedule, &gen, callback);
}

torch::Tensor sample_ddim(const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                          const StepCallback& callback) {
  return euler_loop(model, std::move(x), schedule, nullptr, callback);
}

}  // namespace darkroom::sampling
