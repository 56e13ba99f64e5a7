#include "darkroom/io/model_source.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "darkroom/io/model_config.hpp"
#include "schedule_fields.hpp"

namespace darkroom::io {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw ModelFileError(file, "cannot be read");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(file, std::string("is not valid JSON: ") + e.what());
  }
}

// diffusers saves weights as diffusion_pytorch_model.safetensors (unet, vae) or model.safetensors
// (text encoders); fp16 variants carry a .fp16 infix.
fs::path component_weights(const fs::path& folder) {
  for (const char* name : {"diffusion_pytorch_model.safetensors", "model.safetensors",
                           "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors"})
    if (fs::exists(folder / name)) return folder / name;
  if (fs::exists(folder / "diffusion_pytorch_model.bin") || fs::exists(folder / "pytorch_model.bin"))
    throw ModelFileError(folder, "holds only pickled .bin weights; convert them to .safetensors");
  throw ModelFileError(folder, "has no .safetensors weights");
}

WeightIndex open_weights(const fs::path& file) { return WeightIndex::of(SafetensorsFile::open(file)); }

constexpr std::string_view kLdmUnet = "model.diffusion_model.";
constexpr std::string_view kLdmVae = "first_stage_model.";
constexpr std::string_view kLdmClip = "cond_stage_model.transformer.";   // SD1: OpenAI CLIP, HF names
constexpr std::string_view kLdmOpenClip = "cond_stage_model.model.";     // SD2: OpenCLIP
constexpr std::string_view kLdmSdxlEmbedders = "conditioner.embedders.";  // SDXL

[[noreturn]] void sdxl_not_supported(const fs::path& path) {
  throw ModelFileError(path, "is an SDXL model, which darkroom recognises but does not support yet");
}

// SD2's v-prediction checkpoints are its 768-px models (2.0-v, 2.1); the epsilon ones (2.0-base, 2.1-base)
// are 512, as SD1 is.
int native_size(const ModelSource& source) {
  const bool sd2_v = source.family == ModelFamily::sd2 && source.unet_config.prediction == Prediction::v_prediction;
  return sd2_v ? 768 : 512;
}

// What a darkroom model config and a fitted preview table beside the checkpoint add.
void apply_sidecar_files(ModelSource& source) {
  fs::path table = source.path;
  table.replace_extension(".latent2rgb.json");
  if (fs::exists(table)) source.latent2rgb_table = table;
  const fs::path config_file = model_config_path(source.path);
  if (!fs::exists(config_file)) return;
  const auto config = read_model_config(config_file);
  if (config.prediction) source.unet_config.prediction = *config.prediction;
  if (config.vae_scaling_factor) source.vae_config.scaling_factor = *config.vae_scaling_factor;
  if (config.image_size) source.image_size = *config.image_size;
  source.noise_schedule = config.noise_schedule;
  source.guidance_scale = config.guidance_scale;
  if (config.tokenizer) {
    source.tokenizer = TokenizerFiles{config.tokenizer->vocab_json, config.tokenizer->merges_txt};
    source.pad_token = config.tokenizer->pad_token;
  }
}

ModelSource open_single_file(const fs::path& path) {
  const WeightIndex all = open_weights(path);
  ModelSource source;
  source.path = path;
  source.layout = Layout::single_file;
  if (all.has_prefix(kLdmSdxlEmbedders)) sdxl_not_supported(path);
  if (!all.has_prefix(kLdmUnet))
    throw ModelFileError(path, "has no UNet (no 'model.diffusion_model.*' tensors); it is not a Stable "
                               "Diffusion checkpoint, or it is a LoRA, VAE or text encoder on its own");
  if (!all.has_prefix(kLdmVae)) throw ModelFileError(path, "has no VAE ('first_stage_model.*' tensors)");

  if (all.has_prefix(kLdmOpenClip)) {
    source.family = ModelFamily::sd2;
    source.text_encoder = clip_text_to_hf(all.under(kLdmOpenClip));
    source.text_config = clip_config_from_weights(source.text_encoder, ClipTextConfig::Activation::gelu);
    source.text_skip_offset = 1;
    source.pad_token = 0;
  } else if (all.has_prefix(kLdmClip)) {
    source.family = ModelFamily::sd1;
    source.text_encoder = clip_text_to_hf(all.under(kLdmClip));
    source.text_config = clip_config_from_weights(source.text_encoder, ClipTextConfig::Activation::quick_gelu);
  } else {
    throw ModelFileError(path, "has no text encoder ('cond_stage_model.*' tensors)");
  }

  source.unet = unet_from_ldm(all.under(kLdmUnet));
  if (source.unet.has_prefix("add_embedding.")) sdxl_not_supported(path);
  // SD1 fixes the head count (8 heads); SD2 fixes the head width (64 channels), as in the LDM configs.
  const HeadRule heads = source.family == ModelFamily::sd1 ? HeadRule::count(8) : HeadRule::width(64);
  source.unet_config = unet_config_from_weights(source.unet, heads);
  // SD2's 768-px releases predict v; its 512-px base predicts epsilon and says so only in its YAML.
  // diffusers makes the same default for SD2 single files.
  source.unet_config.prediction = source.family == ModelFamily::sd2 ? Prediction::v_prediction : Prediction::epsilon;

  source.vae = vae_from_ldm(all.under(kLdmVae));
  source.vae_config = vae_config_from_weights(source.vae, 0.18215);
  source.image_size = native_size(source);
  apply_sidecar_files(source);
  return source;
}

ModelSource open_diffusers_folder(const fs::path& path) {
  const auto index = read_json(path / "model_index.json");
  if (index.contains("text_encoder_2") || index.value("_class_name", "").find("XL") != std::string::npos)
    sdxl_not_supported(path);
  for (const char* part : {"unet", "vae", "text_encoder"})
    if (!fs::is_directory(path / part)) throw ModelFileError(path, std::string("has no '") + part + "' folder");

  ModelSource source;
  source.path = path;
  source.layout = Layout::diffusers_folder;

  source.unet = open_weights(component_weights(path / "unet"));
  source.unet_config = unet_config_from_diffusers(read_json(path / "unet" / "config.json"), source.unet);
  source.vae = open_weights(component_weights(path / "vae"));
  source.vae_config = vae_config_from_diffusers(read_json(path / "vae" / "config.json"), source.vae);
  source.text_encoder = clip_text_to_hf(open_weights(component_weights(path / "text_encoder")));
  source.text_config = clip_config_from_hf_json(read_json(path / "text_encoder" / "config.json"), source.text_encoder);

  const bool open_clip = source.text_config.activation == ClipTextConfig::Activation::gelu;
  source.family = open_clip ? ModelFamily::sd2 : ModelFamily::sd1;
  if (const auto scheduler_file = path / "scheduler" / "scheduler_config.json"; fs::exists(scheduler_file)) {
    const auto scheduler = read_json(scheduler_file);
    source.unet_config.prediction =
        read_prediction_field(scheduler, "prediction_type", scheduler_file).value_or(Prediction::epsilon);
    source.noise_schedule = read_noise_schedule_fields(scheduler, scheduler_file);
  }
  source.image_size = native_size(source);
  const fs::path tokenizer = path / "tokenizer";
  if (fs::exists(tokenizer / "vocab.json") && fs::exists(tokenizer / "merges.txt")) {
    source.tokenizer = TokenizerFiles{tokenizer / "vocab.json", tokenizer / "merges.txt"};
    if (fs::exists(tokenizer / "tokenizer_config.json")) {
      // OpenCLIP tokenizers pad with "!" (id 0); OpenAI's with <|endoftext|>.
      const auto config = read_json(tokenizer / "tokenizer_config.json");
      const auto pad = config.contains("pad_token") && config["pad_token"].is_string()
                           ? config["pad_token"].get<std::string>() : std::string("<|endoftext|>");
      source.pad_token = pad == "!" ? 0 : 49407;
    } else {
      source.pad_token = open_clip ? 0 : 49407;
    }
  } else {
    source.pad_token = open_clip ? 0 : 49407;
  }
  return source;
}

}  // namespace

std::string_view family_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::sd1: return "SD1.x";
    case ModelFamily::sd2: return "SD2.x";
    case ModelFamily::sdxl: return "SDXL";
  }
  return "?";
}

Prediction parse_prediction(std::string_view name) {
  if (name == "epsilon" || name == "eps") return Prediction::epsilon;
  if (name == "v_prediction" || name == "v") return Prediction::v_prediction;
  throw std::invalid_argument("unknown prediction type '" + std::string(name) + "' (valid: epsilon, v_prediction)");
}

ModelSource open_model(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "model_index.json"))
      throw ModelFileError(path, "is a folder without model_index.json (not a diffusers model folder)");
    return open_diffusers_folder(path);
  }
  if (!fs::exists(path, ec)) throw ModelFileError(path, "does not exist");
  const auto ext = path.extension().string();
  if (ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin")
    throw ModelFileError(path, "is a pickled checkpoint; only .safetensors files are supported (pickles can run code)");
  return open_single_file(path);
}

}  // namespace darkroom::io
