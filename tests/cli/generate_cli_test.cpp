// `darkroom generate` as a user runs it: the golden tiny checkpoints (each with its model config beside
// it), the golden loop settings, and a PNG that must equal the reference pipeline's PNG within one level.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "darkroom/image/png.hpp"
#include "darkroom/preview/latent2rgb.hpp"
#include "cli_runner.hpp"
#include "support/golden.hpp"

namespace darkroom::cli {
namespace {
namespace fs = std::filesystem;

struct CliLoop {
  const char* name;
  const char* flags;
  const char* model = "sd1_tiny";
};

void PrintTo(const CliLoop& loop, std::ostream* os) { *os << loop.name; }

// The largest difference of one 8-bit value between two images; 256 when their sizes differ.
int max_level_difference(const image::Image& ours, const image::Image& ref) {
  if (ours.width != ref.width || ours.height != ref.height || ours.pixels.size() != ref.pixels.size()) return 256;
  int max_diff = 0;
  for (std::size_t i = 0; i < ref.pixels.size(); ++i)
    max_diff = std::max(max_diff, std::abs(int(ours.pixels[i]) - int(ref.pixels[i])));
  return max_diff;
}

class GenerateCli : public ::testing::TestWithParam<CliLoop> {};

TEST_P(GenerateCli, WritesTheGoldenImage) {
  const auto& loop = GetParam();
  const auto out = temp_dir() / (std::string(loop.name) + ".png");
  const auto run = darkroom("generate --model " + quoted(golden::checkpoint(loop.model)) +
                            " --vocab " + quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) +
                            " --prompt 'a red apple on a wooden table' --width 64 --height 64 --seed 42 --threads 2 " +
                            loop.flags + " --out " + quoted(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("step 1/"), std::string::npos) << "no progress line:\n" << run.output;

  const auto ref = image::read_png(golden::path(std::string("loops/") + loop.name + ".png"));
  EXPECT_LE(max_level_difference(image::read_png(out), ref), 1);

  // The PNG says how to reproduce it.
  const auto text = image::read_png_text(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text[0].first, "parameters");
  EXPECT_NE(text[0].second.find("a red apple on a wooden table"), std::string::npos);
  EXPECT_NE(text[0].second.find("Seed: 42"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Sd1, GenerateCli,
    ::testing::Values(CliLoop{"sd1_euler", "--steps 6 --cfg 7.5 --sampler euler"},
                      CliLoop{"sd1_euler_ancestral", "--steps 6 --cfg 7.5 --sampler euler_a"},
                      CliLoop{"sd1_dpmpp_2m_karras", "--steps 6 --cfg 7.5 --sampler dpm++2m --scheduler karras"},
                      CliLoop{"sd1_ddim", "--steps 6 --cfg 7.5 --sampler ddim"},
                      CliLoop{"sd1_lcm", "--steps 4 --cfg 1 --sampler lcm"}),
    [](const auto& info) { return std::string(info.param.name); });

// SDXL: no negative prompt conditions on zeros; an empty one is encoded.
INSTANTIATE_TEST_SUITE_P(
    Sdxl, GenerateCli,
    ::testing::Values(CliLoop{"sdxl_euler", "--steps 4 --cfg 5 --sampler euler", "sdxl_tiny"},
                      CliLoop{"sdxl_euler_neg", "--steps 4 --cfg 5 --sampler euler --negative ''", "sdxl_tiny"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(GenerateCliModelConfig, GivesTheHeadsAFileCannot) {
  // The golden file itself has no config beside it: its tiny CLIP (32 channels in 4 heads) fits no
  // convention, so it is refused until a model config says how its heads split.
  const auto bare = "generate --model " + quoted(golden::path("checkpoints/sd1_tiny.safetensors")) + " --vocab " +
                    quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) +
                    " --prompt 'a red apple on a wooden table' --width 64 --height 64 --seed 42 --threads 2"
                    " --steps 6 --cfg 7.5";
  const auto refused = darkroom(bare + " --out " + quoted(temp_dir() / "refused.png"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("text_encoder"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("model config"), std::string::npos) << refused.output;

  const auto out = temp_dir() / "configured.png";
  const auto run = darkroom(bare + " --model-config " +
                            quoted(golden::checkpoints_dir() / "sd1_tiny.json") + " --out " + quoted(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_LE(max_level_difference(image::read_png(out), image::read_png(golden::path("loops/sd1_euler.png"))), 1);
}

TEST(GenerateCliErrors, NamesTheProblem) {
  const auto dir = temp_dir();
  auto expect_error = [](const CommandRun& run, const std::string& needle) {
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.output.find(needle), std::string::npos) << run.output;
  };
  expect_error(darkroom("generate --model /nonexistent/model.safetensors --prompt x"), "does not exist");
  const auto text_file = dir / "notes.safetensors";
  std::ofstream(text_file) << "this is a text file renamed to .safetensors\n";
  expect_error(darkroom("generate --model " + quoted(text_file) + " --prompt x"), text_file.string());
  expect_error(darkroom("generate --model " + quoted(golden::checkpoint("sd1_tiny")) + " --vocab " +
                        quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) + " --sampler heun"),
               "heun");
  expect_error(darkroom("generate --model " + quoted(golden::checkpoint("sd1_tiny"))), "--vocab");
  expect_error(darkroom("generate --model " + quoted(golden::checkpoint("sdxl_tiny")) + " --original-size 64"),
               "--original-size");
}

TEST(FitPreviewCli, WritesATableThatLoads) {
  const auto out = temp_dir() / "table.json";
  const auto run = darkroom("fit-preview --model " + quoted(golden::checkpoint("sd1_tiny")) +
                            " --vocab " + quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) +
                            " --size 64 --samples 4 --runs 1 --threads 2 --out " + quoted(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("rms error"), std::string::npos) << run.output;
  const auto table = preview::read_table(out);
  EXPECT_EQ(table.factors.size(), 4u);  // one row per latent channel
}

}  // namespace
}  // namespace darkroom::cli
