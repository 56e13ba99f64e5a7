#include "darkroom/io/model_config.hpp"

#include <fstream>
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

  ModelConfig out;
  out.prediction = read_prediction_field(config, "prediction", file);
  out.vae_scaling_factor = optional_number<double>(config, "vae_scaling_factor", file);
  if (out.vae_scaling_factor && !(*out.vae_scaling_factor > 0)) bad_field(file, "vae_scaling_factor", "must be positive");
  out.image_size = optional_number<int>(config, "image_size", file);
  if (out.image_size && (*out.image_size < 8 || *out.image_size % 8 != 0 || *out.image_size > 16384))
    bad_field(file, "image_size", "must be a multiple of 8 from 8 to 16384");
  if (const auto it = config.find("tokenizer"); it != config.end()) {
    if (!it->is_object()) bad_field(file, "tokenizer", "must be an object");
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
  std::ofstream stream(file);
  stream << out.dump(2) << "\n";
  if (!stream.flush()) throw ModelFileError(file, "cannot be written");
}

}  // namespace darkroom::io
