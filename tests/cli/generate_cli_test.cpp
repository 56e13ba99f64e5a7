// `darkroom generate` as a user runs it: the golden tiny checkpoint, the golden loop settings, and a PNG
// that must equal the reference pipeline's PNG within one level.
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
};

void PrintTo(const CliLoop& loop, std::ostream* os) { *os << loop.name; }

class GenerateCli : public ::testing::TestWithParam<CliLoop> {};

TEST_P(GenerateCli, WritesTheGoldenImage) {
  const auto& loop = GetParam();
  const auto out = temp_dir() / (std::string(loop.name) + ".png");
  const auto run = darkroom("generate --model " + quoted(golden::path("checkpoints/sd1_tiny.safetensors")) +
                            " --vocab " + quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) +
                            " --prompt 'a red apple on a wooden table' --width 64 --height 64 --seed 42 --threads 2 " +
                            loop.flags + " --out " + quoted(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("step 1/"), std::string::npos) << "no progress line:\n" << run.output;

  const auto ours = image::read_png(out);
  const auto ref = image::read_png(golden::path(std::string("loops/") + loop.name + ".png"));
  ASSERT_EQ(ours.width, ref.width);
  ASSERT_EQ(ours.height, ref.height);
  int max_diff = 0;
  for (std::size_t i = 0; i < ref.pixels.size(); ++i)
    max_diff = std::max(max_diff, std::abs(int(ours.pixels[i]) - int(ref.pixels[i])));
  EXPECT_LE(max_diff, 1);

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
  expect_error(darkroom("generate --model " + quoted(golden::path("checkpoints/sd1_tiny.safetensors")) +
                        " --vocab " + quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) + " --sampler heun"),
               "heun");
  expect_error(darkroom("generate --model " + quoted(golden::path("checkpoints/sdxl_tiny.safetensors"))),
               "SDXL");
  expect_error(darkroom("generate --model " + quoted(golden::path("checkpoints/sd1_tiny.safetensors"))),
               "--vocab");
}

TEST(FitPreviewCli, WritesATableThatLoads) {
  const auto out = temp_dir() / "table.json";
  const auto run = darkroom("fit-preview --model " + quoted(golden::path("checkpoints/sd1_tiny.safetensors")) +
                            " --vocab " + quoted(golden::path("clip/bpe_simple_vocab_16e6.txt.gz")) +
                            " --size 64 --samples 4 --runs 1 --threads 2 --out " + quoted(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("rms error"), std::string::npos) << run.output;
  const auto table = preview::read_table(out);
  EXPECT_EQ(table.factors.size(), 4u);  // one row per latent channel
}

}  // namespace
}  // namespace darkroom::cli
