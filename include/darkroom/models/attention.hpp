#pragma once
// Attention and the spatial transformer, named as in diffusers (models/attention_processor.py,
// models/attention.py, models/transformers/transformer_2d.py).
#include <torch/torch.h>

namespace darkroom::models {

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0: self-attention (keys and values from the query input)
  int64_t heads = 8;
  int64_t dim_head = 64;
  bool bias = false;  // on to_q/to_k/to_v; to_out.0 always has one
  // VAE mid-block form (4-D input): GroupNorm first (groups > 0) and the input added back.
  int64_t norm_groups = 0;
  double norm_eps = 1e-6;
  bool residual_connection = false;
};

// Multi-head scaled dot-product attention, softmax(q k^T / sqrt(dim_head)) v. The score matrix is
// built a block of queries at a time, so memory stays bounded at 4096+ tokens whatever the batch.
class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);
  // x: tokens [B, N, query_dim], or an image [B, C, H, W] attended over its H*W positions.
  // context: [B, M, cross_attention_dim] for cross-attention; undefined for self-attention.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  torch::nn::GroupNorm group_norm{nullptr};
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [0] = output Linear (diffusers keeps a Dropout at [1])

 private:
  torch::Tensor attend_tokens(const torch::Tensor& x, const torch::Tensor& context);

  AttentionOptions options_;
  torch::nn::Linear out_proj_{nullptr};  // to_out[0]
};
TORCH_MODULE(Attention);

// diffusers GEGLU: proj gives [value, gate]; value * gelu(gate) with the exact (erf) GELU.
class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(int64_t dim_in, int64_t dim_out);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(GEGLU);

// diffusers FeedForward: net = [GEGLU(dim -> 4 dim), Dropout, Linear(4 dim -> dim)].
class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList net{nullptr};

 private:
  GEGLU geglu_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(FeedForward);

// Pre-LayerNorm block: self-attention, cross-attention on the context, GEGLU feed-forward, each residual.
class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t dim_head, int64_t cross_attention_dim);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  Attention attn1{nullptr}, attn2{nullptr};
  FeedForward ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct Transformer2DOptions {
  int64_t channels = 0;
  int64_t heads = 8;
  int64_t layers = 1;
  int64_t cross_attention_dim = 768;
  bool use_linear_projection = false;  // proj_in/proj_out as Linear on tokens (SD2, SDXL) or 1x1 conv (SD1)
  int64_t norm_groups = 32;
};

// Spatial transformer: GroupNorm(eps 1e-6), proj_in, transformer_blocks over the H*W tokens, proj_out,
// plus the input.
class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const Transformer2DOptions& options);
  // x [B, C, H, W], context [B, M, cross_attention_dim] -> [B, C, H, W].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

  torch::nn::GroupNorm norm{nullptr};
  torch::nn::ModuleList transformer_blocks{nullptr};

 private:
  // Exactly one of each pair exists, registered as proj_in / proj_out.
  torch::nn::Conv2d proj_in_conv_{nullptr}, proj_out_conv_{nullptr};
  torch::nn::Linear proj_in_linear_{nullptr}, proj_out_linear_{nullptr};
};
TORCH_MODULE(Transformer2DModel);

}  // namespace darkroom::models
