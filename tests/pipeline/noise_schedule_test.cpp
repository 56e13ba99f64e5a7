// A model whose config rescales SD's schedule to zero terminal SNR (as darkroom's embedded model, and
// diffusers' rescale_betas_zero_snr models) samples from pure noise at sigma 4096, with the spacing its
// config names unless the request names one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "darkroom/io/model_config.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {
namespace fs = std::filesystem;

class NoiseScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darkroom-noise-schedule-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    checkpoint_ = dir_ / "m.safetensors";
    fs::copy_file(golden::path("checkpoints/sd1_tiny.safetensors"), checkpoint_, fs::copy_options::overwrite_existing);
    io::ModelConfig config;
    config.noise_schedule = {true, "trailing"};
    io::write_model_config(io::model_config_path(checkpoint_), config);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The sigma of each step of a 4-step Euler run.
  std::vector<double> sigmas_of_run(const StableDiffusion& model, std::optional<sampling::Spacing> spacing) {
    GenerationRequest r;
    r.prompt = "a red apple on a wooden table";
    r.width = r.height = 64;
    r.steps = 4;
    r.seed = 3;
    r.spacing = spacing;
    std::vector<double> sigmas;
    GenerationObserver observer;
    observer.on_step = [&](const sampling::StepInfo& step) { sigmas.push_back(step.sigma); };
    const auto result = model.generate(r, observer);
    EXPECT_TRUE(torch::isfinite(result.latents).all().item<bool>());
    return sigmas;
  }

  fs::path dir_, checkpoint_;
};

TEST_F(NoiseScheduleTest, ZeroTerminalSnrModelStartsFromPureNoiseWithItsSpacing) {
  LoadOptions options;
  options.vocab = golden::vocab_file();
  const auto model = StableDiffusion::load(checkpoint_, options);
  const auto defaults = model_defaults(model->source());
  EXPECT_EQ(defaults.spacing, sampling::Spacing::trailing);

  const auto trailing = sigmas_of_run(*model, std::nullopt);
  ASSERT_EQ(trailing.size(), 4u);
  EXPECT_NEAR(trailing.front(), 4096.0, 1e-2);

  // A request's own spacing wins; "leading" starts at timestep 751 of the rescaled schedule.
  const auto leading = sigmas_of_run(*model, sampling::Spacing::leading);
  ASSERT_EQ(leading.size(), 4u);
  EXPECT_LT(leading.front(), 100.0);

  // The same file without the config keeps SD's schedule: sigma_max 14.6 at timestep 999.
  fs::remove(io::model_config_path(checkpoint_));
  const auto plain = StableDiffusion::load(checkpoint_, options);
  EXPECT_FALSE(model_defaults(plain->source()).spacing);
  EXPECT_NEAR(sigmas_of_run(*plain, sampling::Spacing::trailing).front(), 14.6146, 1e-3);
}

}  // namespace
}  // namespace darkroom::pipeline
