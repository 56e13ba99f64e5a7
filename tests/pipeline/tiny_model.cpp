#include "tiny_model.hpp"

#include <fstream>
#include <map>
#include <mutex>

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

// A diffusers folder over the golden diffusers-layout files; the text encoder is the OpenAI-layout copy
// of the same CLIP (the loader accepts either layout inside a folder).
fs::path make_diffusers_folder() {
  const fs::path dir = fs::temp_directory_path() / ("darkroom-sd1-tiny-" + std::to_string(::getpid()));
  write(dir / "model_index.json", R"({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2"})");
  link(path("models/unet_sd1_tiny.diffusers.safetensors"), dir / "unet/diffusion_pytorch_model.safetensors");
  link(path("models/unet_sd1_tiny.config.json"), dir / "unet/config.json");
  link(path("models/vae_tiny.diffusers.safetensors"), dir / "vae/diffusion_pytorch_model.safetensors");
  link(path("models/vae_tiny.config.json"), dir / "vae/config.json");
  link(path("models/clip_tiny_quickgelu.openai.safetensors"), dir / "text_encoder/model.safetensors");
  write(dir / "text_encoder/config.json", R"({
    "_class_name": "CLIPTextModel", "architectures": ["CLIPTextModel"], "hidden_act": "quick_gelu",
    "hidden_size": 32, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 3,
    "max_position_embeddings": 77, "vocab_size": 49408, "layer_norm_eps": 1e-05, "projection_dim": 32})");
  write(dir / "scheduler/scheduler_config.json", R"({
    "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1})");
  return dir;
}

}  // namespace

fs::path vocab_file() { return path("clip/bpe_simple_vocab_16e6.txt.gz"); }

fs::path tiny_sd1_path(TinyLayout layout) {
  static const fs::path folder = make_diffusers_folder();
  return layout == TinyLayout::single_file ? path("checkpoints/sd1_tiny.safetensors") : folder;
}

std::shared_ptr<pipeline::StableDiffusion> tiny_sd1(TinyLayout layout) {
  static std::mutex mutex;
  static std::map<TinyLayout, std::shared_ptr<pipeline::StableDiffusion>> loaded;
  std::lock_guard lock(mutex);
  auto& model = loaded[layout];
  if (!model) {
    pipeline::LoadOptions options;
    options.vocab = vocab_file();
    model = pipeline::StableDiffusion::load(tiny_sd1_path(layout), options);
  }
  return model;
}

}  // namespace darkroom::golden
