#pragma once
// CLIP text encoder checkpoints come in two key layouts: Hugging Face CLIPTextModel(WithProjection)
// (`text_model.*`, diffusers folders, SD1 single files) and OpenAI / OpenCLIP (`transformer.resblocks.*`,
// SD2 and SDXL single files). The model is written against the HF names; OpenAI files are renamed here.
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::io {

struct ClipTextConfig {
  enum class Activation { quick_gelu, gelu };

  int64_t vocab_size = 49408;
  int64_t context_length = 77;
  int64_t width = 768;
  int64_t heads = 12;
  int64_t layers = 12;
  int64_t intermediate_size = 3072;  // MLP hidden width
  int64_t projection_dim = 0;        // 0: no text_projection
  Activation activation = Activation::quick_gelu;
  double layer_norm_eps = 1e-5;
};

// Returns HF-layout keys. HF input is returned unchanged (its int64 position_ids is simply never read);
// OpenAI/OpenCLIP input is renamed: the fused attn.in_proj_{weight,bias} is split by rows into q/k/v,
// and text_projection [width, proj] (applied as x @ W) becomes text_projection.weight [proj, width].
// Throws ModelFileError when neither layout is recognised.
WeightIndex clip_text_to_hf(const WeightIndex& weights);

// Shapes give every size except the head count, which no tensor records: `heads` when a model config
// gives it, else the convention of every released encoder (OpenAI CLIP ViT-L, OpenCLIP ViT-H and bigG):
// 64-channel heads. Throws ModelFileError when the width does not split into those heads; without a
// config, the error asks for the model config field `config_field` ("text_encoder", "text_encoder_2").
ClipTextConfig clip_config_from_weights(const WeightIndex& hf, ClipTextConfig::Activation activation,
                                        std::optional<int64_t> heads = std::nullopt,
                                        std::string_view config_field = "text_encoder");

// A diffusers text_encoder/config.json (transformers CLIPTextConfig). projection_dim is only taken when
// the weights hold a text_projection. Throws std::invalid_argument naming a missing or unsupported field.
ClipTextConfig clip_config_from_hf_json(const nlohmann::json& config, const WeightIndex& hf);

}  // namespace darkroom::io
