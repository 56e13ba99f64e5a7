// Stage 2: the UNet and the text encoder, trained together from scratch on the frozen autoencoder's
// latents with SD's discrete schedule (scaled-linear betas, 1000 steps) and epsilon or v prediction, so
// every sampler and schedule darkroom has applies unchanged. A capped loss weighting and an exponential
// moving average of the weights make a short run count.
#include <random>

#include "darkroom/models/clip_text.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/sampling/schedule.hpp"
#include "darkroom/training/trainer.hpp"
#include "scene_batches.hpp"
#include "stage.hpp"
#include "trained_parts.hpp"

namespace darkroom::training {

constexpr uint64_t kDiffusionSeedDomain = 2;
constexpr double kSnrCap = 5.0;

// Per-sample loss weights, in terms of what each sample's error in the predicted image (x0) counts.
// epsilon: min-SNR-5 (Hang et al., 2023): an x0 error weighs min(SNR, 5), next to nothing at high noise.
// v: min(SNR + 1, 5): at least 1. Where an object goes is decided at high noise, where only the prompt
// can tell; min-SNR gave that lesson a weight of SNR (0.005 at the top of SD's schedule), and the first
// model placed objects at chance, wherever the starting noise suggested. In the prediction's own terms
// (v error = x0 error / sqrt(1 - alpha_bar)) the weight is min(SNR + 1, 5) / (SNR + 1) <= 1.
torch::Tensor loss_weights(const torch::Tensor& alpha_bar, io::Prediction prediction) {
  const auto snr = alpha_bar / (1 - alpha_bar);
  if (prediction == io::Prediction::epsilon) return snr.clamp_max(kSnrCap) / snr;
  return (snr + 1).clamp_max(kSnrCap) / (snr + 1);
}

// Uniform over the schedule, but for the first `high_noise_share` of the batch, drawn from its noisiest 30%.
torch::Tensor sample_timesteps(int64_t timesteps, int64_t batch, double high_noise_share, torch::Device device) {
  const auto options = torch::TensorOptions(torch::kInt64).device(device);
  const auto high = std::min(batch, static_cast<int64_t>(std::llround(high_noise_share * static_cast<double>(batch))));
  const int64_t high_from = timesteps - timesteps * 3 / 10;
  return torch::cat({torch::randint(high_from, timesteps, {high}, options),
                     torch::randint(0, timesteps, {batch - high}, options)});
}

bool train_diffusion(const TrainOptions& options) {
  const TrainingFiles files(options.work_dir);
  const auto& stage = options.diffusion;
  const auto tokenizer = load_learned_tokenizer(files);
  const auto architecture = shapes_architecture(static_cast<int64_t>(tokenizer.vocab_size()), options.prediction);
  const auto device = options.device;
  auto vae = load_trained_autoencoder(files, architecture, device);
  const double scaling_factor = measure_scaling_factor(vae, options, architecture.image_size);

  torch::manual_seed(options.seed);
  models::UNet2DConditionModel unet(architecture.unet), ema_unet(architecture.unet);
  models::ClipTextModel text_encoder(architecture.text), ema_text_encoder(architecture.text);
  unet->to(device);
  ema_unet->to(device);
  text_encoder->to(device);
  ema_text_encoder->to(device);
  copy_weights(*ema_unet, *unet);
  copy_weights(*ema_text_encoder, *text_encoder);
  auto parameters = unet->parameters();
  for (auto& parameter : text_encoder->parameters()) parameters.push_back(parameter);
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(stage.learning_rate).weight_decay(0.01));
  const NamedModules checkpointed{{"unet", unet.get()},
                                  {"text_encoder", text_encoder.get()},
                                  {"ema_unet", ema_unet.get()},
                                  {"ema_text_encoder", ema_text_encoder.get()}};
  int64_t step = load_checkpoint(files.diffusion, checkpointed, &optimizer, device);
  if (step >= stage.steps) return true;

  const auto schedule = sampling::TrainSchedule::stable_diffusion(options.zero_terminal_snr);  // export records which
  const auto alphas_cumprod =
      torch::tensor(schedule.alphas_cumprod, torch::kFloat64).to(torch::kFloat32).to(device);
  const int64_t timesteps = schedule.num_train_timesteps();
  const int context = static_cast<int>(architecture.text.context_length);

  LossLog log(files.diffusion_loss, "diffusion", step, options.log_every);
  SceneBatches data(kDiffusionSeedDomain, stage.batch, architecture.image_size, options.data_threads, device);
  const TimeLimit limit(options.time_limit_minutes);
  unet->train();
  text_encoder->train();
  while (step < stage.steps) {
    const double rate = learning_rate_at(stage, step);
    set_learning_rate(optimizer, rate);
    auto batch = data.at(step);
    std::mt19937_64 dropout_rng(options.seed ^ static_cast<uint64_t>(step));
    for (auto& caption : batch.captions)
      if (std::generate_canonical<double, 53>(dropout_rng) < options.caption_dropout) caption.clear();

    // The posterior mean, not a sample: the small KL weight leaves the encoder a wide posterior, and a
    // sample's noise is a texture the UNet would learn to draw (SD samples; its VAE's posterior is narrow).
    torch::Tensor latents;
    {
      torch::NoGradGuard no_grad;
      latents = vae->encode(batch.images).mean * scaling_factor;
    }
    const auto t = sample_timesteps(timesteps, stage.batch, options.high_noise_share, device);
    const auto alpha_bar = alphas_cumprod.index_select(0, t).view({-1, 1, 1, 1});
    const auto noise = torch::randn_like(latents);
    const auto signal = alpha_bar.sqrt(), spread = (1 - alpha_bar).sqrt();
    const auto noisy = signal * latents + spread * noise;
    const auto target = options.prediction == io::Prediction::epsilon ? noise : signal * noise - spread * latents;
    const auto context_states = text_encoder->forward(token_ids(tokenizer, batch.captions, context, device)).last_hidden_state;
    const auto prediction = unet->forward(noisy, t, context_states);
    const auto weight = loss_weights(alpha_bar, options.prediction);
    // The latent pixels objects cover weigh more, as in the autoencoder's loss: unweighted, the loss is nearly
    // all background, and after 1,500 steps a model drew the background the prompt named and the same objects
    // whatever the prompt said about them.
    const auto area = foreground_weights(batch.foreground, latents.size(-1), options.foreground_weight);
    const auto error = (area * (prediction - target).pow(2)).mean({1, 2, 3}) / area.mean({1, 2, 3});
    const auto loss = (weight.view({-1}) * error).mean();
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 1.0);
    optimizer.step();
    // The average warms up with the run (decay (1 + n) / (10 + n) until it reaches ema_decay).
    const double decay = std::min(options.ema_decay, (1.0 + step) / (10.0 + step));
    update_ema(*ema_unet, *unet, decay);
    update_ema(*ema_text_encoder, *text_encoder, decay);
    log.add(step, loss.item<double>(), rate);
    ++step;
    const bool stop = limit.reached();
    if (step % options.checkpoint_every == 0 || step == stage.steps || stop)
      save_checkpoint(files.diffusion, step, checkpointed, &optimizer);
    if (stop) return false;
  }
  return true;
}

}  // namespace darkroom::training
