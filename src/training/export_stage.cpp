// Stage 3: the shipped files. The EMA weights of the UNet and text encoder and the autoencoder go into one
// SD1 single-file checkpoint (F16); NAME.json says what the weights cannot (scaling factor, training
// resolution, prediction, tokenizer), and the learned tokenizer is copied beside it.
#include <cstdio>

#include "darkroom/io/model_config.hpp"
#include "darkroom/models/clip_text.hpp"
#include "darkroom/models/single_file.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/training/trainer.hpp"
#include "stage.hpp"
#include "trained_parts.hpp"

namespace darkroom::training {

namespace fs = std::filesystem;

void export_model(const TrainOptions& options, const fs::path& model) {
  const TrainingFiles files(options.work_dir);
  const auto tokenizer = load_learned_tokenizer(files);
  const auto architecture = shapes_architecture(static_cast<int64_t>(tokenizer.vocab_size()), options.prediction);
  auto vae = load_trained_autoencoder(files, architecture, options.device);
  models::UNet2DConditionModel unet(architecture.unet);
  models::ClipTextModel text_encoder(architecture.text);
  unet->to(options.device);
  text_encoder->to(options.device);
  const int64_t steps = load_checkpoint(files.diffusion, {{"ema_unet", unet.get()}, {"ema_text_encoder", text_encoder.get()}},
                                        nullptr, options.device);
  if (steps == 0) throw std::runtime_error(files.diffusion.string() + " does not exist: train the diffusion stage first");

  io::ModelConfig config;
  config.prediction = architecture.unet.prediction;
  config.vae_scaling_factor = measure_scaling_factor(vae, options, architecture.image_size);
  config.image_size = architecture.image_size;
  if (options.zero_terminal_snr) config.noise_schedule = {true, "trailing"};  // sampling starts at pure noise
  config.guidance_scale = options.guidance_scale;
  // No tensor records how attention heads split: say it, rather than leave it to conventions.
  config.heads.text_encoder = architecture.text.heads;
  config.heads.unet_heads = architecture.unet.num_heads;
  const fs::path stem = fs::path(model).replace_extension();
  config.tokenizer = io::ModelConfig::Tokenizer{stem.string() + ".vocab.json", stem.string() + ".merges.txt",
                                                tokenizer.eos_id()};

  if (model.has_parent_path()) fs::create_directories(model.parent_path());
  models::save_single_file(model, unet, vae, text_encoder, torch::kFloat16,
                           {{"darkroom.trained_steps", std::to_string(steps)}});
  fs::copy_file(files.vocab_json, config.tokenizer->vocab_json, fs::copy_options::overwrite_existing);
  fs::copy_file(files.merges_txt, config.tokenizer->merges_txt, fs::copy_options::overwrite_existing);
  io::write_model_config(io::model_config_path(model), config);
  std::printf("exported %s (%lld diffusion steps, latent scaling factor %.5f)\n", model.string().c_str(),
              static_cast<long long>(steps), *config.vae_scaling_factor);
}

}  // namespace darkroom::training
