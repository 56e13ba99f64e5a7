// How soon a cancel is honoured, and what the checks cost, on a full-size SD1.5-architecture model (random
// weights). A running job stops at its next interruption point (models/interruption.hpp), so the worst
// cancel latency of a pass is the longest gap between two consecutive points in it: measured here for one
// UNet step with CFG and one VAE decode at each size, by timestamping every point. The cost of the checks
// is a UNet step with and without a check installed (an atomic load, as the engine's), in turn.
// Usage: darkroom_cancel_bench [--model-dir DIR] [--threads N] [--sizes 512,1024,2048]
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "darkroom/models/interruption.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "int_list.hpp"
#include "random_models.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Gaps {
  int points = 0;
  double longest_s = 0;
  double total_s = 0;
};

// Runs `pass` with a check that timestamps every interruption point; the gaps include the pass's start
// and end, where a cancel would also have to wait.
template <class F>
Gaps interruption_gaps(F&& pass) {
  Gaps gaps;
  const auto start = Clock::now();
  auto last = start;
  const darkroom::models::InterruptionScope scope([&] {
    const auto now = Clock::now();
    gaps.longest_s = std::max(gaps.longest_s, seconds(now - last));
    last = now;
    ++gaps.points;
  });
  pass();
  const auto end = Clock::now();
  gaps.longest_s = std::max(gaps.longest_s, seconds(end - last));
  gaps.total_s = seconds(end - start);
  return gaps;
}

template <class F>
double timed(F&& f) {
  const auto start = Clock::now();
  f();
  return seconds(Clock::now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = (std::filesystem::temp_directory_path() / "darkroom-bench-sd15-random").string();
  std::string vocab = std::string(DARKROOM_GOLDEN_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
  int threads = 2;
  std::vector<int> sizes{512, 1024};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model-dir" && i + 1 < argc) model_dir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (arg == "--sizes" && i + 1 < argc) sizes = darkroom::bench::parse_int_list(argv[++i]);
    else {
      std::cerr << "usage: " << argv[0] << " [--model-dir DIR] [--threads N] [--sizes 512,1024,2048]\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  darkroom::bench::ensure_sd15_random_model(model_dir);
  darkroom::pipeline::LoadOptions options;
  options.vocab = vocab;
  const auto model = darkroom::pipeline::StableDiffusion::load(model_dir, options);
  const auto context = torch::cat({model->encode_prompt(""), model->encode_prompt("an astronaut")});
  auto unet = darkroom::models::load_unet(model->source().unet, model->source().unet_config);
  std::printf("threads %d\n", threads);

  // 1. The checks' cost: one 256x256 UNet step with CFG, without and with the engine's check, in turn.
  {
    auto x = torch::randn({2, 4, 32, 32});
    auto t = torch::full({}, 500.0);
    (void)unet->forward(x, t, context);  // warm-up
    std::atomic<bool> cancelled{false};
    double without = 1e30, with = 1e30;
    int points = 0;
    for (int round = 0; round < 3; ++round) {
      without = std::min(without, timed([&] { (void)unet->forward(x, t, context); }));
      with = std::min(with, timed([&] {
        const darkroom::models::InterruptionScope scope([&] {
          ++points;
          if (cancelled.load(std::memory_order_relaxed)) throw std::runtime_error("cancelled");
        });
        (void)unet->forward(x, t, context);
      }));
    }
    std::printf("\ncost of the checks, UNet step with CFG at 256x256 (best of 3): %.3f s without, %.3f s with "
                "%d checks a step: %+.2f%%\n",
                without, with, points / 3, 100 * (with / without - 1));
  }

  // 2. The longest gap between interruption points, per pass and size.
  std::printf("\n| size | UNet step, CFG | checks | longest gap | VAE decode | checks | longest gap |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const int side : sizes) {
    const int latent = side / 8;
    auto x = torch::randn({2, 4, latent, latent});
    auto t = torch::full({}, 500.0);
    const auto step = interruption_gaps([&] { (void)unet->forward(x, t, context); });
    auto z = torch::randn({1, 4, latent, latent});
    const auto decode = interruption_gaps([&] { (void)model->decode_latents(z); });
    std::printf("| %dx%d | %.1f s | %d | %.2f s | %.1f s | %d | %.2f s |\n", side, side, step.total_s, step.points,
                step.longest_s, decode.total_s, decode.points, decode.longest_s);
    std::fflush(stdout);
  }
  return 0;
}
