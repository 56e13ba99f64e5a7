// The embedded model as a user meets it on a fresh machine: the README's main command with no --model, the
// same loader and sampler as the Stable Diffusion checkpoints, and the quality gate in small, so a change in
// the engine that hurts the model shows up here.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "darkroom/io/model_source.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/scenes/adherence.hpp"
#include "darkroom/scenes/prompt.hpp"

namespace darkroom::cli {
namespace {

namespace fs = std::filesystem;
const fs::path kModel = DARKROOM_EMBEDDED_MODEL;

TEST(EmbeddedModel, IsAnSd1SingleFileWithItsOwnTokenizerAndPreviewTable) {
  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(kModel.parent_path()))
    if (entry.path().stem().string().starts_with(kModel.stem().string())) bytes += entry.file_size();
  EXPECT_LE(bytes, 30u << 20);  // the model and everything beside it

  const auto source = io::open_model(kModel);
  EXPECT_EQ(source.layout, io::Layout::single_file);
  EXPECT_EQ(source.family, io::ModelFamily::sd1);
  EXPECT_EQ(source.image_size, 64);
  EXPECT_TRUE(source.tokenizer);
  EXPECT_TRUE(source.latent2rgb_table);

  // Loaded and sampled through the code the SD golden models go through.
  pipeline::GenerationRequest request;
  request.prompt = "a large yellow square in the center on a purple background";
  request.seed = 3;
  request.sampler = sampling::SamplerKind::dpmpp_2m;
  const auto image = pipeline::StableDiffusion::load(kModel)->generate(request).images.at(0);
  EXPECT_EQ(image.width, 64);
  EXPECT_EQ(image.height, 64);
  const auto adherence = scenes::measure(image, *scenes::parse_prompt(request.prompt));
  EXPECT_TRUE(adherence.colour_ok);
}

TEST(EmbeddedModel, TheMainCommandShowsThePromptDeveloping) {
  const auto dir = temp_dir() / "main-command";
  fs::create_directories(dir);
  const auto run = darkroom("generate 'a red circle in the center on a blue background' --seed 1 --threads 2 --preview-anim " +
                            quoted(dir / "develop.webp") + " --out " + quoted(dir / "image.png"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto image = image::read_png(dir / "image.png");
  EXPECT_EQ(image.width, 64);
  const auto adherence = scenes::measure(image, *scenes::parse_prompt("a red circle in the center on a blue background"));
  // Not the count: the autoencoder leaves a faint speck beside some objects, which counts as one (model card).
  EXPECT_TRUE(adherence.colour_ok && adherence.position_ok) << run.output;
  const auto animation = image::decode_webp_animation(read_bytes(dir / "develop.webp"));
  EXPECT_GT(animation.frames.size(), 2u);  // auto previews every step, then the image
  fs::remove_all(dir);
}

TEST(EmbeddedModel, KeepsItsPromptAdherence) {
  const auto report = temp_dir() / "eval.json";
  const auto run = darkroom("eval --prompts 12 --threads 2 --json " + quoted(report));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto eval = nlohmann::json::parse(std::ifstream(report));
  EXPECT_EQ(eval.at("settings").at("cfg"), 2.0);  // the model's recommended scale, from its config
  // The full evaluation (100 prompts) is in models/darkroom-shapes.md; these 12 are a regression check
  // (the shipped model gets 10 colours and 11 positions of them right; at 100 prompts, colour 89% and
  // position 91%; chance is 1 in 11 colours and 1 in 9 positions). The floors allow one more miss each,
  // not a broken prompt encoder, sampler or decoder. The count's floor is lower: gradient backgrounds are
  // read as several objects.
  const auto& percent = eval.at("percent");
  EXPECT_GE(percent.at("colour").get<double>(), 75.0) << run.output;
  EXPECT_GE(percent.at("position").get<double>(), 75.0) << run.output;
  EXPECT_GE(percent.at("count").get<double>(), 25.0) << run.output;
}

// The autoencoder on its own: the held-out scenes encoded (posterior mean) and decoded. It bounds what the
// diffusion model can draw. The floors are a little under the shipped autoencoder's level (colour and
// position right for all 100 held-out scenes; see the model card).
TEST(EmbeddedModel, AutoencoderEvaluationMeasuresRoundTrips) {
  const auto report_file = temp_dir() / "autoencoder.json";
  const auto run = darkroom("eval --autoencoder --prompts 12 --threads 2 --json " + quoted(report_file));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto report = nlohmann::json::parse(std::ifstream(report_file));
  EXPECT_EQ(report.at("settings").at("measured"), "autoencoder");
  EXPECT_EQ(report.at("results").size(), 12u);
  EXPECT_GE(report.at("percent").at("position").get<double>(), 90.0) << run.output;
  EXPECT_GE(report.at("percent").at("colour").get<double>(), 90.0) << run.output;
}

}  // namespace
}  // namespace darkroom::cli
