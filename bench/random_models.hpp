#pragma once
// A full-size SD1.5-architecture model with random weights, as a diffusers folder: speed does not depend
// on the values, and no real weights can be downloaded here. Written once and reused.
#include <filesystem>

namespace darkroom::bench {

// Creates `dir` (unless it already holds a complete model) and returns it.
std::filesystem::path ensure_sd15_random_model(const std::filesystem::path& dir);

}  // namespace darkroom::bench
