#include "fit_preview_command.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "darkroom/models/cpu_threads.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/preview/latent2rgb.hpp"

namespace darkroom::cli {
namespace {

struct FitPreviewOptions {
  std::string model;
  std::string model_config;
  std::string vocab;
  std::string out;
  int samples = 12;  // random latents
  int runs = 2;      // short generations whose x0 estimates join the samples
  int steps = 6;
  int size = 256;
  int64_t seed = 0;
  int threads = 0;
};

// A counter on stderr, rewritten in place on a terminal; logs and pipes get only its final state.
void status(const std::string& text, bool done) {
  static const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) std::cerr << "\r" << text << (done ? "\n" : "") << std::flush;
  else if (done) std::cerr << text << "\n";
}

// Prompts for the generated samples: varied colours and scenes, so the fit sees more than one palette.
constexpr std::array<const char*, 4> prompts{
    "a photograph of a mountain lake at sunrise, pine forest, mist",
    "a bowl of red and yellow fruit on a blue tablecloth, studio lighting",
    "a city street at night with neon signs and rain",
    "a portrait of an old fisherman, oil painting, warm light",
};

// Random latents with the statistics of scaled model latents (about unit variance): half white noise, half
// smooth fields (noise at 1/8 of the latent size, upsampled), since images are mostly smooth.
std::vector<torch::Tensor> random_latents(int count, int64_t channels, int64_t h, int64_t w, at::Generator& gen) {
  std::vector<torch::Tensor> out;
  for (int i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      out.push_back(torch::randn({1, channels, h, w}, gen));
      continue;
    }
    auto low = torch::randn({1, channels, std::max<int64_t>(1, h / 8), std::max<int64_t>(1, w / 8)}, gen);
    auto smooth = torch::upsample_bilinear2d(low, {h, w}, /*align_corners=*/false);
    out.push_back((smooth - smooth.mean({2, 3}, true)) / smooth.std({2, 3}, true, true).clamp_min(1e-6));
  }
  return out;
}

// The x0 estimate after every step of a short generation: what a denoised preview shows.
std::vector<torch::Tensor> generated_latents(const pipeline::StableDiffusion& model, const FitPreviewOptions& o) {
  std::vector<torch::Tensor> out;
  for (int r = 0; r < o.runs; ++r) {
    pipeline::GenerationRequest request;
    request.prompt = prompts[r % prompts.size()];
    request.width = request.height = o.size;
    request.steps = o.steps;
    request.seed = o.seed + 1 + r;
    pipeline::GenerationObserver observer;
    observer.on_step = [&](const sampling::StepInfo& info) {
      out.push_back(info.denoised.slice(0, 0, 1).to(torch::kCPU).clone());
      status("generation " + std::to_string(r + 1) + "/" + std::to_string(o.runs) + ": step " +
                 std::to_string(info.step + 1) + "/" + std::to_string(info.total),
             info.step + 1 == info.total);
    };
    model.generate(request, observer);
  }
  return out;
}

void print_table(const preview::Latent2RgbTable& table) {
  for (std::size_t k = 0; k < table.factors.size(); ++k)
    std::printf("  channel %2zu: [%8.4f, %8.4f, %8.4f]\n", k, table.factors[k][0], table.factors[k][1], table.factors[k][2]);
  std::printf("  bias:       [%8.4f, %8.4f, %8.4f]\n", table.bias[0], table.bias[1], table.bias[2]);
}

void run_fit_preview(const FitPreviewOptions& o) {
  if (o.model.empty()) throw std::invalid_argument("--model: no model given (a checkpoint .safetensors or a diffusers folder)");
  if (o.out.empty()) throw std::invalid_argument("--out: no output file given (table.json)");
  if (o.samples < 0 || o.runs < 0 || o.samples + o.runs == 0)
    throw std::invalid_argument("--samples and --runs: need at least one random latent or one generation");
  models::use_cpu_threads(o.threads);
  torch::NoGradGuard no_grad;

  pipeline::LoadOptions load;
  if (!o.vocab.empty()) load.vocab = o.vocab;
  if (!o.model_config.empty()) load.model_config = o.model_config;
  const auto model = pipeline::StableDiffusion::load(o.model, load);
  const int scale = model->latent_scale();
  if (o.size < scale || o.size % scale != 0)
    throw std::invalid_argument("--size: must be a positive multiple of " + std::to_string(scale) + ", not " + std::to_string(o.size));
  const int64_t side = o.size / scale;

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(o.seed));
  auto latents = random_latents(o.samples, model->source().vae_config.latent_channels, side, side, gen);
  for (auto& x0 : generated_latents(*model, o)) latents.push_back(std::move(x0));

  std::vector<torch::Tensor> images;
  for (const auto& latent : latents) {
    images.push_back(model->decode_latents(latent).cpu());
    status("decoded " + std::to_string(images.size()) + "/" + std::to_string(latents.size()),
           images.size() == latents.size());
  }
  const auto all_latents = torch::cat(latents), all_images = torch::cat(images);

  const auto table = preview::fit_latent2rgb(all_latents, all_images);
  std::printf("latent2rgb table fitted on %zu latents of %lldx%lld:\n", latents.size(), static_cast<long long>(side),
              static_cast<long long>(side));
  print_table(table);
  std::printf("rms error %.5f (0..1 image units, at latent resolution)\n",
              preview::latent2rgb_rms_error(table, all_latents, all_images));
  if (const auto published = preview::table_for(model->source().family))
    std::printf("the published %s table on the same samples: rms error %.5f\n",
                std::string(io::family_name(model->source().family)).c_str(),
                preview::latent2rgb_rms_error(*published, all_latents, all_images));
  preview::write_table(o.out, table);
  std::cerr << "wrote " << o.out << "\n";
}

}  // namespace

void add_fit_preview_command(CLI::App& app) {
  auto options = std::make_shared<FitPreviewOptions>();
  auto* cmd = app.add_subcommand("fit-preview",
                                 "Fit a latent2rgb preview table (3xC matrix + bias, least squares) against the model's VAE");
  cmd->add_option("--model,-m", options->model, "Checkpoint .safetensors file or diffusers model folder")->required();
  cmd->add_option("--model-config", options->model_config,
                  "darkroom model config (JSON) to use instead of the one beside the checkpoint");
  cmd->add_option("--vocab", options->vocab, "CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for models without a tokenizer");
  cmd->add_option("--samples", options->samples, "Random latents to decode")->capture_default_str();
  cmd->add_option("--runs", options->runs, "Short generations whose x0 estimate at every step is also decoded")
      ->capture_default_str();
  cmd->add_option("--steps", options->steps, "Steps per generation")->capture_default_str();
  cmd->add_option("--size", options->size, "Image side in pixels of every sample")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the random latents and generations")->capture_default_str();
  cmd->add_option("--out,-o", options->out, "Table to write (JSON)")->required();
  cmd->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  cmd->callback([options] { run_fit_preview(*options); });
}

}  // namespace darkroom::cli
