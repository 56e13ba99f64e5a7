#pragma once
// What a model path holds, whatever its layout: the family (detected from tensor names), each
// component's weights renamed to the canonical layout the model code mirrors (diffusers names for the
// UNet and VAE, Hugging Face names for CLIP), and the architecture read from weights and configs.
// Adding a family is one detection rule here plus its model file.
#include <filesystem>
#include <optional>
#include <string>

#include "darkroom/io/clip_layout.hpp"
#include "darkroom/io/model_config.hpp"
#include "darkroom/io/unet_layout.hpp"
#include "darkroom/io/vae_layout.hpp"
#include "darkroom/io/weight_index.hpp"

namespace darkroom::io {

enum class ModelFamily { sd1, sd2, sdxl };
std::string_view family_name(ModelFamily family);

// "epsilon" | "v_prediction" (also "eps", "v"); std::invalid_argument otherwise.
Prediction parse_prediction(std::string_view name);

enum class Layout { single_file, diffusers_folder };

struct TokenizerFiles {
  std::filesystem::path vocab_json;  // diffusers tokenizer/vocab.json
  std::filesystem::path merges_txt;  // diffusers tokenizer/merges.txt
  bool operator==(const TokenizerFiles&) const = default;
};

// SDXL's second text encoder (OpenCLIP ViT-bigG with its projection): its penultimate hidden state is
// concatenated with the first encoder's, and its projected pooled output conditions the UNet.
struct SecondTextEncoder {
  WeightIndex weights;  // Hugging Face CLIPTextModelWithProjection names
  ClipTextConfig config;
  int64_t pad_token = 0;                    // OpenCLIP pads with "!" (id 0)
  std::optional<TokenizerFiles> tokenizer;  // absent: the first encoder's tokenizer
};

struct ModelSource {
  std::filesystem::path path;
  Layout layout = Layout::single_file;
  ModelFamily family = ModelFamily::sd1;

  WeightIndex unet;          // diffusers UNet2DConditionModel names
  WeightIndex vae;           // diffusers AutoencoderKL names
  WeightIndex text_encoder;  // Hugging Face CLIPTextModel names
  UNetConfig unet_config;
  VaeConfig vae_config;
  ClipTextConfig text_config;
  std::optional<SecondTextEncoder> text_encoder_2;  // SDXL

  // SD2 single files keep OpenCLIP's last layer, which SD2 never uses: conditioning reads one layer
  // earlier there than in the diffusers conversion (which drops that layer).
  int text_skip_offset = 0;
  // Padding token of the model's tokenizer: 49407 (OpenAI CLIP, SD1) or 0 (OpenCLIP, SD2).
  int64_t pad_token = 49407;
  std::optional<TokenizerFiles> tokenizer;  // when the model carries its own tokenizer
  // The resolution the model was trained at: what a request that names no size gets.
  int image_size = 512;
  // SD's noise schedule as the model config or diffusers' scheduler_config.json adjusts it.
  NoiseScheduleConfig noise_schedule;
  // The guidance scale the model config recommends (ModelConfig::guidance_scale).
  std::optional<double> guidance_scale;
  // NAME.latent2rgb.json beside a single file NAME.safetensors (`darkroom fit-preview --out`): the
  // model's own preview table, preferred to its family's published one.
  std::optional<std::filesystem::path> latent2rgb_table;
  // SDXL (diffusers' force_zeros_for_empty_prompt): a request without a negative prompt is guided away
  // from zero conditioning, pooled embedding included, rather than from the encoded empty prompt.
  bool force_zeros_for_empty_prompt = false;
};

struct OpenOptions {
  // A darkroom model config to use instead of the one beside the model (NAME.json beside NAME.safetensors
  // or beside the diffusers folder NAME). With a diffusers folder, whose config.json files give the
  // architecture, its head counts must agree with them.
  std::optional<std::filesystem::path> model_config;
};

// Opens a single-file checkpoint (.safetensors) or a diffusers folder (model_index.json) of SD1, SD2 or
// SDXL. The darkroom model config beside it (NAME.json, see model_config.hpp) and a single file's preview
// table are read when present. What no file records follows the conventions of released checkpoints unless a model
// config says otherwise: CLIP and OpenCLIP text encoders have 64-channel heads, SD1's UNet 8 heads per
// level, SD2's and SDXL's 64-channel heads. A model those do not fit is refused with an error asking for
// a model config, never run with a guess. Throws ModelFileError naming the file and the problem:
// unreadable or corrupt files, missing components, heads that do not fit, an unsupported variant (SDXL
// refiners).
ModelSource open_model(const std::filesystem::path& path, const OpenOptions& options = {});

}  // namespace darkroom::io
