// Engine speed on a full-size SD1.5-architecture model (random weights): UNet step with CFG at 256 and
// 512 px, text encoder, VAE decode, peak memory, and achieved GFLOP/s against this machine's measured
// fp32 matmul rate. Usage: darkroom_engine_bench [--model-dir DIR] [--threads N] [--sizes 256,512] [--cuda]
#include <ATen/Parallel.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "darkroom/models/unet.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "int_list.hpp"
#include "sd15_random_model.hpp"

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

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / (1024.0 * 1024.0);
}

// Forward FLOPs of the SD1.5 UNet at batch 1 and of the VAE decoder, counted by PyTorch's FLOP counter
// (../shared/reference/libtorch.md): they scale with the number of latent pixels (attention a bit faster).
double unet_gflop(int latent_side) { return latent_side == 32 ? 180.0 : latent_side == 64 ? 803.0 : 0.0; }
double vae_gflop(int image_side) { return image_side == 512 ? 2514.0 : image_side == 256 ? 2514.0 / 4 : 0.0; }

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = (std::filesystem::temp_directory_path() / "darkroom-bench-sd15-random").string();
  std::string vocab = std::string(DARKROOM_GOLDEN_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
  int threads = 2;
  std::vector<int> sizes{256, 512};
  bool cuda = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model-dir" && i + 1 < argc) model_dir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (arg == "--sizes" && i + 1 < argc) sizes = darkroom::bench::parse_int_list(argv[++i]);
    else if (arg == "--cuda") cuda = true;
    else {
      std::cerr << "usage: " << argv[0] << " [--model-dir DIR] [--threads N] [--sizes 256,512] [--cuda]\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const torch::Device device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);

  // The machine's fp32 matmul rate, the yardstick for everything below.
  const int64_t n = 2048;
  auto a = torch::randn({n, n}, device), b = torch::randn({n, n}, device);
  const double mm_s = best_of(5, device, [&] { (void)torch::mm(a, b); });
  const double mm_gflops = 2.0 * n * n * n / mm_s / 1e9;
  std::printf("threads %d, device %s\nfp32 matmul 2048^3: %.1f GFLOP/s\n", threads, cuda ? "cuda" : "cpu", mm_gflops);

  darkroom::bench::ensure_sd15_random_model(model_dir);
  darkroom::pipeline::LoadOptions options;
  options.vocab = vocab;
  options.device = device;
  const auto load_start = Clock::now();
  const auto model = darkroom::pipeline::StableDiffusion::load(model_dir, options);
  std::printf("load (F16 safetensors -> fp32 modules): %.2f s\n",
              std::chrono::duration<double>(Clock::now() - load_start).count());

  const double text_s = best_of(3, device, [&] { (void)model->encode_prompt("a photograph of an astronaut riding a horse"); });
  std::printf("text encoder (1 x 77 tokens): %.3f s\n", text_s);
  const auto context = torch::cat({model->encode_prompt(""), model->encode_prompt("an astronaut")});

  auto unet = darkroom::models::load_unet(model->source().unet, model->source().unet_config);
  unet->to(device);
  std::printf("\n| size | UNet step, CFG (batch 2) | GFLOP/s | %% of matmul | VAE decode | GFLOP/s | %% of matmul |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const int side : sizes) {
    const int latent = side / 8;
    auto x = torch::randn({2, 4, latent, latent}, device);
    auto t = torch::full({}, 500.0, torch::TensorOptions().device(device));
    (void)unet->forward(x, t, context);  // warm-up: allocator, oneDNN primitive caches
    const double step_s = best_of(side >= 512 ? 2 : 3, device, [&] { (void)unet->forward(x, t, context); });
    auto z = torch::randn({1, 4, latent, latent}, device);
    (void)model->decode_latents(z);
    const double vae_s = best_of(2, device, [&] { (void)model->decode_latents(z); });
    const double unet_rate = 2 * unet_gflop(latent) / step_s, vae_rate = vae_gflop(side) / vae_s;
    std::printf("| %dx%d | %.2f s | %.0f | %.0f%% | %.2f s | %.0f | %.0f%% |\n", side, side, step_s, unet_rate,
                100 * unet_rate / mm_gflops, vae_s, vae_rate, 100 * vae_rate / mm_gflops);
    std::fflush(stdout);
  }
  std::printf("\npeak RSS: %.2f GiB\n", peak_rss_gib());
  return 0;
}
