// SD2 single files: OpenCLIP text encoder under cond_stage_model.model, padding with 0, conditioning from
// the penultimate layer, v-prediction. No SD2 golden loop exists, so this assembles an SD2-layout file
// from golden parts (the tiny SD1 UNet and VAE, the tiny OpenCLIP-layout gelu CLIP) and checks what the
// goldens do pin down: detection and the text conditioning SD2 uses.
#include <gtest/gtest.h>

#include "darkroom/io/model_config.hpp"
#include "darkroom/io/safetensors_writer.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {
namespace fs = std::filesystem;

fs::path make_sd2_layout_file() {
  const auto sd1 = io::SafetensorsFile::open(golden::path("checkpoints/sd1_tiny.safetensors"));
  const auto sdxl = io::SafetensorsFile::open(golden::path("checkpoints/sdxl_tiny.safetensors"));
  std::vector<io::TensorToWrite> tensors;
  auto copy = [&](const io::SafetensorsFile& file, std::string_view from, const std::string& to) {
    for (const auto& t : file.tensors())
      if (t.name.starts_with(from))
        tensors.push_back({to + t.name.substr(from.size()), t.dtype, t.shape, file.bytes(t)});
  };
  copy(*sd1, "model.diffusion_model.", "model.diffusion_model.");
  copy(*sd1, "first_stage_model.", "first_stage_model.");
  copy(*sdxl, "conditioner.embedders.1.model.", "cond_stage_model.model.");
  const auto out = fs::temp_directory_path() / ("darkroom-sd2-layout-" + std::to_string(::getpid()) + ".safetensors");
  io::write_safetensors(out, tensors);
  // The tiny parts' heads: the SD1 UNet's 8 per level, CLIP's 32 channels in 4.
  io::write_model_config(io::model_config_path(out),
                         io::read_model_config(golden::checkpoints_dir() / "sd1_tiny.json"));
  return out;
}

TEST(Sd2Layout, LoadsAsSd2AndConditionsOnThePenultimateLayer) {
  const auto file = make_sd2_layout_file();
  LoadOptions options;
  options.vocab = golden::vocab_file();
  const auto model = StableDiffusion::load(file, options);
  const auto& source = model->source();
  EXPECT_EQ(source.family, io::ModelFamily::sd2);
  EXPECT_EQ(source.pad_token, 0);
  EXPECT_EQ(source.text_config.activation, io::ClipTextConfig::Activation::gelu);
  EXPECT_EQ(source.unet_config.prediction, io::Prediction::v_prediction);

  // SD2 conditions on ln_final(penultimate layer) of OpenCLIP, with inputs padded with 0.
  const auto g = golden::load("clip_text/clip_tiny_gelu.golden.safetensors");
  const auto expected = g.at("penultimate_hidden_state_ln").slice(0, 0, 2);  // "a red apple ...", ""
  const auto ours = torch::cat({model->encode_prompt("a red apple on a wooden table"), model->encode_prompt("")});
  EXPECT_TRUE(golden::component_close(ours, expected));

  GenerationRequest r;
  r.prompt = "a red apple on a wooden table";
  r.width = r.height = 64;
  r.steps = 3;
  r.seed = 7;
  const auto result = model->generate(r);
  ASSERT_EQ(result.images.size(), 1u);
  EXPECT_FALSE(torch::isnan(result.latents).any().item<bool>());
  fs::remove(file);
  fs::remove(io::model_config_path(file));
}

TEST(ModelErrors, MissingTensorIsNamedWithTheFile) {
  const auto sd1 = io::SafetensorsFile::open(golden::path("checkpoints/sd1_tiny.safetensors"));
  std::vector<io::TensorToWrite> tensors;
  for (const auto& t : sd1->tensors())
    if (t.name != "model.diffusion_model.out.2.weight") tensors.push_back({t.name, t.dtype, t.shape, sd1->bytes(t)});
  const auto file = fs::temp_directory_path() / ("darkroom-missing-" + std::to_string(::getpid()) + ".safetensors");
  io::write_safetensors(file, tensors);
  fs::copy_file(golden::checkpoints_dir() / "sd1_tiny.json", io::model_config_path(file), fs::copy_options::overwrite_existing);
  LoadOptions options;
  options.vocab = golden::vocab_file();
  try {
    StableDiffusion::load(file, options);
    ADD_FAILURE() << "loaded a checkpoint without the UNet's output conv";
  } catch (const io::ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("conv_out.weight"), std::string::npos) << e.what();
  }
  fs::remove(file);
  fs::remove(io::model_config_path(file));
}

}  // namespace
}  // namespace darkroom::pipeline
