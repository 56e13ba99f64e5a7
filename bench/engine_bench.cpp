// Engine speed on a full-size SD1.5- or SDXL-architecture model (random weights): UNet step with CFG,
// text encoders, VAE decode, peak memory, and achieved GFLOP/s against this machine's measured fp32
// matmul rate. Usage: darkroom_engine_bench [--arch sd15|sdxl] [--model-dir DIR] [--threads N]
// [--sizes 256,512] [--whole SIDE] [--cuda]   (defaults: sd15 at 256,512; sdxl at 512,1024)
// --whole SIDE: instead of the per-component table, one whole generation as a user runs it (20 steps of
// euler with CFG at SIDE x SIDE, then the decode) with its time and the process's peak RSS, the number a
// user feels; run it in a process of its own so the peak is that generation's (and the load's).
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "darkroom/pipeline/stable_diffusion.hpp"
#include "int_list.hpp"
#include "random_models.hpp"
#include "unet_flops.hpp"

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double best_of(int reps, torch::Device device, F&& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    f();
    if (device.is_cuda()) torch::cuda::synchronize();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

double current_rss_gib() {
  long pages = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0 * 1024.0);
}

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / (1024.0 * 1024.0);
}

// Forward FLOPs of SD's VAE decoder (SD1.5 and SDXL share it): 2514 GFLOP at 512 px by PyTorch's FLOP
// counter (../shared/reference/libtorch.md), of which the one mid-block attention (4 N^2 C at N = 64^2
// tokens of C = 512) is 34 GFLOP and grows with the square of the pixels, the convolutions linearly.
double vae_gflop(int image_side) {
  const double attention = 4.0 * std::pow(image_side / 8.0, 4) * 512 / 1e9;
  const double attention_512 = 4.0 * std::pow(64.0, 4) * 512 / 1e9;
  return (2514.0 - attention_512) * std::pow(image_side / 512.0, 2) + attention;
}

}  // namespace

int main(int argc, char** argv) {
  std::string arch = "sd15";
  std::string model_dir;
  std::string vocab = std::string(DARKROOM_GOLDEN_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
  int threads = 2;
  std::vector<int> sizes;
  int whole = 0;
  bool cuda = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--arch" && i + 1 < argc && (std::string(argv[i + 1]) == "sd15" || std::string(argv[i + 1]) == "sdxl")) arch = argv[++i];
    else if (arg == "--model-dir" && i + 1 < argc) model_dir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (arg == "--sizes" && i + 1 < argc) sizes = darkroom::bench::parse_int_list(argv[++i]);
    else if (arg == "--whole" && i + 1 < argc) whole = std::stoi(argv[++i]);
    else if (arg == "--cuda") cuda = true;
    else {
      std::cerr << "usage: " << argv[0]
                << " [--arch sd15|sdxl] [--model-dir DIR] [--threads N] [--sizes 256,512] [--whole SIDE] [--cuda]\n";
      return 2;
    }
  }
  const bool xl = arch == "sdxl";
  if (model_dir.empty())
    model_dir = (std::filesystem::temp_directory_path() / ("darkroom-bench-" + arch + "-random")).string();
  if (sizes.empty()) sizes = xl ? std::vector<int>{512, 1024} : std::vector<int>{256, 512};
  at::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const torch::Device device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);

  // The machine's fp32 matmul rate, the yardstick for everything below.
  const int64_t n = 2048;
  auto a = torch::randn({n, n}, device), b = torch::randn({n, n}, device);
  const double mm_s = best_of(5, device, [&] { (void)torch::mm(a, b); });
  const double mm_gflops = 2.0 * n * n * n / mm_s / 1e9;
  std::printf("threads %d, device %s\nfp32 matmul 2048^3: %.1f GFLOP/s\n", threads, cuda ? "cuda" : "cpu", mm_gflops);

  if (xl) {
    darkroom::bench::ensure_sdxl_random_model(model_dir);
  } else {
    darkroom::bench::ensure_sd15_random_model(model_dir);
  }
  darkroom::pipeline::LoadOptions options;
  options.vocab = vocab;
  options.device = device;
  const auto load_start = Clock::now();
  const auto model = darkroom::pipeline::StableDiffusion::load(model_dir, options);
  std::printf("%s, load (F16 safetensors -> fp32 modules): %.2f s\n", arch.c_str(),
              std::chrono::duration<double>(Clock::now() - load_start).count());

  const double text_s = best_of(3, device, [&] { (void)model->encode_prompt("a photograph of an astronaut riding a horse"); });
  std::printf("text encoder%s (1 x 77 tokens): %.3f s\n", xl ? "s" : "", text_s);
  std::printf("RSS after loading: %.2f GiB (peak while loading %.2f GiB)\n", current_rss_gib(), peak_rss_gib());

  if (whole > 0) {
    darkroom::pipeline::GenerationRequest request;
    request.prompt = "a photograph of an astronaut riding a horse";
    request.negative_prompt = "";
    request.width = request.height = whole;
    request.steps = 20;
    request.cfg = 7.5;
    request.seed = 1;
    const auto start = Clock::now();
    const auto result = model->generate(request);
    if (device.is_cuda()) torch::cuda::synchronize();
    const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("\n| whole generation | total | prompt | 20 steps | decode | peak RSS (process) |\n|---|---|---|---|---|---|\n");
    std::printf("| %dx%d, euler, CFG | %.1f s | %.2f s | %.1f s | %.1f s | %.2f GiB |\n", whole, whole, total_s,
                result.timings.encode_prompt_s, result.timings.denoise_s, result.timings.decode_s, peak_rss_gib());
    return 0;
  }

  const auto& unet_config = model->source().unet_config;
  std::printf("UNet forward at batch 1, counted from its config: %.0f GFLOP at a 32x32 latent, %.0f at 64x64, %.0f at 128x128\n",
              darkroom::bench::unet_forward_gflop(unet_config, 32, 32), darkroom::bench::unet_forward_gflop(unet_config, 64, 64),
              darkroom::bench::unet_forward_gflop(unet_config, 128, 128));
  std::printf("\n| size | UNet step, CFG (batch 2) | GFLOP/s | %% of matmul | VAE decode | GFLOP/s | %% of matmul | peak RSS: denoising | and decoding |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const int side : sizes) {
    // A whole generation as a user runs one: the first step warms up (allocator, oneDNN primitive
    // caches), the fastest later one is reported; the decode runs once.
    darkroom::pipeline::GenerationRequest request;
    request.prompt = "a photograph of an astronaut riding a horse";
    request.negative_prompt = "";
    request.width = request.height = side;
    request.steps = xl ? 2 : 3;
    request.cfg = 5.0;
    request.seed = 1;
    std::vector<double> step_s;
    auto last = Clock::now();
    darkroom::pipeline::GenerationObserver observer;
    double denoise_peak_gib = 0;
    observer.on_phase = [&](darkroom::pipeline::Phase phase) {
      if (phase == darkroom::pipeline::Phase::denoising) last = Clock::now();
      if (phase == darkroom::pipeline::Phase::decoding) denoise_peak_gib = peak_rss_gib();
    };
    observer.on_step = [&](const darkroom::sampling::StepInfo&) {
      if (device.is_cuda()) torch::cuda::synchronize();
      const auto now = Clock::now();
      step_s.push_back(std::chrono::duration<double>(now - last).count());
      last = now;
    };
    const auto result = model->generate(request, observer);
    const double step = *std::min_element(step_s.begin() + 1, step_s.end());
    const double vae_s = result.timings.decode_s;
    const int latent = side / 8;
    const double unet_rate = 2 * darkroom::bench::unet_forward_gflop(unet_config, latent, latent) / step;
    const double vae_rate = vae_gflop(side) / vae_s;
    std::printf("| %dx%d | %.2f s | %.0f | %.0f%% | %.2f s | %.0f | %.0f%% | %.2f GiB | %.2f GiB |\n", side, side, step,
                unet_rate, 100 * unet_rate / mm_gflops, vae_s, vae_rate, 100 * vae_rate / mm_gflops, denoise_peak_gib,
                peak_rss_gib());
    std::fflush(stdout);
  }
  std::printf("\npeak RSS: %.2f GiB\n", peak_rss_gib());
  return 0;
}
