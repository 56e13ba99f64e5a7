// Replays the golden denoising loops without a UNet: the denoiser returns the x0 implied by the noise
// prediction diffusers recorded at that step. Checks the schedule, the generator's draws, the model input and
// every step's latent and x0 against the loop tolerance.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "darkroom/sampling/samplers.hpp"
#include "support/golden.hpp"

namespace darkroom::sampling {
namespace {

struct LoopCase {
  const char* file;
  SamplerKind kind;
  SigmaSchedule sigmas;
  int steps;
  bool vp_latents;  // diffusers keeps VP latents (DDIM, DPM++, LCM) rather than k-space ones (Euler, EulerA)
};

std::ostream& operator<<(std::ostream& os, const LoopCase& c) { return os << c.file; }

class GoldenLoop : public ::testing::TestWithParam<LoopCase> {};

struct Worst {
  golden::Closeness c;
  void add(const golden::Closeness& other) {
    c.rel_l2 = std::max(c.rel_l2, other.rel_l2);
    c.max_abs = std::max(c.max_abs, other.max_abs);
  }
};

TEST_P(GoldenLoop, ReplaysDiffusersSteps) {
  const auto& c = GetParam();
  auto g = golden::load(std::string("loops/") + c.file + ".safetensors");
  const auto train = TrainSchedule::stable_diffusion();
  const auto schedule = make_schedule(c.kind, c.sigmas, default_spacing(c.kind), c.steps, train);

  const auto& timesteps = g.at("timesteps");
  ASSERT_EQ(timesteps.numel(), c.steps);
  for (int i = 0; i < c.steps; ++i) {
    const double want = timesteps[i].item<double>();
    EXPECT_NEAR(schedule.timesteps[static_cast<std::size_t>(i)], want, 1e-6 * std::max(1.0, want)) << "timestep " << i;
  }
  if (g.count("sigmas") != 0) {
    for (int i = 0; i < c.steps; ++i) {
      const double want = g.at("sigmas")[i].item<double>();
      EXPECT_NEAR(schedule.sigmas[static_cast<std::size_t>(i)], want, 1e-6 * want) << "sigma " << i;
    }
  }

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const auto& initial_noise = g.at("initial_noise");
  const auto noise = torch::randn(initial_noise.sizes(), gen);
  ASSERT_TRUE(torch::equal(noise, initial_noise));
  const auto x = noise * schedule.init_noise_scale;
  const auto initial = c.vp_latents ? to_vp(x, schedule.sigmas[0]) : x;
  EXPECT_TRUE(golden::loop_close(initial, g.at("initial_latents")));

  Worst input_err;
  int calls = 0;
  const Denoiser model = [&](const torch::Tensor& xk, double sigma, double timestep) {
    const int i = calls++;
    EXPECT_EQ(timestep, schedule.timesteps[static_cast<std::size_t>(i)]);
    // The UNet's input: diffusers' scaled_model_input, whose batch halves are equal under CFG.
    const auto want_input = g.at("scaled_model_input")[i].slice(0, 0, 1);
    EXPECT_TRUE(golden::loop_close(to_vp(xk, sigma), want_input)) << "model input, step " << i;
    input_err.add(golden::closeness(to_vp(xk, sigma), want_input));
    return xk - g.at("noise_pred")[i] * sigma;
  };

  Worst latent_err;
  Worst x0_err;
  int reported = 0;
  const StepCallback callback = [&](const StepInfo& info) {
    const int i = info.step;
    EXPECT_EQ(i, reported++);
    EXPECT_EQ(info.total, c.steps);
    EXPECT_EQ(info.sigma, schedule.sigmas[static_cast<std::size_t>(i)]);
    const auto latent = c.vp_latents ? to_vp(info.x, info.sigma_next) : info.x;
    EXPECT_TRUE(golden::loop_close(latent, g.at("latents")[i])) << "latents, step " << i;
    EXPECT_TRUE(golden::loop_close(info.denoised, g.at("x0_pred")[i])) << "x0_pred, step " << i;
    latent_err.add(golden::closeness(latent, g.at("latents")[i]));
    x0_err.add(golden::closeness(info.denoised, g.at("x0_pred")[i]));
  };

  const auto result = sample(c.kind, model, x, schedule, gen, callback);
  EXPECT_EQ(calls, c.steps);
  EXPECT_EQ(reported, c.steps);
  const auto final = final_latents(result, schedule);
  EXPECT_TRUE(golden::loop_close(final, g.at("final_latents")));
  const auto final_err = golden::closeness(final, g.at("final_latents"));

  // The sampler drew exactly diffusers' step_noise: a fresh generator that draws the golden sequence is
  // then at the same point as ours.
  at::Generator reference = at::make_generator<at::CPUGeneratorImpl>(42);
  torch::randn(initial_noise.sizes(), reference);
  const int64_t draws = g.count("step_noise") != 0 ? g.at("step_noise").size(0) : 0;
  for (int64_t j = 0; j < draws; ++j)
    ASSERT_TRUE(torch::equal(torch::randn(initial_noise.sizes(), reference), g.at("step_noise")[j])) << "draw " << j;
  EXPECT_TRUE(torch::equal(torch::randn(initial_noise.sizes(), gen), torch::randn(initial_noise.sizes(), reference)))
      << "the sampler did not draw exactly " << draws << " noise tensors";

  std::printf("[loop %-22s] worst over steps: latents rel_l2 %.2e max_abs %.2e | x0 rel_l2 %.2e max_abs %.2e | "
              "model input rel_l2 %.2e | final rel_l2 %.2e max_abs %.2e | %lld draws\n",
              c.file, latent_err.c.rel_l2, latent_err.c.max_abs, x0_err.c.rel_l2, x0_err.c.max_abs,
              input_err.c.rel_l2, final_err.rel_l2, final_err.max_abs, static_cast<long long>(draws));
}

INSTANTIATE_TEST_SUITE_P(
    Loops, GoldenLoop,
    ::testing::Values(LoopCase{"sd1_euler", SamplerKind::euler, SigmaSchedule::discrete, 6, false},
                      LoopCase{"sd1_euler_ancestral", SamplerKind::euler_a, SigmaSchedule::discrete, 6, false},
                      LoopCase{"sd1_dpmpp_2m_karras", SamplerKind::dpmpp_2m, SigmaSchedule::karras, 6, true},
                      LoopCase{"sd1_ddim", SamplerKind::ddim, SigmaSchedule::discrete, 6, true},
                      LoopCase{"sd1_lcm", SamplerKind::lcm, SigmaSchedule::discrete, 4, true},
                      LoopCase{"sdxl_euler", SamplerKind::euler, SigmaSchedule::discrete, 4, false},
                      LoopCase{"sdxl_euler_neg", SamplerKind::euler, SigmaSchedule::discrete, 4, false}),
    [](const auto& info) { return std::string(info.param.file); });

}  // namespace
}  // namespace darkroom::sampling
