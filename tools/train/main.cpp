// darkroom-train: trains darkroom's embedded model from generated scenes, stage by stage, resumably.
//   darkroom-train --work train-work --out models/darkroom-shapes.safetensors
// runs every stage that is not finished yet (tokenizer, autoencoder, diffusion, export); name stages to
// run only those. Stop it at any time (or give --minutes): the next run carries on from the checkpoints.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "darkroom/models/cpu_threads.hpp"
#include "darkroom/training/trainer.hpp"

namespace {

using darkroom::training::TrainOptions;

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available()) throw std::runtime_error("--device cuda: this libtorch has no usable CUDA device");
    return torch::kCUDA;
  }
  throw std::runtime_error("--device must be cpu or cuda, not '" + name + "'");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"darkroom-train: train darkroom's embedded text-to-image model on generated scenes"};
  TrainOptions options;
  std::vector<std::string> stages;
  std::string out = "models/darkroom-shapes.safetensors", device = "cpu";
  int threads = 0;
  app.add_option("stages", stages, "Stages to run: tokenizer, autoencoder, diffusion, export (default: all)")
      ->check(CLI::IsMember({"tokenizer", "autoencoder", "diffusion", "export"}));
  app.add_option("--work", options.work_dir, "Folder for checkpoints and loss logs")->required();
  app.add_option("--out", out, "The exported checkpoint")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda")->capture_default_str();
  app.add_option("--ae-steps", options.autoencoder.steps, "Autoencoder steps")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--ae-batch", options.autoencoder.batch, "Autoencoder batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--ae-lr", options.autoencoder.learning_rate, "Autoencoder peak learning rate")->capture_default_str();
  app.add_option("--kl-weight", options.kl_weight, "Autoencoder KL weight, per latent element")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--foreground-weight", options.foreground_weight,
                 "Loss weight of the pixels objects cover, against 1 for the background")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  app.add_option("--steps", options.diffusion.steps, "Diffusion steps")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", options.diffusion.batch, "Diffusion batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", options.diffusion.learning_rate, "Diffusion peak learning rate")->capture_default_str();
  const std::map<std::string, darkroom::io::Prediction> predictions{
      {"epsilon", darkroom::io::Prediction::epsilon}, {"v", darkroom::io::Prediction::v_prediction}};
  app.add_option("--prediction", options.prediction, "What the UNet predicts: epsilon | v (default: v)")
      ->transform(CLI::CheckedTransformer(predictions).description(""))->type_name("epsilon|v");
  app.add_option("--latent-std", options.latent_std, "Standard deviation of the scaled latents the UNet learns")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--zero-terminal-snr,!--no-zero-terminal-snr", options.zero_terminal_snr,
               "Rescale the noise schedule so that its last step is pure noise (default: on)");
  app.add_option("--high-noise-share", options.high_noise_share,
                 "Share of each batch trained at the noisiest 30% of the schedule")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--guidance-scale", options.guidance_scale, "Guidance scale the exported model recommends")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--caption-dropout", options.caption_dropout, "Share of empty captions")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--ema", options.ema_decay, "EMA decay of the exported weights")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--minutes", options.time_limit_minutes, "Stop each stage after this long (resume later); 0: no limit")->capture_default_str();
  app.add_option("--log-every", options.log_every, "Steps per loss-log row")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", options.checkpoint_every, "Steps between checkpoints")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "Seed of the weights' initialisation and the noise")->capture_default_str();
  app.add_option("--threads", threads, "Torch CPU threads (0: one per core)")->capture_default_str();
  app.add_option("--data-threads", options.data_threads, "Scene rendering threads")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    options.device = parse_device(device);
    darkroom::models::use_cpu_threads(threads);
    std::filesystem::create_directories(options.work_dir);
    const auto wants = [&](const char* stage) {
      return stages.empty() || std::find(stages.begin(), stages.end(), stage) != stages.end();
    };
    if (wants("tokenizer")) darkroom::training::train_tokenizer(options);
    if (wants("autoencoder") && !darkroom::training::train_autoencoder(options)) return 3;
    if (wants("diffusion") && !darkroom::training::train_diffusion(options)) return 3;
    if (wants("export")) darkroom::training::export_model(options, out);
  } catch (const std::exception& e) {
    std::cerr << "darkroom-train: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
