#include "darkroom/io/model_source.hpp"

#include <fstream>
#include <tuple>
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
constexpr std::string_view kLdmSdxlEmbedders = "conditioner.embedders.";  // SDXL (SGM)
constexpr std::string_view kLdmSdxlClip = "conditioner.embedders.0.transformer.";  // CLIP ViT-L, HF names
constexpr std::string_view kLdmSdxlOpenClip = "conditioner.embedders.1.model.";    // OpenCLIP ViT-bigG
// SDXL base conditions on six numbers: original size, crop top-left and target size, (height, width) each.
constexpr int64_t kSdxlTimeIds = 6;

const std::string kGiveUnetHeads =
    "give the UNet's heads in a model config: {\"unet\": {\"heads\": N}} or {\"unet\": {\"head_dim\": N}} (a list "
    "where levels differ) in NAME.json beside the checkpoint, or --model-config FILE";

[[noreturn]] void refiner_not_supported(const fs::path& path) {
  throw ModelFileError(path, "is an SDXL refiner-style model (one OpenCLIP text encoder, conditioned on an aesthetic "
                             "score), which darkroom does not support yet; SDXL base models and their fine-tunes work");
}

// The released checkpoints' rule for the UNet's heads, or the model config's.
HeadRule unet_head_rule(ModelFamily family, const HeadsConfig& heads, const std::optional<fs::path>& config_file) {
  const std::string from_config = "as its model config " + (config_file ? config_file->filename().string() : std::string()) + " says";
  if (!heads.unet_heads.empty()) return {heads.unet_heads, {}, from_config};
  if (!heads.unet_head_dim.empty()) return {{}, heads.unet_head_dim, from_config};
  if (family == ModelFamily::sd1) return HeadRule::count(8, "the SD1 convention; " + kGiveUnetHeads);
  return HeadRule::width(64, std::string(family_name(family)) + "'s convention; " + kGiveUnetHeads);
}

// SD2's v-prediction checkpoints are its 768-px models (2.0-v, 2.1); the epsilon ones (2.0-base, 2.1-base)
// are 512, as SD1 is; SDXL is 1024.
int native_size(const ModelSource& source) {
  if (source.family == ModelFamily::sdxl) return 1024;
  const bool sd2_v = source.family == ModelFamily::sd2 && source.unet_config.prediction == Prediction::v_prediction;
  return sd2_v ? 768 : 512;
}

// The darkroom model config that applies: the one asked for, else the one beside the model (NAME.json
// beside NAME.safetensors, or beside the diffusers folder NAME).
std::optional<fs::path> config_file_for(const fs::path& path, const OpenOptions& options) {
  if (options.model_config) {
    if (!fs::exists(*options.model_config)) throw ModelFileError(*options.model_config, "does not exist");
    return options.model_config;
  }
  // A folder's name may hold dots (stable-diffusion-xl-base-1.0): its config appends ".json".
  const fs::path folder = path.has_filename() ? path : path.parent_path();
  const auto beside = fs::is_directory(path) ? fs::path(folder.string() + ".json") : model_config_path(path);
  if (fs::is_regular_file(beside)) return beside;
  return std::nullopt;
}

// What a darkroom model config (beyond the heads, used while loading) and a fitted preview table beside
// the checkpoint add.
void apply_sidecar_files(ModelSource& source, const std::optional<ModelConfig>& config) {
  fs::path table = source.path;
  table.replace_extension(".latent2rgb.json");
  if (source.layout == Layout::single_file && fs::exists(table)) source.latent2rgb_table = table;
  if (!config) return;
  if (config->prediction) source.unet_config.prediction = *config->prediction;
  if (config->vae_scaling_factor) source.vae_config.scaling_factor = *config->vae_scaling_factor;
  if (config->image_size) source.image_size = *config->image_size;
  if (config->noise_schedule.rescale_betas_zero_snr || config->noise_schedule.timestep_spacing)
    source.noise_schedule = config->noise_schedule;
  if (config->guidance_scale) source.guidance_scale = config->guidance_scale;
  if (config->tokenizer) {
    source.tokenizer = TokenizerFiles{config->tokenizer->vocab_json, config->tokenizer->merges_txt};
    source.pad_token = config->tokenizer->pad_token;
  }
}

// SDXL's add_embedding reads the pooled text embedding and kSdxlTimeIds sinusoidal embeddings of one
// width each: its input width gives that width.
int64_t sdxl_time_embed_dim(const WeightIndex& unet, const SecondTextEncoder& te2) {
  const auto* add = unet.find("add_embedding.linear_1.weight");
  const int64_t input = add ? add->shape().at(1) : 0;
  const int64_t times = input - te2.config.projection_dim;
  if (te2.config.projection_dim <= 0 || times <= 0 || times % kSdxlTimeIds != 0 || (times / kSdxlTimeIds) % 2 != 0)
    throw ModelFileError(unet.primary_file(),
                         "UNet add_embedding takes " + std::to_string(input) + " inputs, which is not the second text "
                         "encoder's pooled width (" + std::to_string(te2.config.projection_dim) + ") plus six "
                         "even-width time embeddings, as SDXL base conditions");
  return times / kSdxlTimeIds;
}

ModelSource open_single_file(const fs::path& path, const OpenOptions& options) {
  const WeightIndex all = open_weights(path);
  ModelSource source;
  source.path = path;
  source.layout = Layout::single_file;
  const auto config_file = config_file_for(path, options);
  const auto config = config_file ? std::optional(read_model_config(*config_file)) : std::nullopt;
  const HeadsConfig heads = config ? config->heads : HeadsConfig{};
  if (!all.has_prefix(kLdmUnet))
    throw ModelFileError(path, "has no UNet (no 'model.diffusion_model.*' tensors); it is not a Stable "
                               "Diffusion checkpoint, or it is a LoRA, VAE or text encoder on its own");
  if (!all.has_prefix(kLdmVae)) throw ModelFileError(path, "has no VAE ('first_stage_model.*' tensors)");

  if (all.has_prefix(kLdmSdxlEmbedders)) {
    if (!all.has_prefix(kLdmSdxlClip) || !all.has_prefix(kLdmSdxlOpenClip)) {
      if (all.has_prefix("conditioner.embedders.0.model.")) refiner_not_supported(path);
      throw ModelFileError(path, "is an SDXL-layout checkpoint without both text encoders ('" +
                                     std::string(kLdmSdxlClip) + "*' and '" + std::string(kLdmSdxlOpenClip) + "*')");
    }
    source.family = ModelFamily::sdxl;
    source.text_encoder = clip_text_to_hf(all.under(kLdmSdxlClip));
    source.text_config = clip_config_from_weights(source.text_encoder, ClipTextConfig::Activation::quick_gelu,
                                                  heads.text_encoder, "text_encoder");
    SecondTextEncoder te2;
    te2.weights = clip_text_to_hf(all.under(kLdmSdxlOpenClip));
    te2.config = clip_config_from_weights(te2.weights, ClipTextConfig::Activation::gelu, heads.text_encoder_2,
                                          "text_encoder_2");
    if (te2.config.projection_dim == 0)
      throw ModelFileError(path, "SDXL's second text encoder has no text_projection ('" +
                                     std::string(kLdmSdxlOpenClip) + "text_projection')");
    source.text_encoder_2 = std::move(te2);
    source.force_zeros_for_empty_prompt = true;  // diffusers' default for SDXL single files
  } else if (all.has_prefix(kLdmOpenClip)) {
    source.family = ModelFamily::sd2;
    source.text_encoder = clip_text_to_hf(all.under(kLdmOpenClip));
    source.text_config = clip_config_from_weights(source.text_encoder, ClipTextConfig::Activation::gelu,
                                                  heads.text_encoder, "text_encoder");
    source.text_skip_offset = 1;
    source.pad_token = 0;
  } else if (all.has_prefix(kLdmClip)) {
    source.family = ModelFamily::sd1;
    source.text_encoder = clip_text_to_hf(all.under(kLdmClip));
    source.text_config = clip_config_from_weights(source.text_encoder, ClipTextConfig::Activation::quick_gelu,
                                                  heads.text_encoder, "text_encoder");
  } else {
    throw ModelFileError(path, "has no text encoder ('cond_stage_model.*' or 'conditioner.embedders.*' tensors)");
  }
  if (heads.text_encoder_2 && !source.text_encoder_2)
    throw ModelFileError(*config_file, "field 'text_encoder_2' is given, but " + path.filename().string() +
                                           " has no second text encoder (only SDXL has one)");

  source.unet = unet_from_ldm(all.under(kLdmUnet));
  const bool added = source.unet.has_prefix("add_embedding.");
  if (added != (source.family == ModelFamily::sdxl))
    throw ModelFileError(path, added ? "has a UNet with a label embedding ('label_emb'), which SD1 and SD2 models do not "
                                       "have (an unCLIP or other variant, not supported)"
                                     : "is an SDXL checkpoint whose UNet has no add_embedding ('label_emb')");
  const int64_t time_embed_dim = source.text_encoder_2 ? sdxl_time_embed_dim(source.unet, *source.text_encoder_2) : 0;
  source.unet_config = unet_config_from_weights(source.unet, unet_head_rule(source.family, heads, config_file), time_embed_dim);
  // SD2's 768-px releases predict v; its 512-px base predicts epsilon and says so only in its YAML.
  // diffusers makes the same default for SD2 single files.
  source.unet_config.prediction = source.family == ModelFamily::sd2 ? Prediction::v_prediction : Prediction::epsilon;

  source.vae = vae_from_ldm(all.under(kLdmVae));
  source.vae_config = vae_config_from_weights(source.vae, source.family == ModelFamily::sdxl ? 0.13025 : 0.18215);
  source.image_size = native_size(source);
  apply_sidecar_files(source, config);
  if (source.text_encoder_2 && source.tokenizer) source.text_encoder_2->tokenizer = source.tokenizer;
  return source;
}

// A diffusers tokenizer folder: its files and padding token (OpenCLIP tokenizers pad with "!", id 0;
// OpenAI's with <|endoftext|>, 49407).
std::pair<std::optional<TokenizerFiles>, int64_t> folder_tokenizer(const fs::path& folder, bool open_clip) {
  const int64_t family_pad = open_clip ? 0 : 49407;
  if (!fs::exists(folder / "vocab.json") || !fs::exists(folder / "merges.txt")) return {std::nullopt, family_pad};
  const TokenizerFiles files{folder / "vocab.json", folder / "merges.txt"};
  if (!fs::exists(folder / "tokenizer_config.json")) return {files, family_pad};
  const auto config = read_json(folder / "tokenizer_config.json");
  const auto pad = config.contains("pad_token") && config["pad_token"].is_string()
                       ? config["pad_token"].get<std::string>() : std::string("<|endoftext|>");
  return {files, pad == "!" ? 0 : 49407};
}

// A model config given for a folder may restate the heads its config.json files give, not change them.
void check_heads_agree(const ModelSource& source, const HeadsConfig& heads, const fs::path& config_file) {
  const auto disagree = [&](const std::string& field, const std::string& folder_value) {
    throw ModelFileError(config_file, "field '" + field + "' disagrees with " + source.path.filename().string() + " (" +
                                          folder_value + "), whose config.json files give the architecture");
  };
  if (heads.text_encoder && *heads.text_encoder != source.text_config.heads)
    disagree("text_encoder.heads", "text_encoder/config.json: " + std::to_string(source.text_config.heads) + " heads");
  if (heads.text_encoder_2 &&
      (!source.text_encoder_2 || *heads.text_encoder_2 != source.text_encoder_2->config.heads))
    disagree("text_encoder_2.heads", source.text_encoder_2 ? "text_encoder_2/config.json: " +
                                         std::to_string(source.text_encoder_2->config.heads) + " heads"
                                                           : "no text_encoder_2");
  if (!heads.unet_heads.empty() || !heads.unet_head_dim.empty()) {
    const auto rule = unet_head_rule(source.family, heads, config_file);
    const auto configured = unet_config_from_weights(source.unet, rule, source.unet_config.addition_time_embed_dim);
    if (configured.num_heads != source.unet_config.num_heads) disagree("unet", "unet/config.json heads per level");
  }
}

ModelSource open_diffusers_folder(const fs::path& path, const OpenOptions& options) {
  const auto index = read_json(path / "model_index.json");
  const bool xl = index.contains("text_encoder_2");
  for (const char* part : {"unet", "vae", "text_encoder"}) {
    if (fs::is_directory(path / part)) continue;
    if (xl && std::string_view(part) == "text_encoder") refiner_not_supported(path);
    throw ModelFileError(path, std::string("has no '") + part + "' folder");
  }
  if (xl && !fs::is_directory(path / "text_encoder_2")) throw ModelFileError(path, "has no 'text_encoder_2' folder");

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
  source.family = xl ? ModelFamily::sdxl : open_clip ? ModelFamily::sd2 : ModelFamily::sd1;
  if (xl) {
    SecondTextEncoder te2;
    te2.weights = clip_text_to_hf(open_weights(component_weights(path / "text_encoder_2")));
    te2.config = clip_config_from_hf_json(read_json(path / "text_encoder_2" / "config.json"), te2.weights);
    if (te2.config.projection_dim == 0)
      throw ModelFileError(path / "text_encoder_2", "has no text_projection (SDXL pools through it)");
    std::tie(te2.tokenizer, te2.pad_token) = folder_tokenizer(path / "tokenizer_2", true);
    source.text_encoder_2 = std::move(te2);
    // diffusers' StableDiffusionXLPipeline registers it from model_index.json, defaulting to true.
    const auto zeros = index.find("force_zeros_for_empty_prompt");
    source.force_zeros_for_empty_prompt = zeros == index.end() || !zeros->is_boolean() || zeros->get<bool>();
  }
  if ((source.unet_config.projection_class_embeddings_input_dim > 0) != xl)
    throw ModelFileError(path, xl ? "is an SDXL folder whose UNet has no text_time add_embedding"
                                  : "has a UNet with an SDXL add_embedding but no text_encoder_2");
  if (const auto scheduler_file = path / "scheduler" / "scheduler_config.json"; fs::exists(scheduler_file)) {
    const auto scheduler = read_json(scheduler_file);
    source.unet_config.prediction =
        read_prediction_field(scheduler, "prediction_type", scheduler_file).value_or(Prediction::epsilon);
    source.noise_schedule = read_noise_schedule_fields(scheduler, scheduler_file);
  }
  source.image_size = native_size(source);
  std::tie(source.tokenizer, source.pad_token) = folder_tokenizer(path / "tokenizer", open_clip);

  const auto config_file = config_file_for(path, options);
  const auto config = config_file ? std::optional(read_model_config(*config_file)) : std::nullopt;
  if (config) check_heads_agree(source, config->heads, *config_file);
  apply_sidecar_files(source, config);
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

ModelSource open_model(const fs::path& path, const OpenOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "model_index.json"))
      throw ModelFileError(path, "is a folder without model_index.json (not a diffusers model folder)");
    return open_diffusers_folder(path, options);
  }
  if (!fs::exists(path, ec)) throw ModelFileError(path, "does not exist");
  const auto ext = path.extension().string();
  if (ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin")
    throw ModelFileError(path, "is a pickled checkpoint; only .safetensors files are supported (pickles can run code)");
  return open_single_file(path, options);
}

}  // namespace darkroom::io
