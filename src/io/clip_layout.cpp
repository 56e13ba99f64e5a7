#include "darkroom/io/clip_layout.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace darkroom::io {
namespace {

constexpr std::string_view kHfLayer = "text_model.encoder.layers.";

int64_t count_layers(const WeightIndex& weights, std::string_view prefix) {
  int64_t n = 0;
  while (weights.has_prefix(std::string(prefix) + std::to_string(n) + ".")) ++n;
  return n;
}

void rename(WeightIndex& out, const WeightIndex& in, std::string_view from, std::string to) {
  out.set(std::move(to), in.at(from));
}

WeightIndex openai_to_hf(const WeightIndex& in) {
  WeightIndex out;
  rename(out, in, "token_embedding.weight", "text_model.embeddings.token_embedding.weight");
  rename(out, in, "positional_embedding", "text_model.embeddings.position_embedding.weight");
  rename(out, in, "ln_final.weight", "text_model.final_layer_norm.weight");
  rename(out, in, "ln_final.bias", "text_model.final_layer_norm.bias");
  if (const auto* projection = in.find("text_projection")) out.set("text_projection.weight", projection->transposed());

  const int64_t layers = count_layers(in, "transformer.resblocks.");
  for (int64_t n = 0; n < layers; ++n) {
    const std::string src = "transformer.resblocks." + std::to_string(n) + ".";
    const std::string dst = std::string(kHfLayer) + std::to_string(n) + ".";
    for (const char* p : {"weight", "bias"}) {
      const std::string param = p;
      rename(out, in, src + "ln_1." + param, dst + "layer_norm1." + param);
      rename(out, in, src + "ln_2." + param, dst + "layer_norm2." + param);
      rename(out, in, src + "attn.out_proj." + param, dst + "self_attn.out_proj." + param);
      rename(out, in, src + "mlp.c_fc." + param, dst + "mlp.fc1." + param);
      rename(out, in, src + "mlp.c_proj." + param, dst + "mlp.fc2." + param);
      // nn.MultiheadAttention stores cat(q, k, v) along dim 0.
      const TensorRef& fused = in.at(src + "attn.in_proj_" + param);
      const int64_t width = fused.shape().at(0) / 3;
      out.set(dst + "self_attn.q_proj." + param, fused.rows(0, width));
      out.set(dst + "self_attn.k_proj." + param, fused.rows(width, 2 * width));
      out.set(dst + "self_attn.v_proj." + param, fused.rows(2 * width, 3 * width));
    }
  }
  return out;
}

template <typename T>
T json_field(const nlohmann::json& config, const char* name) {
  const auto it = config.find(name);
  if (it == config.end()) throw std::invalid_argument(std::string("CLIP text config: missing '") + name + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("CLIP text config: '") + name + "' has the wrong type");
  }
}

}  // namespace

WeightIndex clip_text_to_hf(const WeightIndex& weights) {
  if (weights.has_prefix("text_model.")) return weights;
  if (weights.contains("token_embedding.weight")) return openai_to_hf(weights);
  throw ModelFileError(weights.primary_file(),
                       "not a CLIP text encoder: found neither text_model.* (Hugging Face) nor "
                       "token_embedding.weight (OpenAI/OpenCLIP) keys");
}

ClipTextConfig clip_config_from_weights(const WeightIndex& hf, ClipTextConfig::Activation activation,
                                        std::optional<int64_t> heads, std::string_view config_field) {
  ClipTextConfig c;
  const auto token = hf.shape("text_model.embeddings.token_embedding.weight");
  c.vocab_size = token.at(0);
  c.width = token.at(1);
  c.context_length = hf.shape("text_model.embeddings.position_embedding.weight").at(0);
  c.layers = count_layers(hf, kHfLayer);
  if (c.layers == 0) throw ModelFileError(hf.primary_file(), "CLIP text encoder has no text_model.encoder.layers.0");
  c.intermediate_size = hf.shape(std::string(kHfLayer) + "0.mlp.fc1.weight").at(0);
  if (const auto* projection = hf.find("text_projection.weight")) c.projection_dim = projection->shape().at(0);
  const std::string width = "CLIP text encoder width " + std::to_string(c.width);
  if (heads) {
    if (*heads <= 0 || c.width % *heads != 0)
      throw ModelFileError(hf.primary_file(), width + " does not split into the " + std::to_string(*heads) +
                                                  " heads its model config gives (" + std::string(config_field) + ".heads)");
    c.heads = *heads;
  } else {
    constexpr int64_t kReleasedHeadWidth = 64;
    if (c.width % kReleasedHeadWidth != 0)
      throw ModelFileError(hf.primary_file(),
                           width + " is not a multiple of 64, so the released encoders' 64-channel heads do not fit "
                                   "it; give its head count in a model config: {\"" + std::string(config_field) +
                                   "\": {\"heads\": N}} in NAME.json beside the checkpoint (or --model-config FILE)");
    c.heads = c.width / kReleasedHeadWidth;
  }
  c.activation = activation;
  return c;
}

ClipTextConfig clip_config_from_hf_json(const nlohmann::json& config, const WeightIndex& hf) {
  ClipTextConfig c;
  c.vocab_size = json_field<int64_t>(config, "vocab_size");
  c.context_length = json_field<int64_t>(config, "max_position_embeddings");
  c.width = json_field<int64_t>(config, "hidden_size");
  c.heads = json_field<int64_t>(config, "num_attention_heads");
  c.layers = json_field<int64_t>(config, "num_hidden_layers");
  c.intermediate_size = json_field<int64_t>(config, "intermediate_size");
  if (config.contains("layer_norm_eps")) c.layer_norm_eps = json_field<double>(config, "layer_norm_eps");
  const auto act = json_field<std::string>(config, "hidden_act");
  if (act == "quick_gelu") {
    c.activation = ClipTextConfig::Activation::quick_gelu;
  } else if (act == "gelu") {
    c.activation = ClipTextConfig::Activation::gelu;
  } else {
    throw std::invalid_argument("CLIP text config: unsupported hidden_act '" + act + "'");
  }
  if (c.heads <= 0 || c.width % c.heads != 0)
    throw std::invalid_argument("CLIP text config: hidden_size " + std::to_string(c.width) +
                                " is not divisible by num_attention_heads " + std::to_string(c.heads));
  if (hf.contains("text_projection.weight")) c.projection_dim = json_field<int64_t>(config, "projection_dim");
  return c;
}

}  // namespace darkroom::io
