// Latent Consistency Model multistep sampling (Luo et al. 2023), as diffusers' LCMScheduler: the x0 estimate is
// blended with the VP latent by the consistency boundary scalings, then re-noised to the next sigma.
#include <cmath>

#include "internal.hpp"

namespace darkroom::sampling {
namespace {

constexpr double kSigmaData = 0.5;
constexpr double kTimestepScaling = 10.0;

}  // namespace

torch::Tensor sample_lcm(const Denoiser& model, torch::Tensor x, const Schedule& schedule, at::Generator& gen,
                         const StepCallback& callback) {
  detail::check_schedule(schedule);
  for (int i = 0; i < schedule.steps(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double sigma = schedule.sigmas[k];
    const double t = schedule.timesteps[k];
    const auto x0 = model(x, sigma, t);
    // c_skip -> 1 and c_out -> 0 as t -> 0, so the model is the identity at the boundary. diffusers applies
    // c_skip to its VP sample, which is what it stays here.
    const double scaled_t = t * kTimestepScaling;
    const double norm = scaled_t * scaled_t + kSigmaData * kSigmaData;
    const double c_skip = kSigmaData * kSigmaData / norm;
    const double c_out = scaled_t / std::sqrt(norm);
    auto denoised = x0 * c_out + to_vp(x, sigma) * c_skip;
    // The last step returns the estimate itself and draws no noise.
    x = i + 1 < schedule.steps() ? denoised + detail::noise_like(x, gen) * schedule.sigmas[k + 1] : denoised;
    detail::report(callback, i, schedule, x, denoised);
  }
  return x;
}

}  // namespace darkroom::sampling
