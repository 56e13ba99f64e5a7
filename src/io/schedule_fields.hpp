#pragma once
// The fields darkroom's model config shares with diffusers' scheduler_config.json (private to src/io): the
// same names and values, read by one function so that both files reject a mistyped one alike, with a
// ModelFileError naming the file and the field.
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "darkroom/io/model_config.hpp"

namespace darkroom::io {

// config[field]: "epsilon" | "v_prediction"; nullopt when absent.
std::optional<Prediction> read_prediction_field(const nlohmann::json& config, const char* field,
                                                const std::filesystem::path& file);
// rescale_betas_zero_snr (a boolean) and timestep_spacing ("leading" | "linspace" | "trailing").
NoiseScheduleConfig read_noise_schedule_fields(const nlohmann::json& config, const std::filesystem::path& file);

}  // namespace darkroom::io
