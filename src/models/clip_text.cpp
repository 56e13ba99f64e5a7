#include "darkroom/models/clip_text.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "darkroom/models/interruption.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::models {

namespace nn = torch::nn;
using Activation = io::ClipTextConfig::Activation;

const torch::Tensor& ClipTextOutput::raw_hidden_state(int clip_skip) const {
  const int layers = static_cast<int>(hidden_states.size()) - 1;
  if (clip_skip < 1 || clip_skip > layers)
    throw std::invalid_argument("clip_skip " + std::to_string(clip_skip) + " is outside 1.." + std::to_string(layers));
  return hidden_states[layers - clip_skip + 1];
}

ClipTextEmbeddingsImpl::ClipTextEmbeddingsImpl(const io::ClipTextConfig& c) {
  token_embedding = register_module("token_embedding", nn::Embedding(c.vocab_size, c.width));
  position_embedding = register_module("position_embedding", nn::Embedding(c.context_length, c.width));
}

torch::Tensor ClipTextEmbeddingsImpl::forward(const torch::Tensor& input_ids) {
  const int64_t length = input_ids.size(1);
  const auto positions = torch::arange(length, torch::TensorOptions().dtype(torch::kLong).device(input_ids.device()));
  return token_embedding(input_ids) + position_embedding(positions).unsqueeze(0);
}

ClipAttentionImpl::ClipAttentionImpl(const io::ClipTextConfig& c) : heads_(c.heads) {
  q_proj = register_module("q_proj", nn::Linear(c.width, c.width));
  k_proj = register_module("k_proj", nn::Linear(c.width, c.width));
  v_proj = register_module("v_proj", nn::Linear(c.width, c.width));
  out_proj = register_module("out_proj", nn::Linear(c.width, c.width));
}

torch::Tensor ClipAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
  const int64_t batch = x.size(0), length = x.size(1), width = x.size(2);
  const int64_t head_dim = width / heads_;
  auto split_heads = [&](const torch::Tensor& t) { return t.view({batch, length, heads_, head_dim}).transpose(1, 2); };
  const auto q = split_heads(q_proj(x) * (1.0 / std::sqrt(static_cast<double>(head_dim))));
  const auto k = split_heads(k_proj(x));
  const auto v = split_heads(v_proj(x));
  const auto weights = torch::softmax(torch::matmul(q, k.transpose(-1, -2)) + causal_mask, -1);
  const auto attended = torch::matmul(weights, v).transpose(1, 2).reshape({batch, length, width});
  return out_proj(attended);
}

ClipMlpImpl::ClipMlpImpl(const io::ClipTextConfig& c) : activation_(c.activation) {
  fc1 = register_module("fc1", nn::Linear(c.width, c.intermediate_size));
  fc2 = register_module("fc2", nn::Linear(c.intermediate_size, c.width));
}

torch::Tensor ClipMlpImpl::forward(const torch::Tensor& x) {
  auto h = fc1(x);
  // QuickGELU is OpenAI CLIP's (SD1, SDXL te1); OpenCLIP ViT-H/bigG (SD2, SDXL te2) use exact erf GELU.
  h = activation_ == Activation::quick_gelu ? h * torch::sigmoid(1.702 * h) : torch::gelu(h);
  return fc2(h);
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const io::ClipTextConfig& c) {
  const auto norm = nn::LayerNormOptions({c.width}).eps(c.layer_norm_eps);
  layer_norm1 = register_module("layer_norm1", nn::LayerNorm(norm));
  self_attn = register_module("self_attn", ClipAttention(c));
  layer_norm2 = register_module("layer_norm2", nn::LayerNorm(norm));
  mlp = register_module("mlp", ClipMlp(c));
}

torch::Tensor ClipEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
  auto h = x + self_attn(layer_norm1(x), causal_mask);
  return h + mlp(layer_norm2(h));
}

ClipEncoderImpl::ClipEncoderImpl(const io::ClipTextConfig& c) {
  auto list = register_module("layers", nn::ModuleList());
  for (int64_t i = 0; i < c.layers; ++i) {
    layers.push_back(ClipEncoderLayer(c));
    list->push_back(layers.back());
  }
}

ClipTextTransformerImpl::ClipTextTransformerImpl(const io::ClipTextConfig& c) {
  embeddings = register_module("embeddings", ClipTextEmbeddings(c));
  encoder = register_module("encoder", ClipEncoder(c));
  final_layer_norm =
      register_module("final_layer_norm", nn::LayerNorm(nn::LayerNormOptions({c.width}).eps(c.layer_norm_eps)));
}

ClipTextModelImpl::ClipTextModelImpl(const io::ClipTextConfig& config) : config_(config) {
  text_model = register_module("text_model", ClipTextTransformer(config));
  if (config.projection_dim > 0)
    text_projection = register_module(
        "text_projection", nn::Linear(nn::LinearOptions(config.width, config.projection_dim).bias(false)));
}

ClipTextOutput ClipTextModelImpl::forward(const torch::Tensor& input_ids) {
  if (input_ids.dim() != 2 || input_ids.size(1) < 1 || input_ids.size(1) > config_.context_length)
    throw std::invalid_argument("CLIP input_ids must be [batch, 1.." + std::to_string(config_.context_length) +
                                "], got " + c10::str(input_ids.sizes()));
  const auto ids = input_ids.to(torch::kLong);
  const int64_t length = ids.size(1);
  auto h = text_model->embeddings(ids);
  const auto causal_mask =
      torch::full({length, length}, -std::numeric_limits<float>::infinity(), h.options()).triu(1);

  ClipTextOutput out;
  out.hidden_states.push_back(h);
  for (auto& layer : text_model->encoder->layers) {
    interruption_point();
    h = layer(h, causal_mask);
    out.hidden_states.push_back(h);
  }
  out.last_hidden_state = text_model->final_layer_norm(h);
  // argmax returns the first maximal index: the first EOS (49407), whatever id pads the prompt.
  const auto eos = ids.argmax(-1);
  out.pooled = out.last_hidden_state.index({torch::arange(ids.size(0), eos.options()), eos});
  if (text_projection) out.text_embeds = text_projection(out.pooled);
  return out;
}

torch::Tensor ClipTextModelImpl::conditioning(const ClipTextOutput& out, int clip_skip) {
  const auto& raw = out.raw_hidden_state(clip_skip);
  return clip_skip == 1 ? out.last_hidden_state : text_model->final_layer_norm(raw);
}

ClipTextModel load_clip_text(const io::WeightIndex& hf_weights, const io::ClipTextConfig& config) {
  ClipTextModel model(config);
  load_module(*model, hf_weights, "CLIP text encoder");
  // Inference only: without this every forward would record an autograd graph.
  for (auto& parameter : model->parameters()) parameter.set_requires_grad(false);
  model->eval();
  return model;
}

}  // namespace darkroom::models
