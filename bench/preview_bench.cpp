// What previews cost: per-step denoising time with a preview after every step, for each method, as a
// ratio to no previews, decoded off the loop and inline (the engine picks per method by these numbers:
// PreviewDecoding::by_cost); and the time from the start of denoising to the first preview. Full-size SD1.5
// architecture with random weights (see random_models.hpp); the tiny autoencoder is the golden
// SD-shaped one (random weights, real size).
// Usage: darkroom_preview_bench [--model-dir DIR] [--threads N] [--size 256] [--steps 4]
#include <ATen/Parallel.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "darkroom/engine/engine.hpp"
#include "random_models.hpp"

namespace {

using namespace darkroom;

struct Run {
  double step_s = 0;           // denoising time / steps
  double first_preview_s = 0;  // from the denoising phase to the first preview event
  int previews = 0;
};

Run run_job(engine::Engine& engine, const std::string& model, preview::Method method, int size, int steps) {
  engine::JobRequest request;
  request.model = model;
  request.generation.prompt = "a lighthouse on a cliff at dusk";
  request.generation.width = request.generation.height = size;
  request.generation.steps = steps;
  request.generation.seed = 1;
  request.preview.method = method;
  const auto job = engine.submit(request);
  Run run;
  double denoise_start = -1;
  for (const auto& event : job->subscribe()) {
    if (const auto* phase = event.as<engine::PhaseChanged>(); phase && phase->phase == "denoising")
      denoise_start = event.time_s;
    if (event.as<engine::Preview>() && run.previews++ == 0) run.first_preview_s = event.time_s - denoise_start;
    if (const auto* done = event.as<engine::Completed>()) run.step_s = done->timings.at("denoising") / steps;
    if (const auto* error = event.as<engine::Error>()) throw std::runtime_error(error->message);
  }
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = (std::filesystem::temp_directory_path() / "darkroom-bench-sd15-random").string();
  int threads = 2, size = 256, steps = 4;
  const auto usage = [&] {
    std::cerr << "usage: " << argv[0] << " [--model-dir DIR] [--threads N] [--size 256] [--steps 4]\n";
    return 2;
  };
  if (argc % 2 == 0) return usage();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--model-dir") model_dir = argv[i + 1];
    else if (arg == "--threads") threads = std::stoi(argv[i + 1]);
    else if (arg == "--size") size = std::stoi(argv[i + 1]);
    else if (arg == "--steps") steps = std::stoi(argv[i + 1]);
    else return usage();
  }
  at::set_num_threads(threads);
  bench::ensure_sd15_random_model(model_dir);

  auto make_engine = [&](bool inline_previews) {
    engine::EngineOptions options;
    options.load.vocab = std::string(DARKROOM_GOLDEN_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
    options.taesd = std::string(DARKROOM_GOLDEN_DIR) + "/taesd/taesd_tiny_random_decoder.safetensors";
    options.preview_decoding = inline_previews ? engine::PreviewDecoding::inline_ : engine::PreviewDecoding::off_loop;
    return std::make_unique<engine::Engine>(std::move(options));
  };
  auto off_loop = make_engine(false), inline_ = make_engine(true);
  run_job(*off_loop, model_dir, preview::Method::none, size, 1);  // load and warm up
  run_job(*inline_, model_dir, preview::Method::none, size, 1);

  const double base = run_job(*off_loop, model_dir, preview::Method::none, size, steps).step_s;
  std::printf("threads %d, %dx%d, %d steps, a preview after every step\nno previews: %.2f s/step\n\n", threads, size,
              size, steps, base);
  std::printf("| method | decoded | s/step | ratio to none | first preview after | previews |\n|---|---|---|---|---|---|\n");
  for (const auto method : {preview::Method::latent2rgb, preview::Method::taesd, preview::Method::vae}) {
    for (const bool inline_previews : {false, true}) {
      const auto r = run_job(inline_previews ? *inline_ : *off_loop, model_dir, method, size, steps);
      std::printf("| %s | %s | %.2f | %.2fx | %.2f s | %d/%d |\n", std::string(preview::method_name(method)).c_str(),
                  inline_previews ? "inline" : "off the loop", r.step_s, r.step_s / base, r.first_preview_s, r.previews,
                  steps);
      std::fflush(stdout);
    }
  }
  return 0;
}
