#pragma once
// Saving a Stable Diffusion model as one original-layout (LDM) checkpoint, the file A1111, ComfyUI and
// darkroom's own io::open_model read: `model.diffusion_model.*` (LDM UNet names), `first_stage_model.*`
// (LDM VAE names) and `cond_stage_model.transformer.*` (Hugging Face CLIPTextModel names).
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

#include "darkroom/models/clip_text.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/models/vae.hpp"

namespace darkroom::models {

// Writes every parameter of the three models, converted to dtype (float32, float16 or bfloat16), under
// its single-file name; the VAE mid-block attention's Linear q/k/v/proj_out weights are written as the
// [C,C,1,1] 1x1 convs LDM stores. The text encoder is written as our module holds it, so without the
// int64 `text_model.embeddings.position_ids` (0..context-1) that SD1 files carry: darkroom never reads
// it, and Hugging Face's CLIPTextModel creates it itself.
// Throws std::invalid_argument for an unsupported dtype or a parameter with no LDM name,
// io::ModelFileError when the file cannot be written.
void save_single_file(const std::filesystem::path& path, const UNet2DConditionModel& unet, const AutoencoderKL& vae,
                      const ClipTextModel& text_encoder, torch::ScalarType dtype = torch::kFloat16,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace darkroom::models
