#pragma once
// The golden tiny SD1 model in both layouts users have: the single-file checkpoint, and a diffusers
// folder assembled (with symlinks) from the separate diffusers-layout files.
#include <filesystem>
#include <memory>

#include "darkroom/pipeline/stable_diffusion.hpp"

namespace darkroom::golden {

enum class TinyLayout { single_file, diffusers_folder };

std::filesystem::path vocab_file();
std::filesystem::path tiny_sd1_path(TinyLayout layout);
// Loaded once per process and shared; generate() is const and safe to call from tests in turn.
std::shared_ptr<pipeline::StableDiffusion> tiny_sd1(TinyLayout layout);

}  // namespace darkroom::golden
