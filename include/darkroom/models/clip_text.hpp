#pragma once
// CLIP text encoder (OpenAI CLIP / OpenCLIP text transformer), with Hugging Face CLIPTextModel module
// names so that `named_parameters()` equals the HF state-dict keys. Causal self-attention and no padding
// mask: padded positions attend only to earlier tokens, as in every SD front end.
#include <torch/torch.h>

#include <vector>

#include "darkroom/io/clip_layout.hpp"
#include "darkroom/io/weight_index.hpp"

namespace darkroom::models {

struct ClipTextOutput {
  // layers + 1 entries: [0] = token + position embeddings, [i] = output of layer i-1; no final LayerNorm.
  std::vector<torch::Tensor> hidden_states;
  torch::Tensor last_hidden_state;  // final_layer_norm(hidden_states.back()): the SD1 conditioning
  torch::Tensor pooled;             // [B, width]: last_hidden_state at the first highest id (the first EOS)
  torch::Tensor text_embeds;        // [B, projection_dim]: pooled @ projection; undefined without a projection

  // The hidden state `clip_skip` layers from the end, without final LayerNorm: 1 = last layer,
  // 2 = penultimate (what SDXL feeds its UNet from both encoders).
  const torch::Tensor& raw_hidden_state(int clip_skip) const;
};

class ClipTextEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ClipTextEmbeddingsImpl(const io::ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& input_ids);

  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
};
TORCH_MODULE(ClipTextEmbeddings);

class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const io::ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal_mask);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(ClipAttention);

class ClipMlpImpl : public torch::nn::Module {
 public:
  explicit ClipMlpImpl(const io::ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  io::ClipTextConfig::Activation activation_;
};
TORCH_MODULE(ClipMlp);

class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const io::ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal_mask);

  torch::nn::LayerNorm layer_norm1{nullptr};
  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm2{nullptr};
  ClipMlp mlp{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

// HF's CLIPEncoder: only a container, so that the keys read `encoder.layers.N`.
class ClipEncoderImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderImpl(const io::ClipTextConfig& config);

  std::vector<ClipEncoderLayer> layers;
};
TORCH_MODULE(ClipEncoder);

// HF's CLIPTextTransformer (`text_model`).
class ClipTextTransformerImpl : public torch::nn::Module {
 public:
  explicit ClipTextTransformerImpl(const io::ClipTextConfig& config);

  ClipTextEmbeddings embeddings{nullptr};
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(ClipTextTransformer);

class ClipTextModelImpl : public torch::nn::Module {
 public:
  explicit ClipTextModelImpl(const io::ClipTextConfig& config);

  // input_ids: [B, T] integer token ids, T <= context_length. Runs every layer.
  ClipTextOutput forward(const torch::Tensor& input_ids);

  // The prompt conditioning for a clip skip (diffusers / A1111 semantics): final_layer_norm of
  // out.raw_hidden_state(clip_skip). 1 = last_hidden_state (SD1), 2 = "CLIP skip 2" / SD2.
  torch::Tensor conditioning(const ClipTextOutput& out, int clip_skip);

  const io::ClipTextConfig& config() const { return config_; }

  ClipTextTransformer text_model{nullptr};
  torch::nn::Linear text_projection{nullptr};  // null when config.projection_dim == 0

 private:
  io::ClipTextConfig config_;
};
TORCH_MODULE(ClipTextModel);

// Builds the model and fills it from HF-layout weights (see io::clip_text_to_hf). Throws
// io::ModelFileError naming the file and every missing or mis-shaped tensor.
ClipTextModel load_clip_text(const io::WeightIndex& hf_weights, const io::ClipTextConfig& config);

}  // namespace darkroom::models
