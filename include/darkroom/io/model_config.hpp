#pragma once
// darkroom's model config: NAME.json beside a single-file checkpoint NAME.safetensors, saying what the
// weights cannot (as A1111 reads NAME.yaml beside a checkpoint): the prediction type, the VAE's latent
// scaling factor, the resolution it was trained at, its own tokenizer, and the attention head splits (no
// tensor records them). darkroom's embedded model is exported with one; any checkpoint may have one.
//   {"format": "darkroom.model", "version": 1, "prediction": "epsilon", "vae_scaling_factor": 0.61,
//    "image_size": 64, "tokenizer": {"vocab": "NAME.vocab.json", "merges": "NAME.merges.txt",
//    "pad_token": 771}, "rescale_betas_zero_snr": true, "timestep_spacing": "trailing", "guidance_scale": 2,
//    "text_encoder": {"heads": 4}, "text_encoder_2": {"heads": 20}, "unet": {"head_dim": 64}}
// Every field but format and version is optional; tokenizer file names are relative to the config. A field
// this reader does not know is an error naming it, so a misspelt setting is never silently ignored.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "darkroom/io/unet_layout.hpp"

namespace darkroom::io {

// The noise schedule, in the terms of diffusers' scheduler_config.json: SD's betas rescaled to zero terminal
// SNR or not, and the timestep spacing a request that names none gets ("leading" | "linspace" | "trailing").
struct NoiseScheduleConfig {
  bool rescale_betas_zero_snr = false;
  std::optional<std::string> timestep_spacing;
};

// How attention heads split, per model. Absent: the conventions of released checkpoints (see
// model_source.hpp), which a model that does not fit them is refused for, never guessed at.
struct HeadsConfig {
  std::optional<int64_t> text_encoder;    // "text_encoder": {"heads": N}
  std::optional<int64_t> text_encoder_2;  // "text_encoder_2": {"heads": N} (SDXL's second encoder)
  // "unet": {"heads": N} or {"head_dim": N}, N a number for every level or a list with one per level.
  std::vector<int64_t> unet_heads;
  std::vector<int64_t> unet_head_dim;

  bool empty() const { return !text_encoder && !text_encoder_2 && unet_heads.empty() && unet_head_dim.empty(); }
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
  HeadsConfig heads;
};

// The config beside a checkpoint: NAME.json for NAME.safetensors.
std::filesystem::path model_config_path(const std::filesystem::path& checkpoint);

// Throws ModelFileError naming the file and the field that is missing, mistyped or out of range, and
// naming tokenizer files that do not exist.
ModelConfig read_model_config(const std::filesystem::path& file);
// Tokenizer paths are written relative to the config's folder (they must lie inside it).
void write_model_config(const std::filesystem::path& file, const ModelConfig& config);

}  // namespace darkroom::io
