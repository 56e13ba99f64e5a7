#pragma once
// What the later stages take from the earlier ones: the trained autoencoder, the latent scaling factor
// measured on it (SD's recipe: 1 / std of the latents, so the diffusion sees unit variance), and prompt
// token ids from the learned tokenizer.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "darkroom/models/vae.hpp"
#include "darkroom/text/clip_tokenizer.hpp"
#include "darkroom/training/architecture.hpp"
#include "darkroom/training/trainer.hpp"
#include "training_files.hpp"

namespace darkroom::training {

text::ClipTokenizer load_learned_tokenizer(const TrainingFiles& files);

// Throws std::runtime_error when the autoencoder stage has not run.
models::AutoencoderKL load_trained_autoencoder(const TrainingFiles& files, const Architecture& architecture,
                                               torch::Device device);

// The VAE scaling factor that gives the latents options.latent_std. Deterministic: the same scenes every
// time, so export and training agree.
double measure_scaling_factor(models::AutoencoderKL& vae, const TrainOptions& options, int image_size);

// [B, context] int64 ids, padded with the end-of-text token as SD1's tokenizer pads.
torch::Tensor token_ids(const text::ClipTokenizer& tokenizer, const std::vector<std::string>& prompts,
                        int context, torch::Device device);

}  // namespace darkroom::training
