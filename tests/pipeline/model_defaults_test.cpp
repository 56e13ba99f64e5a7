// What a model's config declares reaches the requests that leave those fields out. A model whose config
// rescales SD's schedule to zero terminal SNR (as darkroom's embedded model, and diffusers'
// rescale_betas_zero_snr models) samples from pure noise at sigma 4096, with the spacing its config names
// unless the request names one; a model's recommended guidance scale is the default cfg. A diffusers
// folder declares the same schedule fields in its scheduler_config.json, checked as strictly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <tuple>
#include <utility>

#include "darkroom/io/error.hpp"
#include "darkroom/io/model_config.hpp"
#include "darkroom/io/model_source.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {
namespace fs = std::filesystem;

class ModelDefaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darkroom-model-defaults-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    checkpoint_ = dir_ / "m.safetensors";
    fs::copy_file(golden::path("checkpoints/sd1_tiny.safetensors"), checkpoint_, fs::copy_options::overwrite_existing);
    io::ModelConfig config;
    config.noise_schedule = {true, "trailing"};
    write_config(config);
  }
  // The tiny model's heads (which no tensor records) with the settings under test.
  void write_config(io::ModelConfig config) {
    config.heads = io::read_model_config(golden::checkpoints_dir() / "sd1_tiny.json").heads;
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

TEST(UseModelDefaults, FillsOnlyWhatTheRequestLeavesOut) {
  const auto filled = [](GenerationRequest request, const ModelDefaults& defaults) {
    use_model_defaults(request, defaults);
    return request;
  };
  const ModelDefaults shapes{64, sampling::Spacing::trailing, 3.0};
  const auto asked = filled({}, shapes);
  EXPECT_EQ(std::tie(asked.width, asked.height), std::tuple(64, 64));
  EXPECT_EQ(asked.spacing, sampling::Spacing::trailing);
  EXPECT_EQ(asked.cfg, 3.0);

  GenerationRequest named;
  named.width = 128;
  named.spacing = sampling::Spacing::leading;
  named.cfg = 0.0;  // no guidance is a choice, not an absence
  const auto kept = filled(named, shapes);
  EXPECT_EQ(std::tie(kept.width, kept.height), std::tuple(128, 64));
  EXPECT_EQ(kept.spacing, sampling::Spacing::leading);
  EXPECT_EQ(kept.cfg, 0.0);

  const auto plain = filled({}, {});
  EXPECT_EQ(plain.width, 512);
  EXPECT_FALSE(plain.spacing);  // the sampler's own, chosen when the schedule is made
  EXPECT_EQ(plain.cfg, kDefaultGuidanceScale);
}

TEST_F(ModelDefaultsTest, ModelsRecommendedGuidanceScaleIsTheDefaultCfg) {
  io::ModelConfig config;
  config.guidance_scale = 2.0;
  write_config(config);
  LoadOptions options;
  options.vocab = golden::vocab_file();
  const auto model = StableDiffusion::load(checkpoint_, options);
  EXPECT_EQ(model_defaults(model->source()).cfg, 2.0);

  GenerationRequest r;
  r.prompt = "a red apple on a wooden table";
  r.width = r.height = 64;
  r.steps = 2;
  r.seed = 5;
  const auto unnamed = model->generate(r).latents;
  r.cfg = 2.0;
  const auto named = model->generate(r).latents;
  r.cfg = kDefaultGuidanceScale;
  const auto sd_default = model->generate(r).latents;
  EXPECT_TRUE(torch::equal(unnamed, named));
  EXPECT_FALSE(torch::allclose(unnamed, sd_default));
}

TEST_F(ModelDefaultsTest, ZeroTerminalSnrModelStartsFromPureNoiseWithItsSpacing) {
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

  // The same file with a config that names no schedule keeps SD's: sigma_max 14.6 at timestep 999.
  write_config({});
  const auto plain = StableDiffusion::load(checkpoint_, options);
  EXPECT_FALSE(model_defaults(plain->source()).spacing);
  EXPECT_NEAR(sigmas_of_run(*plain, sampling::Spacing::trailing).front(), 14.6146, 1e-3);
}

TEST(DiffusersFolder, ReadsTheScheduleFromItsSchedulerConfigAndNamesABadField) {
  const fs::path dir = fs::temp_directory_path() / ("darkroom-diffusers-scheduler-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(golden::tiny_sd1_path(golden::TinyLayout::diffusers_folder), dir,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  const auto scheduler_config = [&](const std::string& fields) {
    std::ofstream(dir / "scheduler" / "scheduler_config.json")
        << R"({"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", )" << fields << "}";
  };

  scheduler_config(R"("prediction_type": "v_prediction", "rescale_betas_zero_snr": true, "timestep_spacing": "trailing")");
  const auto source = io::open_model(dir);
  EXPECT_EQ(source.unet_config.prediction, io::Prediction::v_prediction);
  EXPECT_TRUE(source.noise_schedule.rescale_betas_zero_snr);
  EXPECT_EQ(model_defaults(source).spacing, sampling::Spacing::trailing);

  scheduler_config(R"("prediction_type": null, "timestep_spacing": null)");  // diffusers' "unset"
  EXPECT_EQ(io::open_model(dir).unet_config.prediction, io::Prediction::epsilon);

  for (const auto& [fields, field] : {std::pair{R"("prediction_type": "sample")", "'prediction_type'"},
                                      std::pair{R"("rescale_betas_zero_snr": "true")", "'rescale_betas_zero_snr'"},
                                      std::pair{R"("timestep_spacing": 1)", "'timestep_spacing'"}}) {
    SCOPED_TRACE(fields);
    scheduler_config(fields);
    try {
      io::open_model(dir);
      ADD_FAILURE() << "accepted";
    } catch (const io::ModelFileError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(field), std::string::npos) << message;
      EXPECT_NE(message.find("scheduler_config.json"), std::string::npos) << message;
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace darkroom::pipeline
