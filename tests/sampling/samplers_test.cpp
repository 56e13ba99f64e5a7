// Sampler behaviour that the golden loops do not pin down: callbacks, cancellation, convergence, guidance.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "darkroom/sampling/guidance.hpp"
#include "darkroom/sampling/samplers.hpp"

namespace darkroom::sampling {
namespace {

struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

TEST(Samplers, ConvergeToAPerfectDenoisersTarget) {
  // With a denoiser that always knows x0, every step shrinks x - x0 by sigma_next / sigma (ancestral noise
  // cancels out at the final sigma 0), so x ends at x0 + (sigma_last / sigma_0) (x_init - x0).
  const auto train = TrainSchedule::stable_diffusion();
  const auto target = torch::linspace(-1, 1, 64).reshape({1, 4, 4, 4});
  const Denoiser oracle = [&](const torch::Tensor&, double, double) { return target; };
  for (auto kind : kSamplerKinds) {
    for (auto sigmas : kSigmaSchedules) {
      if (sigmas == SigmaSchedule::karras && (kind == SamplerKind::ddim || kind == SamplerKind::lcm)) continue;
      const auto schedule = make_schedule(kind, sigmas, Spacing::trailing, 9, train);
      at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
      const auto x_init = torch::randn({1, 4, 4, 4}, gen) * schedule.init_noise_scale;
      const auto x = sample(kind, oracle, x_init, schedule, gen);
      const auto expected = target + (x_init - target) * (schedule.sigmas.back() / schedule.sigmas.front());
      // LCM's boundary scalings leave a c_skip share (~2e-7 at its last t=119) of the noisy latent.
      EXPECT_TRUE(torch::allclose(x, expected, 1e-5, 1e-5))
          << sampler_name(kind) << " " << sigma_schedule_name(sigmas) << ": max error "
          << (x - expected).abs().max().item<double>();
    }
  }
}

TEST(Samplers, CallbackSeesEveryStepAndCanCancel) {
  const auto train = TrainSchedule::stable_diffusion();
  const auto schedule = make_schedule(SamplerKind::dpmpp_2m, SigmaSchedule::karras, Spacing::leading, 5, train);
  int calls = 0;
  const Denoiser model = [&](const torch::Tensor& x, double, double) {
    ++calls;
    return x * 0.5;
  };
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  std::vector<double> seen;
  sample(SamplerKind::dpmpp_2m, model, torch::ones({1, 4, 2, 2}), schedule, gen, [&](const StepInfo& info) {
    EXPECT_EQ(info.step, static_cast<int>(seen.size()));
    EXPECT_EQ(info.total, 5);
    EXPECT_EQ(info.sigma_next, schedule.sigmas[seen.size() + 1]);
    EXPECT_EQ(info.x.sizes(), info.denoised.sizes());
    seen.push_back(info.sigma);
  });
  EXPECT_EQ(seen, std::vector<double>(schedule.sigmas.begin(), schedule.sigmas.end() - 1));

  calls = 0;
  const StepCallback cancel_after_two = [](const StepInfo& info) {
    if (info.step == 1) throw Cancelled();
  };
  EXPECT_THROW(sample(SamplerKind::euler_a, model, torch::ones({1, 4, 2, 2}), schedule, gen, cancel_after_two),
               Cancelled);
  EXPECT_EQ(calls, 2);
}

TEST(Samplers, RejectMalformedSchedules) {
  Schedule bad{{1.0, 0.5}, {999, 500}, 1.0};
  const Denoiser model = [](const torch::Tensor& x, double, double) { return x; };
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  for (auto kind : kSamplerKinds)
    EXPECT_THROW(sample(kind, model, torch::ones({1}), bad, gen), std::invalid_argument) << sampler_name(kind);
}

TEST(Samplers, FinalLatentsAndVpScaling) {
  const auto x = torch::full({1, 4, 2, 2}, 3.0);
  EXPECT_TRUE(torch::equal(final_latents(x, Schedule{{2.0, 0.0}, {500}, 1.0}), x));
  EXPECT_TRUE(torch::allclose(final_latents(x, Schedule{{2.0, 0.75}, {500}, 1.0}), x / 1.25));
  EXPECT_TRUE(torch::allclose(to_vp(x, std::sqrt(8.0)), torch::full({1, 4, 2, 2}, 1.0)));
}

TEST(Guidance, CombinesUncondAndCond) {
  const auto u = torch::tensor({1.0f, 2.0f});
  const auto c = torch::tensor({3.0f, 1.0f});
  EXPECT_TRUE(torch::allclose(cfg_combine(u, c, 7.5), torch::tensor({16.0f, -5.5f})));
  EXPECT_TRUE(torch::equal(cfg_combine(u, c, 1.0), c));
}

}  // namespace
}  // namespace darkroom::sampling
