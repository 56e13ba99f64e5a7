// Schedules as diffusers 0.27.2 builds them (EulerDiscrete, EulerAncestralDiscrete, DPMSolverMultistep, DDIM,
// LCM set_timesteps). numpy's arithmetic is mirrored where it decides a value: round half to even,
// np.linspace/np.arange element formulas, float32 rounding of stored sigmas and timesteps.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "darkroom/sampling/schedule.hpp"

namespace darkroom::sampling {
namespace {

constexpr int kLcmOriginalSteps = 50;

double f32(double v) { return static_cast<float>(v); }

// numpy's round() rounds half to even, which is nearbyint in the default rounding mode.
double round_half_even(double v) { return std::nearbyint(v); }

std::vector<double> to_vector(const torch::Tensor& t) {
  auto d = t.to(torch::kFloat64).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// np.linspace(start, stop, num): start + i * (stop - start) / (num - 1), the endpoint exact.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> v(num, start);
  if (num < 2) return v;
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) v[i] = i * step + start;
  v.back() = stop;
  return v;
}

// np.arange(start, 0, step) for a negative step, as numpy fills it: the stride is recomputed from the first
// two elements. (numpy's length can come out one too long for some step counts, giving diffusers a stray
// timestep -1; this takes exactly `count`.)
std::vector<double> arange_down(double start, double step, int count) {
  std::vector<double> v(count, start);
  if (count < 2) return v;
  const double stride = (start + step) - start;
  for (int i = 1; i < count; ++i) v[i] = start + i * stride;
  return v;
}

// Euler and DDIM: `steps` timesteps, high to low. Euler keeps "linspace" fractional (float32); DDIM rounds it.
std::vector<double> spaced_timesteps(Spacing spacing, int steps, const TrainSchedule& train, bool integral) {
  const int n_train = train.num_train_timesteps();
  std::vector<double> t(steps);
  switch (spacing) {
    case Spacing::leading: {
      const int ratio = n_train / steps;
      for (int i = 0; i < steps; ++i) t[i] = (steps - 1 - i) * ratio + train.steps_offset;
      break;
    }
    case Spacing::linspace: {
      const auto v = linspace(0, n_train - 1, steps);
      for (int i = 0; i < steps; ++i) t[i] = integral ? round_half_even(v[steps - 1 - i]) : f32(v[steps - 1 - i]);
      break;
    }
    case Spacing::trailing: {
      const auto v = arange_down(n_train, -static_cast<double>(n_train) / steps, steps);
      for (int i = 0; i < steps; ++i) t[i] = round_half_even(v[i]) - 1;
      break;
    }
  }
  return t;
}

// DPMSolverMultistep spaces steps + 1 points and drops the lowest ("trailing" is the same as Euler's).
std::vector<double> dpm_timesteps(Spacing spacing, int steps, const TrainSchedule& train) {
  const int n_train = train.num_train_timesteps();
  std::vector<double> t(steps);
  switch (spacing) {
    case Spacing::leading: {
      const int ratio = n_train / (steps + 1);
      for (int i = 0; i < steps; ++i) t[i] = (steps - i) * ratio + train.steps_offset;
      return t;
    }
    case Spacing::linspace: {
      const auto v = linspace(0, n_train - 1, steps + 1);
      for (int i = 0; i < steps; ++i) t[i] = round_half_even(v[steps - i]);
      return t;
    }
    case Spacing::trailing: return spaced_timesteps(spacing, steps, train, true);
  }
  return t;
}

// np.interp(t, arange(n_train), sigmas).
double sigma_at(const TrainSchedule& train, double t) {
  const auto& s = train.sigmas;
  if (t <= 0) return s.front();
  if (t >= train.num_train_timesteps() - 1) return s.back();
  const auto i = static_cast<std::size_t>(std::floor(t));
  if (t == static_cast<double>(i)) return s[i];
  return (s[i + 1] - s[i]) * (t - static_cast<double>(i)) + s[i];
}

// diffusers' _sigma_to_t: the fractional timestep of `sigma`, linear in log sigma between the two training
// timesteps around it. Under numpy 1.x's casting rules the interpolation weight is float32 (the float64
// log sigma meets a float32 array) and only the final blend of the two indices is float64. numpy's SIMD
// float32 log is off by an ulp from torch's on about a fifth of the table, which moves these timesteps by up
// to ~2e-7 relative; this arithmetic otherwise reproduces diffusers' bit for bit.
double sigma_to_t(const TrainSchedule& train, double sigma) {
  const auto& ls = train.log_sigmas;
  const auto log_sigma = static_cast<float>(std::log(std::max(sigma, 1e-10)));
  std::size_t low = 0;
  for (std::size_t i = 0; i < ls.size(); ++i)
    if (log_sigma >= static_cast<float>(ls[i])) low = i;
  low = std::min(low, ls.size() - 2);
  const auto lo = static_cast<float>(ls[low]);
  const auto hi = static_cast<float>(ls[low + 1]);
  const float w = std::clamp((lo - log_sigma) / (lo - hi), 0.0f, 1.0f);
  const auto low_t = static_cast<double>(low);
  return static_cast<double>(1.0f - w) * low_t + static_cast<double>(w) * (low_t + 1);
}

// Karras et al. (2022), rho 7: evenly spaced in sigma^(1/rho), from sigma_max down to sigma_min.
std::vector<double> karras(double sigma_min, double sigma_max, int steps) {
  constexpr double rho = 7.0;
  const double min_inv_rho = std::pow(sigma_min, 1 / rho);
  const double max_inv_rho = std::pow(sigma_max, 1 / rho);
  std::vector<double> sigmas;
  for (double r : linspace(0, 1, steps)) sigmas.push_back(std::pow(max_inv_rho + r * (min_inv_rho - max_inv_rho), rho));
  return sigmas;
}

// diffusers stores sigmas as float32, with the final sigma appended.
std::vector<double> stored_sigmas(const std::vector<double>& sigmas, double final_sigma) {
  std::vector<double> out;
  for (double s : sigmas) out.push_back(f32(s));
  out.push_back(f32(final_sigma));
  return out;
}

// The VP samplers start from unit noise in VP space, which is this scale in k-space.
double vp_init_scale(const std::vector<double>& sigmas) { return std::sqrt(sigmas.front() * sigmas.front() + 1); }

Schedule euler_schedule(SigmaSchedule sigma_schedule, Spacing spacing, int steps, const TrainSchedule& train) {
  auto timesteps = spaced_timesteps(spacing, steps, train, false);
  std::vector<double> sigmas;
  for (double t : timesteps) sigmas.push_back(sigma_at(train, t));
  if (sigma_schedule == SigmaSchedule::karras) {
    // The Karras range is that of the spaced sigmas, not the training range (so "leading" tops out at
    // sigma(751) for 4 steps, not sigma(999)).
    sigmas = karras(sigmas.back(), sigmas.front(), steps);
    for (int i = 0; i < steps; ++i) timesteps[i] = f32(sigma_to_t(train, sigmas[i]));
  }
  Schedule s{stored_sigmas(sigmas, 0.0), timesteps, 1.0};
  // init_noise_sigma, computed in float32: sigma_max for linspace/trailing, sqrt(sigma_max^2 + 1) for leading.
  const auto sigma_max = static_cast<float>(*std::max_element(s.sigmas.begin(), s.sigmas.end()));
  s.init_noise_scale = spacing == Spacing::leading ? std::sqrt(sigma_max * sigma_max + 1.0f) : sigma_max;
  return s;
}

Schedule dpm_schedule(SigmaSchedule sigma_schedule, Spacing spacing, int steps, const TrainSchedule& train) {
  std::vector<double> timesteps;
  std::vector<double> sigmas;
  if (sigma_schedule == SigmaSchedule::karras) {
    // Full training range, timesteps rounded to integers; the spacing plays no part.
    sigmas = karras(train.sigmas.front(), train.sigmas.back(), steps);
    for (double sigma : sigmas) timesteps.push_back(round_half_even(sigma_to_t(train, sigma)));
  } else {
    timesteps = dpm_timesteps(spacing, steps, train);
    for (double t : timesteps) sigmas.push_back(sigma_at(train, t));
  }
  Schedule s{stored_sigmas(sigmas, 0.0), timesteps, 1.0};
  s.init_noise_scale = vp_init_scale(s.sigmas);
  return s;
}

Schedule ddim_schedule(Spacing spacing, int steps, const TrainSchedule& train) {
  auto timesteps = spaced_timesteps(spacing, steps, train, true);
  std::vector<double> sigmas;
  for (double t : timesteps) sigmas.push_back(sigma_at(train, t));
  // set_alpha_to_one=False: the last step lands on abar_0, not on a clean sample.
  Schedule s{stored_sigmas(sigmas, train.sigmas.front()), timesteps, 1.0};
  s.init_noise_scale = vp_init_scale(s.sigmas);
  return s;
}

Schedule lcm_schedule(int steps, const TrainSchedule& train) {
  if (steps > kLcmOriginalSteps)
    throw std::invalid_argument("lcm supports at most " + std::to_string(kLcmOriginalSteps) + " steps, not " +
                                std::to_string(steps));
  // The distillation timesteps k-1, 2k-1, ..., 999 (k = 1000 / 50), high to low, sampled at
  // floor(linspace(0, 50, steps, endpoint=False)).
  const int k = train.num_train_timesteps() / kLcmOriginalSteps;
  std::vector<double> timesteps;
  std::vector<double> sigmas;
  for (int i = 0; i < steps; ++i) {
    const auto index = static_cast<int>(std::floor(i * (static_cast<double>(kLcmOriginalSteps) / steps)));
    const int t = (kLcmOriginalSteps - index) * k - 1;
    timesteps.push_back(t);
    sigmas.push_back(train.sigmas[t]);
  }
  Schedule s{stored_sigmas(sigmas, 0.0), timesteps, 1.0};
  s.init_noise_scale = vp_init_scale(s.sigmas);
  return s;
}

// The stored float32 tables, sigmas derived from alphas_cumprod as diffusers derives them.
TrainSchedule from_tensors(const torch::Tensor& betas, const torch::Tensor& alphas_cumprod, int steps_offset) {
  const auto sigmas = ((1.0 - alphas_cumprod) / alphas_cumprod).pow(0.5);
  TrainSchedule train;
  train.betas = to_vector(betas);
  train.alphas_cumprod = to_vector(alphas_cumprod);
  train.sigmas = to_vector(sigmas);
  train.log_sigmas = to_vector(sigmas.log());
  train.steps_offset = steps_offset;
  return train;
}

}  // namespace

TrainSchedule TrainSchedule::scaled_linear(double beta_start, double beta_end, int num_train_timesteps,
                                           int steps_offset) {
  if (num_train_timesteps < 2)
    throw std::invalid_argument("num_train_timesteps must be at least 2, not " + std::to_string(num_train_timesteps));
  // Computed with torch in float32, exactly as diffusers does (cumprod accumulates in double on the CPU).
  const auto betas = torch::linspace(std::sqrt(beta_start), std::sqrt(beta_end), num_train_timesteps,
                                     torch::kFloat32)
                         .pow(2);
  return from_tensors(betas, torch::cumprod(1.0 - betas, 0), steps_offset);
}

TrainSchedule TrainSchedule::stable_diffusion(bool zero_terminal_snr) {
  const auto schedule = scaled_linear(0.00085, 0.012, 1000, 1);
  return zero_terminal_snr ? schedule.with_zero_terminal_snr() : schedule;
}

TrainSchedule TrainSchedule::with_zero_terminal_snr() const {
  // diffusers' rescale_zero_terminal_snr, in float32: shift sqrt(alphas_cumprod) so that the last is 0 and
  // scale it so that the first is unchanged, then recover the betas.
  const auto old_betas = torch::tensor(betas, torch::kFloat64).to(torch::kFloat32);
  auto root = torch::cumprod(1.0 - old_betas, 0).sqrt();
  const auto first = root[0].clone(), last = root[-1].clone();
  root = (root - last) * (first / (first - last));
  const auto bar = root.pow(2);
  const auto alphas = torch::cat({bar.slice(0, 0, 1), bar.slice(0, 1) / bar.slice(0, 0, -1)});
  const auto new_betas = 1.0 - alphas;
  auto alphas_cumprod = torch::cumprod(1.0 - new_betas, 0);
  alphas_cumprod[-1] = std::ldexp(1.0, -24);
  return from_tensors(new_betas, alphas_cumprod, steps_offset);
}

Schedule make_schedule(SamplerKind kind, SigmaSchedule sigma_schedule, Spacing spacing, int steps,
                       const TrainSchedule& train) {
  if (steps < 1 || steps > train.num_train_timesteps())
    throw std::invalid_argument("steps must be in 1.." + std::to_string(train.num_train_timesteps()) + ", not " +
                                std::to_string(steps));
  if (sigma_schedule == SigmaSchedule::karras && (kind == SamplerKind::ddim || kind == SamplerKind::lcm))
    throw std::invalid_argument(std::string(sampler_name(kind)) +
                                " runs on its own discrete timesteps; scheduler must be 'discrete', not 'karras'");
  switch (kind) {
    case SamplerKind::euler:
    case SamplerKind::euler_a: return euler_schedule(sigma_schedule, spacing, steps, train);
    case SamplerKind::dpmpp_2m: return dpm_schedule(sigma_schedule, spacing, steps, train);
    case SamplerKind::ddim: return ddim_schedule(spacing, steps, train);
    case SamplerKind::lcm: return lcm_schedule(steps, train);
  }
  throw std::invalid_argument("invalid SamplerKind value");
}

Schedule truncate_for_strength(const Schedule& schedule, double strength) {
  if (!(strength > 0.0 && strength <= 1.0))
    throw std::invalid_argument("strength must be in (0, 1], not " + std::to_string(strength));
  const int steps = schedule.steps();
  const int kept = std::min(static_cast<int>(steps * strength), steps);
  if (kept < 1)
    throw std::invalid_argument("strength " + std::to_string(strength) + " with " + std::to_string(steps) +
                                " steps leaves no denoising step");
  const int start = steps - kept;
  return Schedule{{schedule.sigmas.begin() + start, schedule.sigmas.end()},
                  {schedule.timesteps.begin() + start, schedule.timesteps.end()},
                  schedule.init_noise_scale};
}

}  // namespace darkroom::sampling
