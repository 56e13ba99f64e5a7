#include "darkroom/io/model_config.hpp"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "darkroom/io/error.hpp"
#include "layout_util.hpp"
#include "schedule_fields.hpp"

namespace darkroom::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kFormat = "darkroom.model";

[[noreturn]] void bad_field(const fs::path& file, const std::string& field, const std::string& problem) {
  throw ModelFileError(file, "field '" + field + "' " + problem);
}

template <typename T>
std::optional<T> optional_number(const json& config, const char* name, const fs::path& file) {
  const auto it = config.find(name);
  if (it == config.end()) return std::nullopt;
  if (!it->is_number()) bad_field(file, name, "must be a number");
  return it->get<T>();
}

fs::path tokenizer_file(const json& tokenizer, const char* name, const fs::path& file) {
  const auto it = tokenizer.find(name);
  if (it == tokenizer.end() || !it->is_string()) bad_field(file, std::string("tokenizer.") + name, "must be a file name");
  const fs::path relative = it->get<std::string>();
  if (relative.is_absolute() || relative.filename() != relative)
    bad_field(file, std::string("tokenizer.") + name, "must name a file in the config's folder");
  const fs::path path = file.parent_path() / relative;
  if (!fs::exists(path)) bad_field(file, std::string("tokenizer.") + name, "names " + path.string() + ", which does not exist");
  return path;
}

std::string joined(std::initializer_list<std::string_view> names) {
  std::string out;
  for (const auto name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

// Every key of an object must be one this reader knows: a misspelt field would otherwise be ignored and
// the model silently run another way.
void only_known_fields(const json& object, std::initializer_list<std::string_view> known, const std::string& where,
                       const fs::path& file) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end())
      bad_field(file, where + item.key(), "is not a darkroom model config field (known: " + joined(known) + ")");
  }
}

int64_t positive_integer(const json& value, const std::string& name, const fs::path& file) {
  if (!value.is_number_integer() || value.get<int64_t>() < 1) bad_field(file, name, "must be a positive integer");
  return value.get<int64_t>();
}

// A number for every level, or a list with one per level.
std::vector<int64_t> per_level_integers(const json& value, const std::string& name, const fs::path& file) {
  if (!value.is_array()) return {positive_integer(value, name, file)};
  if (value.empty()) bad_field(file, name, "must not be an empty list");
  std::vector<int64_t> out;
  for (const auto& entry : value) out.push_back(positive_integer(entry, name, file));
  return out;
}

std::optional<int64_t> text_encoder_heads(const json& config, const char* name, const fs::path& file) {
  const auto it = config.find(name);
  if (it == config.end()) return std::nullopt;
  if (!it->is_object()) bad_field(file, name, "must be an object such as {\"heads\": 12}");
  only_known_fields(*it, {"heads"}, std::string(name) + ".", file);
  const auto heads = it->find("heads");
  if (heads == it->end()) bad_field(file, std::string(name) + ".heads", "is missing");
  return positive_integer(*heads, std::string(name) + ".heads", file);
}

void read_unet_heads(const json& config, HeadsConfig& heads, const fs::path& file) {
  const auto it = config.find("unet");
  if (it == config.end()) return;
  if (!it->is_object()) bad_field(file, "unet", "must be an object such as {\"head_dim\": 64} or {\"heads\": 8}");
  only_known_fields(*it, {"heads", "head_dim"}, "unet.", file);
  const auto count = it->find("heads");
  const auto width = it->find("head_dim");
  if ((count == it->end()) == (width == it->end())) bad_field(file, "unet", "must give either heads or head_dim");
  if (count != it->end()) heads.unet_heads = per_level_integers(*count, "unet.heads", file);
  if (width != it->end()) heads.unet_head_dim = per_level_integers(*width, "unet.head_dim", file);
}

json per_level_json(const std::vector<int64_t>& values) {
  const bool same = std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == values.front(); });
  return same ? json(values.front()) : json(values);
}

}  // namespace

std::optional<Prediction> read_prediction_field(const json& config, const char* field, const fs::path& file) {
  const json* value = layout::field(config, field);
  if (!value) return std::nullopt;
  if (*value == "epsilon") return Prediction::epsilon;
  if (*value == "v_prediction") return Prediction::v_prediction;
  bad_field(file, field, "must be \"epsilon\" or \"v_prediction\", not " + value->dump());
}

NoiseScheduleConfig read_noise_schedule_fields(const json& config, const fs::path& file) {
  NoiseScheduleConfig out;
  if (const json* value = layout::field(config, "rescale_betas_zero_snr")) {
    if (!value->is_boolean()) bad_field(file, "rescale_betas_zero_snr", "must be true or false, not " + value->dump());
    out.rescale_betas_zero_snr = value->get<bool>();
  }
  if (const json* value = layout::field(config, "timestep_spacing")) {
    if (*value != "leading" && *value != "linspace" && *value != "trailing")
      bad_field(file, "timestep_spacing", "must be \"leading\", \"linspace\" or \"trailing\", not " + value->dump());
    out.timestep_spacing = value->get<std::string>();
  }
  return out;
}

fs::path model_config_path(const fs::path& checkpoint) {
  fs::path config = checkpoint;
  return config.replace_extension(".json");
}

ModelConfig read_model_config(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw ModelFileError(file, "cannot be read");
  json config;
  try {
    config = json::parse(in);
  } catch (const json::exception& e) {
    throw ModelFileError(file, std::string("is not valid JSON: ") + e.what());
  }
  if (!config.is_object() || config.value("format", "") != kFormat)
    throw ModelFileError(file, "is not a darkroom model config (no \"format\": \"darkroom.model\")");
  if (config.value("version", 0) != 1) bad_field(file, "version", "must be 1");
  only_known_fields(config,
                    {"format", "version", "prediction", "vae_scaling_factor", "image_size", "tokenizer",
                     "rescale_betas_zero_snr", "timestep_spacing", "guidance_scale", "text_encoder",
                     "text_encoder_2", "unet"},
                    "", file);

  ModelConfig out;
  out.prediction = read_prediction_field(config, "prediction", file);
  out.vae_scaling_factor = optional_number<double>(config, "vae_scaling_factor", file);
  if (out.vae_scaling_factor && !(*out.vae_scaling_factor > 0)) bad_field(file, "vae_scaling_factor", "must be positive");
  out.image_size = optional_number<int>(config, "image_size", file);
  if (out.image_size && (*out.image_size < 8 || *out.image_size % 8 != 0 || *out.image_size > 16384))
    bad_field(file, "image_size", "must be a multiple of 8 from 8 to 16384");
  if (const auto it = config.find("tokenizer"); it != config.end()) {
    if (!it->is_object()) bad_field(file, "tokenizer", "must be an object");
    only_known_fields(*it, {"vocab", "merges", "pad_token"}, "tokenizer.", file);
    ModelConfig::Tokenizer tokenizer;
    tokenizer.vocab_json = tokenizer_file(*it, "vocab", file);
    tokenizer.merges_txt = tokenizer_file(*it, "merges", file);
    const auto pad = optional_number<int64_t>(*it, "pad_token", file);
    if (!pad || *pad < 0) bad_field(file, "tokenizer.pad_token", "must be a token id");
    tokenizer.pad_token = *pad;
    out.tokenizer = tokenizer;
  }
  out.noise_schedule = read_noise_schedule_fields(config, file);
  out.guidance_scale = optional_number<double>(config, "guidance_scale", file);
  if (out.guidance_scale && !(*out.guidance_scale >= 0 && *out.guidance_scale <= 100))
    bad_field(file, "guidance_scale", "must be between 0 and 100");
  out.heads.text_encoder = text_encoder_heads(config, "text_encoder", file);
  out.heads.text_encoder_2 = text_encoder_heads(config, "text_encoder_2", file);
  read_unet_heads(config, out.heads, file);
  return out;
}

void write_model_config(const fs::path& file, const ModelConfig& config) {
  json out{{"format", kFormat}, {"version", 1}};
  if (config.prediction)
    out["prediction"] = *config.prediction == Prediction::epsilon ? "epsilon" : "v_prediction";
  if (config.vae_scaling_factor) out["vae_scaling_factor"] = *config.vae_scaling_factor;
  if (config.image_size) out["image_size"] = *config.image_size;
  if (config.tokenizer) {
    out["tokenizer"] = {{"vocab", config.tokenizer->vocab_json.filename().string()},
                        {"merges", config.tokenizer->merges_txt.filename().string()},
                        {"pad_token", config.tokenizer->pad_token}};
  }
  if (config.noise_schedule.rescale_betas_zero_snr) out["rescale_betas_zero_snr"] = true;
  if (config.noise_schedule.timestep_spacing) out["timestep_spacing"] = *config.noise_schedule.timestep_spacing;
  if (config.guidance_scale) out["guidance_scale"] = *config.guidance_scale;
  if (config.heads.text_encoder) out["text_encoder"] = {{"heads", *config.heads.text_encoder}};
  if (config.heads.text_encoder_2) out["text_encoder_2"] = {{"heads", *config.heads.text_encoder_2}};
  if (!config.heads.unet_heads.empty()) out["unet"] = {{"heads", per_level_json(config.heads.unet_heads)}};
  if (!config.heads.unet_head_dim.empty()) out["unet"] = {{"head_dim", per_level_json(config.heads.unet_head_dim)}};
  std::ofstream stream(file);
  stream << out.dump(2) << "\n";
  if (!stream.flush()) throw ModelFileError(file, "cannot be written");
}

}  // namespace darkroom::io
