#pragma once
// The golden tiny SD1 and SDXL models in both layouts users have: the single-file checkpoint (beside its
// model config), and a diffusers folder assembled (with symlinks) from the separate diffusers-layout files.
#include <filesystem>
#include <memory>

#include "darkroom/pipeline/stable_diffusion.hpp"

namespace darkroom::golden {

enum class TinyLayout { single_file, diffusers_folder };
inline const char* layout_name(TinyLayout layout) {
  return layout == TinyLayout::single_file ? "single_file" : "diffusers_folder";
}

std::filesystem::path vocab_file();
std::filesystem::path tiny_sd1_path(TinyLayout layout);
// Loaded once per process and shared; generate() is const and safe to call from tests in turn.
std::shared_ptr<pipeline::StableDiffusion> tiny_sd1(TinyLayout layout);
std::filesystem::path tiny_sdxl_path(TinyLayout layout);
std::shared_ptr<pipeline::StableDiffusion> tiny_sdxl(TinyLayout layout);

}  // namespace darkroom::golden
