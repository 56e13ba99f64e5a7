// Schedules against diffusers 0.27.2's set_timesteps output (golden schedulers/schedulers.json).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "darkroom/sampling/schedule.hpp"
#include "support/golden.hpp"

namespace darkroom::sampling {
namespace {

nlohmann::json load_tables() {
  std::ifstream in(golden::path("schedulers/schedulers.json"));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // Python's json writes -Infinity (DPM's lambda_min_clipped), which is not JSON; that field is not needed.
  for (auto at = text.find("-Infinity"); at != std::string::npos; at = text.find("-Infinity", at))
    text.replace(at, 9, "null");
  return nlohmann::json::parse(text);
}

double rel_err(double actual, double expected) {
  return expected == 0.0 ? std::abs(actual) : std::abs(actual - expected) / std::abs(expected);
}

struct Config {
  const char* name;
  SamplerKind kind;
  SigmaSchedule sigmas;
  Spacing spacing;
};

constexpr Config kConfigs[] = {
    {"euler_leading", SamplerKind::euler, SigmaSchedule::discrete, Spacing::leading},
    {"euler_linspace", SamplerKind::euler, SigmaSchedule::discrete, Spacing::linspace},
    {"euler_trailing", SamplerKind::euler, SigmaSchedule::discrete, Spacing::trailing},
    {"euler_karras", SamplerKind::euler, SigmaSchedule::karras, Spacing::leading},
    {"euler_karras_linspace", SamplerKind::euler, SigmaSchedule::karras, Spacing::linspace},
    {"euler_ancestral_leading", SamplerKind::euler_a, SigmaSchedule::discrete, Spacing::leading},
    {"dpmpp_2m_leading", SamplerKind::dpmpp_2m, SigmaSchedule::discrete, Spacing::leading},
    {"dpmpp_2m_karras", SamplerKind::dpmpp_2m, SigmaSchedule::karras, Spacing::leading},
    {"ddim_leading", SamplerKind::ddim, SigmaSchedule::discrete, Spacing::leading},
    {"ddim_trailing", SamplerKind::ddim, SigmaSchedule::discrete, Spacing::trailing},
    {"lcm", SamplerKind::lcm, SigmaSchedule::discrete, Spacing::leading},
};

bool vp_sampler(SamplerKind kind) {
  return kind == SamplerKind::dpmpp_2m || kind == SamplerKind::ddim || kind == SamplerKind::lcm;
}

// diffusers' rescale_zero_terminal_snr in double precision, from SD's betas, as the reference.
std::vector<double> zero_terminal_snr_alphas_cumprod(const TrainSchedule& sd) {
  std::vector<double> root;
  double product = 1;
  for (double beta : sd.betas) root.push_back(std::sqrt(product *= 1 - beta));
  const double first = root.front(), last = root.back();
  std::vector<double> alphas_cumprod;
  for (double r : root) alphas_cumprod.push_back(std::pow((r - last) * first / (first - last), 2));
  return alphas_cumprod;
}

TEST(TrainSchedule, ZeroTerminalSnrIsDiffusersRescaleWithTheEulerCap) {
  const auto sd = TrainSchedule::stable_diffusion();
  const auto zero = sd.with_zero_terminal_snr();
  const auto expected = zero_terminal_snr_alphas_cumprod(sd);
  ASSERT_EQ(zero.alphas_cumprod.size(), expected.size());
  for (std::size_t t = 0; t + 1 < expected.size(); ++t)
    ASSERT_NEAR(zero.alphas_cumprod[t], expected[t], 1e-5 * expected[t] + 1e-8) << "t=" << t;  // float32
  EXPECT_LT(rel_err(zero.alphas_cumprod.front(), sd.alphas_cumprod.front()), 1e-6);
  // The last timestep is pure noise, capped at 2^-24 as diffusers' Euler and DPM-Solver schedulers keep it.
  EXPECT_EQ(zero.alphas_cumprod.back(), std::ldexp(1.0, -24));
  EXPECT_NEAR(zero.sigmas.back(), 4096.0, 1e-3);
  for (std::size_t t = 1; t < zero.sigmas.size(); ++t) ASSERT_GT(zero.sigmas[t], zero.sigmas[t - 1]);

  // Trailing spacing starts sampling there, from noise of that scale.
  const auto euler = make_schedule(SamplerKind::euler, SigmaSchedule::discrete, Spacing::trailing, 10, zero);
  EXPECT_EQ(euler.timesteps.front(), 999);
  EXPECT_NEAR(euler.sigmas.front(), 4096.0, 1e-3);
  EXPECT_NEAR(euler.init_noise_scale, 4096.0, 1e-3);
}

TEST(TrainSchedule, IsDiffusersFloat32Schedule) {
  const auto tables = load_tables();
  const auto train = TrainSchedule::stable_diffusion();
  ASSERT_EQ(train.alphas_cumprod.size(), tables["alphas_cumprod"].size());
  ASSERT_EQ(train.betas.size(), tables["betas"].size());
  for (std::size_t i = 0; i < train.alphas_cumprod.size(); ++i) {
    EXPECT_EQ(train.alphas_cumprod[i], tables["alphas_cumprod"][i].get<double>()) << "t=" << i;
    EXPECT_EQ(train.betas[i], tables["betas"][i].get<double>()) << "t=" << i;
  }
}

TEST(MakeSchedule, MatchesDiffusersTables) {
  const auto tables = load_tables();
  const auto train = TrainSchedule::stable_diffusion();
  for (const auto& config : kConfigs) {
    const auto& table = tables["schedulers"][config.name];
    ASSERT_FALSE(table.is_null()) << config.name;
    double t_err = 0, sigma_err = 0, init_err = 0;
    for (const auto& [n, expected] : table["steps"].items()) {
      SCOPED_TRACE(std::string(config.name) + " steps=" + n);
      const auto s = make_schedule(config.kind, config.sigmas, config.spacing, std::stoi(n), train);
      const auto& timesteps = expected["timesteps"];
      ASSERT_EQ(s.steps(), static_cast<int>(timesteps.size()));
      ASSERT_EQ(s.sigmas.size(), timesteps.size() + 1);
      const bool integral = expected["timesteps_dtype"] == "int64";
      for (std::size_t i = 0; i < timesteps.size(); ++i) {
        const double want = timesteps[i].get<double>();
        if (integral) EXPECT_EQ(s.timesteps[i], want) << "timestep " << i;
        EXPECT_LE(rel_err(s.timesteps[i], want), 1e-6) << "timestep " << i << ": " << s.timesteps[i] << " vs " << want;
        t_err = std::max(t_err, rel_err(s.timesteps[i], want));
      }
      if (expected.contains("sigmas")) {
        const auto& sigmas = expected["sigmas"];
        ASSERT_EQ(s.sigmas.size(), sigmas.size());
        for (std::size_t i = 0; i < sigmas.size(); ++i) {
          EXPECT_LE(rel_err(s.sigmas[i], sigmas[i].get<double>()), 1e-6) << "sigma " << i;
          sigma_err = std::max(sigma_err, rel_err(s.sigmas[i], sigmas[i].get<double>()));
        }
      } else {
        // DDIM and LCM keep no sigmas; ours are those of their timesteps, ending at abar_0 (DDIM) or 0 (LCM).
        for (int i = 0; i < s.steps(); ++i)
          EXPECT_EQ(s.sigmas[i], train.sigmas[static_cast<std::size_t>(s.timesteps[i])]) << "sigma " << i;
        EXPECT_EQ(s.sigmas.back(), config.kind == SamplerKind::ddim ? train.sigmas.front() : 0.0);
      }
      // The VP samplers start from unit VP noise, i.e. sqrt(sigma_0^2 + 1) in k-space.
      const double vp_scale = vp_sampler(config.kind) ? std::sqrt(s.sigmas[0] * s.sigmas[0] + 1) : 1.0;
      const double init = s.init_noise_scale / vp_scale;
      EXPECT_LE(rel_err(init, expected["init_noise_sigma"].get<double>()), 1e-6) << "init_noise_sigma";
      init_err = std::max(init_err, rel_err(init, expected["init_noise_sigma"].get<double>()));
    }
    std::printf("[schedule %-24s] max rel err: timesteps %.2e, sigmas %.2e, init_noise_sigma %.2e\n", config.name,
                t_err, sigma_err, init_err);
  }
}

TEST(MakeSchedule, SpacingAndRangeRules) {
  const auto train = TrainSchedule::stable_diffusion();
  // diffusers' DPM "trailing" and "linspace" (no golden table; hand-computed from its set_timesteps).
  EXPECT_EQ(make_schedule(SamplerKind::dpmpp_2m, SigmaSchedule::discrete, Spacing::trailing, 4, train).timesteps,
            (std::vector<double>{999, 749, 499, 249}));
  EXPECT_EQ(make_schedule(SamplerKind::dpmpp_2m, SigmaSchedule::discrete, Spacing::linspace, 4, train).timesteps,
            (std::vector<double>{999, 749, 500, 250}));
  // Ties round to even, as numpy does: 1000 - 62.5 * k for 16 trailing steps.
  const auto trailing16 = make_schedule(SamplerKind::ddim, SigmaSchedule::discrete, Spacing::trailing, 16, train);
  EXPECT_EQ(trailing16.timesteps[1], 937);  // 937.5 -> 938, minus 1
  EXPECT_EQ(trailing16.timesteps[3], 811);  // 812.5 -> 812, minus 1
  EXPECT_EQ(default_spacing(SamplerKind::euler), Spacing::leading);

  EXPECT_THROW(make_schedule(SamplerKind::euler, SigmaSchedule::discrete, Spacing::leading, 0, train),
               std::invalid_argument);
  EXPECT_THROW(make_schedule(SamplerKind::euler, SigmaSchedule::discrete, Spacing::leading, 1001, train),
               std::invalid_argument);
  EXPECT_THROW(make_schedule(SamplerKind::lcm, SigmaSchedule::discrete, Spacing::leading, 51, train),
               std::invalid_argument);
  EXPECT_THROW(make_schedule(SamplerKind::ddim, SigmaSchedule::karras, Spacing::leading, 10, train),
               std::invalid_argument);
  EXPECT_THROW(make_schedule(SamplerKind::lcm, SigmaSchedule::karras, Spacing::leading, 4, train),
               std::invalid_argument);
  // Every other combination builds a decreasing schedule.
  for (auto kind : {SamplerKind::euler, SamplerKind::euler_a, SamplerKind::dpmpp_2m})
    for (auto sigmas : kSigmaSchedules)
      for (auto spacing : kSpacings)
        for (int steps : {1, 2, 7, 25, 61, 150}) {
          const auto s = make_schedule(kind, sigmas, spacing, steps, train);
          ASSERT_EQ(s.steps(), steps);
          for (int i = 0; i < steps; ++i) {
            EXPECT_GT(s.sigmas[i], s.sigmas[i + 1]) << sampler_name(kind) << " " << sigma_schedule_name(sigmas)
                                                    << " " << spacing_name(spacing) << " " << steps << " i=" << i;
            EXPECT_GE(s.timesteps[i], 0);
            EXPECT_LE(s.timesteps[i], 999);
          }
        }
}

TEST(TruncateForStrength, KeepsTheTailDiffusersRuns) {
  const auto train = TrainSchedule::stable_diffusion();
  const auto s = make_schedule(SamplerKind::euler, SigmaSchedule::discrete, Spacing::leading, 20, train);
  const auto t = truncate_for_strength(s, 0.75);
  ASSERT_EQ(t.steps(), 15);
  EXPECT_EQ(t.timesteps.front(), s.timesteps[5]);
  EXPECT_EQ(t.sigmas.front(), s.sigmas[5]);
  EXPECT_EQ(t.sigmas.back(), 0.0);
  EXPECT_EQ(truncate_for_strength(s, 1.0).timesteps, s.timesteps);
  EXPECT_THROW(truncate_for_strength(s, 0.0), std::invalid_argument);
  EXPECT_THROW(truncate_for_strength(s, 1.5), std::invalid_argument);
  EXPECT_THROW(truncate_for_strength(s, 0.01), std::invalid_argument);  // int(20 * 0.01) = 0 steps
}

TEST(Names, RoundTripAndRejectUnknown) {
  for (auto kind : kSamplerKinds) EXPECT_EQ(parse_sampler(sampler_name(kind)), kind);
  for (auto schedule : kSigmaSchedules) EXPECT_EQ(parse_sigma_schedule(sigma_schedule_name(schedule)), schedule);
  for (auto spacing : kSpacings) EXPECT_EQ(parse_spacing(spacing_name(spacing)), spacing);
  EXPECT_EQ(parse_sampler("dpm++2m"), SamplerKind::dpmpp_2m);
  try {
    parse_sampler("dpmpp");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "unknown sampler 'dpmpp' (valid: euler, euler_a, dpm++2m, ddim, lcm)");
  }
  EXPECT_THROW(parse_sigma_schedule("Karras"), std::invalid_argument);
  EXPECT_THROW(parse_spacing(""), std::invalid_argument);
}

}  // namespace
}  // namespace darkroom::sampling
