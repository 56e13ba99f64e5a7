#include "random_models.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "darkroom/models/clip_text.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/models/vae.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::bench {
namespace fs = std::filesystem;
namespace {

// The published SD1.5 configs (runwayml/stable-diffusion-v1-5), the fields darkroom reads.
const char* kUnetConfig = R"({
  "_class_name": "UNet2DConditionModel", "sample_size": 64, "in_channels": 4, "out_channels": 4,
  "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2, "attention_head_dim": 8,
  "cross_attention_dim": 768, "norm_num_groups": 32, "norm_eps": 1e-05, "use_linear_projection": false,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "mid_block_type": "UNetMidBlock2DCrossAttn", "transformer_layers_per_block": 1, "flip_sin_to_cos": true,
  "freq_shift": 0, "act_fn": "silu", "downsample_padding": 1, "center_input_sample": false})";
// SD's VAE (SD1.5 and SDXL share the architecture; SDXL's latents are scaled by 0.13025).
std::string vae_config(const char* scaling_factor) {
  return std::string(R"({
  "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "latent_channels": 4,
  "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "norm_num_groups": 32,
  "sample_size": 512, "scaling_factor": )") + scaling_factor + R"(, "act_fn": "silu",
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]})";
}

const char* kTextConfig = R"({
  "_class_name": "CLIPTextModel", "hidden_act": "quick_gelu", "hidden_size": 768, "intermediate_size": 3072,
  "num_attention_heads": 12, "num_hidden_layers": 12, "max_position_embeddings": 77, "vocab_size": 49408,
  "layer_norm_eps": 1e-05, "projection_dim": 768})";

// The published SDXL base 1.0 configs, the fields darkroom reads.
const char* kSdxlUnetConfig = R"({
  "_class_name": "UNet2DConditionModel", "sample_size": 128, "in_channels": 4, "out_channels": 4,
  "block_out_channels": [320, 640, 1280], "layers_per_block": 2, "attention_head_dim": [5, 10, 20],
  "cross_attention_dim": 2048, "norm_num_groups": 32, "norm_eps": 1e-05, "use_linear_projection": true,
  "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
  "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
  "mid_block_type": "UNetMidBlock2DCrossAttn", "transformer_layers_per_block": [1, 2, 10],
  "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
  "projection_class_embeddings_input_dim": 2816, "flip_sin_to_cos": true, "freq_shift": 0, "act_fn": "silu",
  "downsample_padding": 1, "center_input_sample": false})";
const char* kSdxlTextConfig2 = R"({
  "_class_name": "CLIPTextModelWithProjection", "hidden_act": "gelu", "hidden_size": 1280,
  "intermediate_size": 5120, "num_attention_heads": 20, "num_hidden_layers": 32, "max_position_embeddings": 77,
  "vocab_size": 49408, "layer_norm_eps": 1e-05, "projection_dim": 1280})";

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

void write_random_vae(const fs::path& dir, const char* scaling_factor) {
  write_text(dir / "vae/config.json", vae_config(scaling_factor));
  io::VaeConfig config;
  config.block_out_channels = {128, 256, 512, 512};
  models::save_module(*models::AutoencoderKL(config), dir / "vae/diffusion_pytorch_model.safetensors");
}

}  // namespace

fs::path ensure_sd15_random_model(const fs::path& dir) {
  if (fs::exists(dir / "complete")) return dir;
  std::cerr << "writing a random SD1.5-architecture model to " << dir << " (once)\n";
  torch::manual_seed(0);
  write_text(dir / "model_index.json", R"({"_class_name": "StableDiffusionPipeline"})");
  write_text(dir / "scheduler/scheduler_config.json", R"({"prediction_type": "epsilon"})");

  write_text(dir / "unet/config.json", kUnetConfig);
  {
    io::UNetConfig config;
    config.block_out_channels = {320, 640, 1280, 1280};
    config.cross_attention = {true, true, true, false};
    config.transformer_layers = {1, 1, 1, 0};
    config.num_heads = {8, 8, 8, 8};
    config.cross_attention_dim = 768;
    models::save_module(*models::UNet2DConditionModel(config), dir / "unet/diffusion_pytorch_model.safetensors");
  }
  write_random_vae(dir, "0.18215");
  write_text(dir / "text_encoder/config.json", kTextConfig);
  {
    io::ClipTextConfig config;  // defaults are CLIP ViT-L/14's text tower
    models::save_module(*models::ClipTextModel(config), dir / "text_encoder/model.safetensors");
  }
  write_text(dir / "complete", "");
  return dir;
}

fs::path ensure_sdxl_random_model(const fs::path& dir) {
  if (fs::exists(dir / "complete")) return dir;
  std::cerr << "writing a random SDXL-architecture model to " << dir << " (once)\n";
  torch::manual_seed(0);
  write_text(dir / "model_index.json", R"({"_class_name": "StableDiffusionXLPipeline", "force_zeros_for_empty_prompt": true,
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"]})");
  write_text(dir / "scheduler/scheduler_config.json", R"({"prediction_type": "epsilon"})");

  write_text(dir / "unet/config.json", kSdxlUnetConfig);
  {
    io::UNetConfig config;
    config.block_out_channels = {320, 640, 1280};
    config.cross_attention = {false, true, true};
    config.transformer_layers = {0, 2, 10};
    config.mid_transformer_layers = 10;
    config.num_heads = {5, 10, 20};
    config.cross_attention_dim = 2048;
    config.use_linear_projection = true;
    config.addition_time_embed_dim = 256;
    config.projection_class_embeddings_input_dim = 2816;
    models::save_module(*models::UNet2DConditionModel(config), dir / "unet/diffusion_pytorch_model.safetensors");
  }
  write_random_vae(dir, "0.13025");
  write_text(dir / "text_encoder/config.json", kTextConfig);
  models::save_module(*models::ClipTextModel(io::ClipTextConfig{}), dir / "text_encoder/model.safetensors");
  write_text(dir / "text_encoder_2/config.json", kSdxlTextConfig2);
  {
    io::ClipTextConfig config;
    config.width = 1280;
    config.heads = 20;
    config.layers = 32;
    config.intermediate_size = 5120;
    config.projection_dim = 1280;
    config.activation = io::ClipTextConfig::Activation::gelu;
    models::save_module(*models::ClipTextModel(config), dir / "text_encoder_2/model.safetensors");
  }
  write_text(dir / "complete", "");
  return dir;
}

}  // namespace darkroom::bench
