#pragma once
// Full-size models with random weights, as diffusers folders: speed does not depend on the values, and no
// real weights can be downloaded here. Written once (F16) and reused.
#include <filesystem>

namespace darkroom::bench {

// Creates `dir` (unless it already holds a complete model) and returns it.
std::filesystem::path ensure_sd15_random_model(const std::filesystem::path& dir);
// SDXL base's architecture (stabilityai/stable-diffusion-xl-base-1.0 configs): a 2.6 B-parameter UNet,
// CLIP ViT-L and OpenCLIP ViT-bigG text encoders. Writing it needs some 16 GB of memory, once.
std::filesystem::path ensure_sdxl_random_model(const std::filesystem::path& dir);

}  // namespace darkroom::bench
