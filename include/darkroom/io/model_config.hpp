#pragma once
// darkroom's model config: NAME.json beside a single-file checkpoint NAME.safetensors, saying what the
// weights cannot (as A1111 reads NAME.yaml beside a checkpoint): the prediction type, the VAE's latent
// scaling factor, the resolution it was trained at, and its own tokenizer. darkroom's embedded model is
// exported with one; any checkpoint may have one.
//   {"format": "darkroom.model", "version": 1, "prediction": "epsilon", "vae_scaling_factor": 0.61,
//    "image_size": 64, "tokenizer": {"vocab": "NAME.vocab.json", "merges": "NAME.merges.txt",
//    "pad_token": 771}, "rescale_betas_zero_snr": true, "timestep_spacing": "trailing", "guidance_scale": 2}
// Every field but format and version is optional; tokenizer file names are relative to the config.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "darkroom/io/unet_layout.hpp"

namespace darkroom::io {

// The noise schedule, in the terms of diffusers' scheduler_config.json: SD's betas rescaled to zero terminal
// SNR or not, and the timestep spacing a request that names none gets ("leading" | "linspace" | "trailing").
struct NoiseScheduleConfig {
  bool rescale_betas_zero_snr = false;
  std::optional<std::string> timestep_spacing;
};

struct ModelConfig {
  std::optional<Prediction> prediction;
  std::optional<double> vae_scaling_factor;
  std::optional<int> image_size;
  struct Tokenizer {
    std::filesystem::path vocab_json;  // absolute once read
    std::filesystem::path merges_txt;
    int64_t pad_token = 0;
  };
  std::optional<Tokenizer> tokenizer;
  NoiseScheduleConfig noise_schedule;
  // The classifier-free guidance scale the model was measured at (diffusers' pipeline argument name):
  // what a request that names none gets. Small models trained on simple data oversaturate at SD's 7.5.
  std::optional<double> guidance_scale;
};

// The config beside a checkpoint: NAME.json for NAME.safetensors.
std::filesystem::path model_config_path(const std::filesystem::path& checkpoint);

// Throws ModelFileError naming the file and the field that is missing, mistyped or out of range, and
// naming tokenizer files that do not exist.
ModelConfig read_model_config(const std::filesystem::path& file);
// Tokenizer paths are written relative to the config's folder (they must lie inside it).
void write_model_config(const std::filesystem::path& file, const ModelConfig& config);

}  // namespace darkroom::io
