// Dispatch by sampler kind, the k-space <-> VP conversion, and the helpers the samplers share.
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "internal.hpp"

namespace darkroom::sampling {

torch::Tensor sample(SamplerKind kind, const Denoiser& model, torch::Tensor x, const Schedule& schedule,
                     at::Generator& gen, const StepCallback& callback) {
  switch (kind) {
    case SamplerKind::euler: return sample_euler(model, std::move(x), schedule, gen, callback);
    case SamplerKind::euler_a: return sample_euler_ancestral(model, std::move(x), schedule, gen, callback);
    case SamplerKind::dpmpp_2m: return sample_dpmpp_2m(model, std::move(x), schedule, callback);
    case SamplerKind::ddim: return sample_ddim(model, std::move(x), schedule, callback);
    case SamplerKind::lcm: return sample_lcm(model, std::move(x), schedule, gen, callback);
  }
  throw std::invalid_argument("invalid SamplerKind value");
}

torch::Tensor to_vp(const torch::Tensor& x, double sigma) { return x / std::sqrt(sigma * sigma + 1.0); }

torch::Tensor final_latents(const torch::Tensor& x, const Schedule& schedule) {
  detail::check_schedule(schedule);
  const double sigma = schedule.sigmas.back();
  return sigma == 0.0 ? x : to_vp(x, sigma);
}

namespace detail {

void check_schedule(const Schedule& schedule) {
  if (schedule.sigmas.size() != schedule.timesteps.size() + 1)
    throw std::invalid_argument("schedule has " + std::to_string(schedule.sigmas.size()) + " sigmas for " +
                                std::to_string(schedule.timesteps.size()) + " timesteps; it needs one more sigma");
}

torch::Tensor noise_like(const torch::Tensor& x, at::Generator& gen) {
  return torch::randn(x.sizes(), gen, x.options().device(torch::kCPU)).to(x.device());
}

void report(const StepCallback& callback, int step, const Schedule& schedule, const torch::Tensor& x,
            const torch::Tensor& denoised) {
  if (!callback) return;
  const auto i = static_cast<std::size_t>(step);
  callback(StepInfo{step, schedule.steps(), schedule.sigmas[i], schedule.sigmas[i + 1], x, denoised});
}

}  // namespace detail
}  // namespace darkroom::sampling
