#pragma once
// Noise schedules as plain data. A sampler walks a Schedule: a decreasing list of sigmas in k-diffusion terms
// (x = x0 + sigma * eps) and the UNet timestep that goes with each. make_schedule() builds the schedule that
// diffusers 0.27.2 builds for the matching scheduler, quirks included, so that seeds reproduce its images.
#include <array>
#include <string_view>
#include <vector>

namespace darkroom::sampling {

enum class SamplerKind { euler, euler_a, dpmpp_2m, ddim, lcm };
enum class SigmaSchedule { discrete, karras };
enum class Spacing { leading, linspace, trailing };

inline constexpr std::array kSamplerKinds{SamplerKind::euler, SamplerKind::euler_a, SamplerKind::dpmpp_2m,
                                          SamplerKind::ddim, SamplerKind::lcm};
inline constexpr std::array kSigmaSchedules{SigmaSchedule::discrete, SigmaSchedule::karras};
inline constexpr std::array kSpacings{Spacing::leading, Spacing::linspace, Spacing::trailing};

// Names used by the request, the CLI and the infotext: "euler" | "euler_a" | "dpm++2m" | "ddim" | "lcm";
// "discrete" | "karras"; "leading" | "linspace" | "trailing".
std::string_view sampler_name(SamplerKind kind);
std::string_view sigma_schedule_name(SigmaSchedule schedule);
std::string_view spacing_name(Spacing spacing);
// Throw std::invalid_argument naming the unknown value and listing the valid names.
SamplerKind parse_sampler(std::string_view name);
SigmaSchedule parse_sigma_schedule(std::string_view name);
Spacing parse_spacing(std::string_view name);

// The discrete training schedule. Values are the float32 numbers diffusers computes (held as double), so
// that every schedule derived from them matches diffusers' to the last bit where diffusers is exact.
struct TrainSchedule {
  std::vector<double> betas;
  std::vector<double> alphas_cumprod;
  std::vector<double> sigmas;      // sqrt((1 - alphas_cumprod) / alphas_cumprod), float32 as diffusers has it
  std::vector<double> log_sigmas;  // float32 logs of `sigmas`, for interpolating timesteps in log sigma
  int steps_offset = 1;            // added to "leading" timesteps (SD's scheduler config)

  // betas = linspace(sqrt(beta_start), sqrt(beta_end), n)^2 in float32, as diffusers' "scaled_linear".
  static TrainSchedule scaled_linear(double beta_start, double beta_end, int num_train_timesteps, int steps_offset);
  // SD 1.x/2.x/SDXL: beta 0.00085 .. 0.012, scaled_linear, 1000 steps, steps_offset 1; rescaled to zero
  // terminal SNR (below) when a model was trained so.
  static TrainSchedule stable_diffusion(bool zero_terminal_snr = false);
  // The same schedule with its betas rescaled so that the last timestep is pure noise (Lin et al. 2024,
  // diffusers' rescale_betas_zero_snr). Trained so, a model cannot read the layout out of the starting noise:
  // at the last timestep only the prompt says where things go. alphas_cumprod's last value is 2^-24, not 0,
  // as diffusers' Euler and DPM-Solver schedulers keep it, so that sigma_max is finite (4096).
  TrainSchedule with_zero_terminal_snr() const;

  int num_train_timesteps() const { return static_cast<int>(alphas_cumprod.size()); }
};

struct Schedule {
  std::vector<double> sigmas;     // steps + 1 values; the last is where sampling ends (0, or sigma(abar_0) for DDIM)
  std::vector<double> timesteps;  // steps values: the UNet timestep at each sigma (fractional for Euler-Karras)
  // A run from pure noise starts at x = noise * init_noise_scale (k-space). Euler "leading" uses diffusers'
  // sqrt(sigma_max^2 + 1), not sigma_max; the VP samplers (DDIM, DPM++, LCM) start from unit noise in VP
  // space, which is sqrt(sigmas[0]^2 + 1) here.
  double init_noise_scale = 1.0;

  int steps() const { return static_cast<int>(timesteps.size()); }
};

// The spacing the reference pipelines use (SD 1.5 and SDXL scheduler configs: "leading").
Spacing default_spacing(SamplerKind kind);

// The schedule diffusers 0.27.2 builds for the sampler's scheduler:
// - euler, euler_a: EulerDiscrete spacing; karras takes its range from the *spaced* sigmas and gives
//   fractional timesteps by interpolating in log sigma.
// - dpm++2m: DPMSolverMultistep spacing (steps + 1 points); karras spans the full training range and
//   rounds the timesteps; final sigma 0.
// - ddim: DDIM spacing, final sigma = sigma(abar_0) (set_alpha_to_one=False). Each step lands on the next
//   timestep's sigma; diffusers instead lands on t - 1000/steps, which differs only for "linspace" and for
//   "trailing" with steps not dividing 1000.
// - lcm: LCM's own timesteps (50 original steps, at most 50 steps); spacing does not apply.
// Throws std::invalid_argument for steps out of range and for karras with ddim or lcm.
Schedule make_schedule(SamplerKind kind, SigmaSchedule sigma_schedule, Spacing spacing, int steps,
                       const TrainSchedule& train);

// img2img: the tail of `schedule` that diffusers runs for `strength` in (0, 1] (the last
// min(int(steps * strength), steps) steps). Start it from x = image_latent + noise * sigmas.front().
// Throws std::invalid_argument when strength is outside (0, 1] or leaves no step.
Schedule truncate_for_strength(const Schedule& schedule, double strength);

}  // namespace darkroom::sampling
