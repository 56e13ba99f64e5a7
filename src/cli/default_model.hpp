#pragma once
// The embedded model (models/darkroom-shapes.safetensors, trained by darkroom-train): what `generate` uses
// without --model and what `serve` serves without --models-dir.
#include <filesystem>

namespace darkroom::cli {

// $DARKROOM_MODEL when set, else the embedded model of the source tree this binary was built from.
// Throws std::invalid_argument saying which file is missing.
std::filesystem::path default_model();

}  // namespace darkroom::cli
