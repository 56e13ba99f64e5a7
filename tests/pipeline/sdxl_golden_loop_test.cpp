// Whole SDXL denoising loops against diffusers' StableDiffusionXLPipeline (loops/sdxl_euler*): both text
// encoders' conditioning and the pooled embedding, zero conditioning for an absent negative prompt,
// every step's latents and x0, and the final image, through the single-file and diffusers layouts.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "darkroom/io/error.hpp"
#include "darkroom/io/model_config.hpp"
#include "darkroom/io/safetensors_writer.hpp"
#include "support/golden.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {

using golden::TinyLayout;

struct SdxlLoop {
  const char* name;
  std::optional<std::string> negative_prompt;  // absent: diffusers' negative_prompt=None
};

const SdxlLoop kLoops[] = {{"sdxl_euler", std::nullopt}, {"sdxl_euler_neg", ""}};

constexpr const char* kPrompt = "a red apple on a wooden table";

GenerationRequest golden_request(const SdxlLoop& loop) {
  GenerationRequest r;
  r.prompt = kPrompt;
  r.negative_prompt = loop.negative_prompt;
  r.width = r.height = 64;
  r.steps = 4;
  r.cfg = 5.0;
  r.sampler = sampling::SamplerKind::euler;
  r.seed = 42;
  return r;
}

class SdxlGoldenLoop : public ::testing::TestWithParam<std::tuple<SdxlLoop, TinyLayout>> {
 protected:
  static void SetUpTestSuite() { at::set_num_threads(2); }
};

TEST_P(SdxlGoldenLoop, MatchesDiffusersStepByStep) {
  const auto& [loop, layout] = GetParam();
  const auto model = golden::tiny_sdxl(layout);
  const auto g = golden::load(std::string("loops/") + loop.name + ".safetensors");

  // Conditioning, batch order [negative, positive].
  const auto positive = model->embed_prompt(kPrompt);
  EXPECT_TRUE(golden::component_close(positive.context, g.at("encoder_hidden_states").slice(0, 1, 2)));
  EXPECT_TRUE(golden::component_close(positive.pooled, g.at("add_text_embeds").slice(0, 1, 2)));
  if (loop.negative_prompt) {
    const auto negative = model->embed_prompt(*loop.negative_prompt);
    EXPECT_TRUE(golden::component_close(negative.context, g.at("encoder_hidden_states").slice(0, 0, 1)));
    EXPECT_TRUE(golden::component_close(negative.pooled, g.at("add_text_embeds").slice(0, 0, 1)));
  }
  // The zero negative conditioning and the time ids are checked through the loop below, whose every step
  // depends on them.

  std::vector<torch::Tensor> latents, x0;
  GenerationObserver observer;
  observer.on_step = [&](const sampling::StepInfo& info) {
    latents.push_back(info.x.clone());
    x0.push_back(info.denoised.clone());
  };
  const auto result = model->generate(golden_request(loop), observer);

  ASSERT_EQ(latents.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(golden::loop_close(latents[i], g.at("latents")[i])) << "latents at step " << i;
    EXPECT_TRUE(golden::loop_close(x0[i], g.at("x0_pred")[i])) << "x0 at step " << i;
  }
  EXPECT_TRUE(golden::loop_close(result.latents, g.at("final_latents")));

  ASSERT_EQ(result.images.size(), 1u);
  EXPECT_TRUE(golden::image_close(result.images[0], g.at("image_uint8")));
}

std::string loop_name(const ::testing::TestParamInfo<SdxlGoldenLoop::ParamType>& info) {
  const auto& [loop, layout] = info.param;
  return std::string(loop.name) + "_" + golden::layout_name(layout);
}

INSTANTIATE_TEST_SUITE_P(Sdxl, SdxlGoldenLoop,
                         ::testing::Combine(::testing::ValuesIn(kLoops),
                                            ::testing::Values(TinyLayout::single_file, TinyLayout::diffusers_folder)),
                         loop_name);

TEST(Sdxl, DetectsTheArchitectureFromWeightsAndConfig) {
  for (const auto layout : {TinyLayout::single_file, TinyLayout::diffusers_folder}) {
    const auto& source = golden::tiny_sdxl(layout)->source();
    EXPECT_EQ(source.family, io::ModelFamily::sdxl);
    EXPECT_EQ(source.unet_config.num_heads, (std::vector<int64_t>{2, 2, 4}));
    EXPECT_EQ(source.unet_config.transformer_layers, (std::vector<int64_t>{0, 2, 2}));
    EXPECT_EQ(source.unet_config.mid_transformer_layers, 2);
    EXPECT_EQ(source.unet_config.addition_time_embed_dim, 8);
    EXPECT_EQ(source.unet_config.projection_class_embeddings_input_dim, 80);
    EXPECT_EQ(source.vae_config.scaling_factor, 0.13025);
    EXPECT_EQ(source.image_size, 1024);
    EXPECT_EQ(source.pad_token, 49407);
    ASSERT_TRUE(source.text_encoder_2);
    EXPECT_EQ(source.text_encoder_2->pad_token, 0);
    EXPECT_EQ(source.text_encoder_2->config.projection_dim, 32);
    EXPECT_TRUE(source.force_zeros_for_empty_prompt);
  }
  EXPECT_EQ(golden::tiny_sdxl(TinyLayout::single_file)->source().unet_config,
            golden::tiny_sdxl(TinyLayout::diffusers_folder)->source().unet_config);
}

TEST(Sdxl, SizeConditioningChangesTheImageAndLongPromptsWork) {
  const auto model = golden::tiny_sdxl(TinyLayout::single_file);
  auto r = golden_request(kLoops[0]);
  const auto plain = model->generate(r);
  r.original_size = ImageSize{128, 96};
  r.crop_top_left = CropOffset{16, 8};
  const auto conditioned = model->generate(r);
  EXPECT_FALSE(torch::equal(plain.latents, conditioned.latents));
  // The same values given explicitly are the defaults.
  r.original_size = ImageSize{64, 64};
  r.crop_top_left = CropOffset{0, 0};
  r.target_size = ImageSize{64, 64};
  EXPECT_TRUE(torch::equal(plain.latents, model->generate(r).latents));

  std::string prompt;
  for (int i = 0; i < 100; ++i) prompt += "cat ";
  const auto embedding = model->embed_prompt(prompt);
  EXPECT_EQ(embedding.context.sizes(), (std::vector<int64_t>{1, 154, 64}));
  EXPECT_EQ(embedding.pooled.sizes(), (std::vector<int64_t>{1, 32}));
  r.prompt = prompt;
  r.negative_prompt = "blurry";
  r.batch = 2;
  const auto batch = model->generate(r);
  EXPECT_EQ(batch.images.size(), 2u);
}

TEST(Sdxl, EverySamplerRunsIncludingTurboStyleSettings) {
  const auto model = golden::tiny_sdxl(TinyLayout::single_file);
  for (const auto sampler : {sampling::SamplerKind::euler, sampling::SamplerKind::euler_a, sampling::SamplerKind::dpmpp_2m,
                             sampling::SamplerKind::ddim, sampling::SamplerKind::lcm}) {
    for (const auto schedule : {sampling::SigmaSchedule::discrete, sampling::SigmaSchedule::karras}) {
      // DDIM and LCM have no Karras variant (the server refuses the pair).
      if (schedule == sampling::SigmaSchedule::karras &&
          (sampler == sampling::SamplerKind::ddim || sampler == sampling::SamplerKind::lcm))
        continue;
      auto r = golden_request(kLoops[0]);
      r.sampler = sampler;
      r.scheduler = schedule;
      r.steps = 2;
      const auto result = model->generate(r);
      EXPECT_FALSE(torch::isnan(result.latents).any().item<bool>())
          << sampling::sampler_name(sampler) << " " << sampling::sigma_schedule_name(schedule);
    }
  }
  // SDXL-Turbo: one step, trailing spacing, guidance off.
  auto turbo = golden_request(kLoops[0]);
  turbo.steps = 1;
  turbo.cfg = 0.0;
  turbo.spacing = sampling::Spacing::trailing;
  std::vector<int> steps;
  GenerationObserver observer;
  observer.on_step = [&](const sampling::StepInfo& info) { steps.push_back(info.step); };
  const auto result = model->generate(turbo, observer);
  EXPECT_EQ(steps, std::vector<int>{0});
  EXPECT_FALSE(torch::isnan(result.latents).any().item<bool>());
}

// The refiner's layout (one OpenCLIP encoder at embedders.0, aesthetic-score conditioning) is refused
// as such, in both layouts, rather than failing somewhere inside.
TEST(Sdxl, RefinerStyleModelsAreRefusedAsNotSupported) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("darkroom-refiner-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto expect_refused = [](const fs::path& model) {
    try {
      io::open_model(model);
      ADD_FAILURE() << "opened " << model;
    } catch (const io::ModelFileError& e) {
      EXPECT_NE(std::string(e.what()).find("refiner"), std::string::npos) << e.what();
    }
  };

  const auto sdxl = io::SafetensorsFile::open(golden::path("checkpoints/sdxl_tiny.safetensors"));
  std::vector<io::TensorToWrite> tensors;
  for (const auto& t : sdxl->tensors()) {
    std::string name = t.name;
    if (name.starts_with("conditioner.embedders.0.")) continue;
    if (name.starts_with("conditioner.embedders.1.")) name.replace(0, 24, "conditioner.embedders.0.");
    tensors.push_back({name, t.dtype, t.shape, sdxl->bytes(t)});
  }
  io::write_safetensors(dir / "refiner.safetensors", tensors);
  fs::copy_file(golden::checkpoints_dir() / "sdxl_tiny.json", dir / "refiner.json");
  expect_refused(dir / "refiner.safetensors");

  // diffusers' refiner folders have text_encoder_2 and no text_encoder.
  const auto folder = dir / "refiner-folder";
  fs::copy(golden::tiny_sdxl_path(TinyLayout::diffusers_folder), folder,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::remove_all(folder / "text_encoder");
  expect_refused(folder);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace darkroom::pipeline
