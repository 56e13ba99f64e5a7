#include "tiny_model.hpp"

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "support/golden.hpp"

namespace darkroom::golden {
namespace fs = std::filesystem;

namespace {

void link(const fs::path& target, const fs::path& link_path) {
  fs::create_directories(link_path.parent_path());
  fs::remove(link_path);
  fs::create_symlink(fs::absolute(target), link_path);
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

constexpr const char* kSdScheduler = R"({
    "_class_name": "EulerDiscreteScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1})";

// transformers' CLIPTextConfig of the tiny encoders (manifest.json: width 32 in 4 heads, 3 layers).
std::string clip_config(const char* class_name, const char* activation) {
  return std::string(R"({"_class_name": ")") + class_name + R"(", "architectures": [")" + class_name +
         R"("], "hidden_act": ")" + activation + R"(", "hidden_size": 32, "intermediate_size": 128,
    "num_attention_heads": 4, "num_hidden_layers": 3, "max_position_embeddings": 77, "vocab_size": 49408,
    "layer_norm_eps": 1e-05, "projection_dim": 32})";
}

fs::path temp_folder(const std::string& name) {
  return fs::temp_directory_path() / ("darkroom-" + name + "-" + std::to_string(::getpid()));
}

// A diffusers folder over the golden diffusers-layout files; the text encoder is the OpenAI-layout copy
// of the same CLIP (the loader accepts either layout inside a folder).
fs::path make_sd1_diffusers_folder() {
  const fs::path dir = temp_folder("sd1-tiny");
  write(dir / "model_index.json", R"({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2"})");
  link(path("models/unet_sd1_tiny.diffusers.safetensors"), dir / "unet/diffusion_pytorch_model.safetensors");
  link(path("models/unet_sd1_tiny.config.json"), dir / "unet/config.json");
  link(path("models/vae_tiny.diffusers.safetensors"), dir / "vae/diffusion_pytorch_model.safetensors");
  link(path("models/vae_tiny.config.json"), dir / "vae/config.json");
  link(path("models/clip_tiny_quickgelu.openai.safetensors"), dir / "text_encoder/model.safetensors");
  write(dir / "text_encoder/config.json", clip_config("CLIPTextModel", "quick_gelu"));
  write(dir / "scheduler/scheduler_config.json", kSdScheduler);
  return dir;
}

// SDXL's folder: the same VAE weights with SDXL's scaling factor, the gelu CLIP with its projection as
// text_encoder_2.
fs::path make_sdxl_diffusers_folder() {
  const fs::path dir = temp_folder("sdxl-tiny");
  write(dir / "model_index.json", R"({"_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.27.2",
    "force_zeros_for_empty_prompt": true, "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"]})");
  link(path("models/unet_sdxl_tiny.diffusers.safetensors"), dir / "unet/diffusion_pytorch_model.safetensors");
  link(path("models/unet_sdxl_tiny.config.json"), dir / "unet/config.json");
  link(path("models/vae_tiny.diffusers.safetensors"), dir / "vae/diffusion_pytorch_model.safetensors");
  std::ifstream vae_config(path("models/vae_tiny.config.json"));
  auto vae = nlohmann::json::parse(vae_config);
  vae["scaling_factor"] = 0.13025;
  write(dir / "vae/config.json", vae.dump());
  link(path("models/clip_tiny_quickgelu.openai.safetensors"), dir / "text_encoder/model.safetensors");
  write(dir / "text_encoder/config.json", clip_config("CLIPTextModel", "quick_gelu"));
  link(path("models/clip_tiny_gelu.hf.safetensors"), dir / "text_encoder_2/model.safetensors");
  write(dir / "text_encoder_2/config.json", clip_config("CLIPTextModelWithProjection", "gelu"));
  write(dir / "scheduler/scheduler_config.json", kSdScheduler);
  return dir;
}

std::shared_ptr<pipeline::StableDiffusion> loaded_once(const fs::path& model) {
  static std::mutex mutex;
  static std::map<fs::path, std::shared_ptr<pipeline::StableDiffusion>> loaded;
  std::lock_guard lock(mutex);
  auto& slot = loaded[model];
  if (!slot) {
    pipeline::LoadOptions options;
    options.vocab = vocab_file();
    slot = pipeline::StableDiffusion::load(model, options);
  }
  return slot;
}

}  // namespace

fs::path vocab_file() { return path("clip/bpe_simple_vocab_16e6.txt.gz"); }

fs::path tiny_sd1_path(TinyLayout layout) {
  static const fs::path folder = make_sd1_diffusers_folder();
  return layout == TinyLayout::single_file ? checkpoint("sd1_tiny") : folder;
}

std::shared_ptr<pipeline::StableDiffusion> tiny_sd1(TinyLayout layout) { return loaded_once(tiny_sd1_path(layout)); }

fs::path tiny_sdxl_path(TinyLayout layout) {
  static const fs::path folder = make_sdxl_diffusers_folder();
  return layout == TinyLayout::single_file ? checkpoint("sdxl_tiny") : folder;
}

std::shared_ptr<pipeline::StableDiffusion> tiny_sdxl(TinyLayout layout) { return loaded_once(tiny_sdxl_path(layout)); }

}  // namespace darkroom::golden
