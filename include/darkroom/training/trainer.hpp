#pragma once
// Training the embedded model in stages, each resumable from its checkpoint in the work folder:
//   tokenizer   - BPE vocabulary learned from generated captions (vocab.json, merges.txt)
//   autoencoder - the KL autoencoder on rendered scenes (autoencoder.pt, autoencoder_loss.csv)
//   diffusion   - UNet and text encoder on the frozen autoencoder's latents (diffusion.pt, diffusion_loss.csv)
//   export      - the single-file checkpoint and its config and tokenizer beside it
// A stage that finds its checkpoint carries on from the saved step; one that reached its step count is
// skipped. Data comes from the scene generator, deterministic from the seed and the step, so a resumed
// run sees the batches an uninterrupted one would have.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "darkroom/io/unet_layout.hpp"

namespace darkroom::training {

struct StageOptions {
  int64_t steps = 0;
  int64_t batch = 32;
  double learning_rate = 1e-3;
  int64_t warmup_steps = 100;  // linear warm-up, then cosine decay to a tenth
};

struct TrainOptions {
  std::filesystem::path work_dir;
  torch::Device device = torch::kCPU;
  // The defaults are the shipped model's recipe: 49 minutes on two CPU cores (models/darkroom-shapes.md).
  // 1,500 autoencoder steps keep the colour and position of every held-out object. Position is learnt late:
  // with 3,000 diffusion steps (the same cosine decay, compressed) objects went to the named place 20% of
  // the time, with 4,000 91%.
  StageOptions autoencoder{1500, 16, 1e-3, 50};
  StageOptions diffusion{4000, 32, 8e-4, 200};
  // Per latent element, against the per-pixel reconstruction loss. Small: a wide posterior is noise the
  // decoder learns to average away, and small objects went with it (1e-4 lost the colour of 43% of them).
  double kl_weight = 1e-6;
  // How much more a pixel (or latent pixel) covered by an object counts in both stages' losses; 1: no
  // weighting. Objects cover a few percent of an image, and an unweighted loss learns them last.
  double foreground_weight = 10.0;
  // The standard deviation of the diffusion latents: the exported VAE scaling factor makes them so. Below 1
  // shifts SD's fixed noise schedule towards more noise ("input scaling", Chen 2023).
  double latent_std = 0.5;
  // v-prediction, with the loss weighted so that an error in the predicted image counts at least as much at
  // high noise as at low (see diffusion_stage.cpp): where the object goes is only decided at high noise.
  io::Prediction prediction = io::Prediction::v_prediction;
  // SD's schedule rescaled so that its last timestep is pure noise (exported in the model config, which the
  // engine follows, with "trailing" spacing so that sampling starts there). With SD's own schedule the last
  // timestep keeps a trace of the image, models learn to find the layout in the starting noise, and every
  // model trained here put its objects where the seed's noise suggested, whatever the prompt said.
  bool zero_terminal_snr = true;
  // Share of each batch whose timesteps are drawn from the noisiest 30% of the schedule (the rest from all
  // of it): the noise levels at which where an object goes is decided, from the prompt alone.
  double high_noise_share = 0.3;
  // The guidance scale the exported config recommends (a request with no cfg gets it). Measured with
  // `darkroom eval --cfg`: these models follow the prompt best at low scales; SD's 7.5 oversaturates them.
  double guidance_scale = 2.0;
  double caption_dropout = 0.1;  // share of empty prompts, so classifier-free guidance has an unconditional
  double ema_decay = 0.998;      // exported weights are the exponential moving average
  int64_t log_every = 50;
  int64_t checkpoint_every = 500;
  double time_limit_minutes = 0;  // per stage invocation; 0 = none. A stopped stage resumes next run.
  uint64_t seed = 0;
  int data_threads = 2;  // scene rendering threads
};

// Learns the caption vocabulary unless work_dir already holds it.
void train_tokenizer(const TrainOptions& options);
// Return true when the stage reached its step count (false: stopped by the time limit).
bool train_autoencoder(const TrainOptions& options);
bool train_diffusion(const TrainOptions& options);

// Writes model (NAME.safetensors) and, beside it, NAME.json (darkroom model config), NAME.vocab.json and
// NAME.merges.txt, from the finished stages' EMA weights.
void export_model(const TrainOptions& options, const std::filesystem::path& model);

}  // namespace darkroom::training
