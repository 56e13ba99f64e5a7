// Stage 1: the KL autoencoder (diffusers AutoencoderKL) on rendered scenes: L1 + L2 reconstruction of a
// sampled latent, plus a small KL term that keeps the latent distribution tame for the diffusion stage.
// Plain shapes on plain or gradient backgrounds need no perceptual or adversarial loss, but the objects
// cover a few percent of the pixels: unweighted, the loss is nearly all background, and after 1,000 steps
// the objects still came back as rainbow smudges. Their pixels count more (TrainOptions::foreground_weight).
#include "darkroom/models/vae.hpp"
#include "darkroom/training/architecture.hpp"
#include "darkroom/training/trainer.hpp"
#include "scene_batches.hpp"
#include "stage.hpp"
#include "training_files.hpp"

namespace darkroom::training {

constexpr uint64_t kAutoencoderSeedDomain = 1;

bool train_autoencoder(const TrainOptions& options) {
  const TrainingFiles files(options.work_dir);
  const auto& stage = options.autoencoder;
  const auto architecture = shapes_architecture(/*vocab_size=*/1, options.prediction);
  torch::manual_seed(options.seed);
  models::AutoencoderKL vae(architecture.vae);
  vae->to(options.device);
  torch::optim::Adam optimizer(vae->parameters(), torch::optim::AdamOptions(stage.learning_rate));
  int64_t step = load_checkpoint(files.autoencoder, {{"vae", vae.get()}}, &optimizer, options.device);
  if (step >= stage.steps) return true;

  LossLog log(files.autoencoder_loss, "autoencoder", step, options.log_every);
  SceneBatches data(kAutoencoderSeedDomain, stage.batch, architecture.image_size, options.data_threads,
                    options.device);
  const TimeLimit limit(options.time_limit_minutes);
  vae->train();
  while (step < stage.steps) {
    const double rate = learning_rate_at(stage, step);
    set_learning_rate(optimizer, rate);
    const auto batch = data.at(step);
    const auto latent = vae->encode(batch.images);
    const auto z = latent.mean + latent.std() * torch::randn_like(latent.mean);
    const auto error = vae->decode(z) - batch.images;
    const auto weight = foreground_weights(batch.foreground, batch.images.size(-1), options.foreground_weight);
    const auto reconstruction = (weight * (error.abs() + error.pow(2))).mean() / weight.mean();
    const auto kl = 0.5 * (latent.mean.pow(2) + latent.logvar.exp() - 1 - latent.logvar).mean();
    const auto loss = reconstruction + options.kl_weight * kl;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    log.add(step, loss.item<double>(), rate);
    ++step;
    const bool stop = limit.reached();
    if (step % options.checkpoint_every == 0 || step == stage.steps || stop)
      save_checkpoint(files.autoencoder, step, {{"vae", vae.get()}}, &optimizer);
    if (stop) return false;
  }
  return true;
}

}  // namespace darkroom::training
