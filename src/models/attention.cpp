#include "darkroom/models/attention.hpp"

#include <algorithm>
#include <cmath>

#include "darkroom/models/interruption.hpp"

namespace darkroom::models {

namespace nn = torch::nn;

namespace {

// Upper bound on one block of attention scores. At 512x512 the first SD level has 4096 tokens: a full
// score matrix for batch 2 x 8 heads would be 1 GiB.
constexpr int64_t kScoreBudgetBytes = int64_t{64} << 20;

// [B, N, heads * d] -> [B * heads, N, d]
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t b = x.size(0), n = x.size(1), d = x.size(2) / heads;
  return x.view({b, n, heads, d}).permute({0, 2, 1, 3}).reshape({b * heads, n, d});
}

// [B * heads, N, d] -> [B, N, heads * d]
torch::Tensor merge_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t bh = x.size(0), n = x.size(1), d = x.size(2);
  return x.view({bh / heads, heads, n, d}).permute({0, 2, 1, 3}).reshape({bh / heads, n, heads * d});
}

// softmax(q k^T) v over [BH, N, d] tensors, q already scaled. Plain bmm: no baddbmm, whose beta=0 path
// reads its (uninitialised) input on torch 1.13.
torch::Tensor scaled_dot_product(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t bh = q.size(0), n = q.size(1), m = k.size(1);
  const auto kt = k.transpose(1, 2);
  const int64_t rows = std::clamp<int64_t>(kScoreBudgetBytes / (bh * m * q.element_size()), 1, n);
  if (rows == n) return torch::bmm(torch::bmm(q, kt).softmax(-1), v);
  auto out = torch::empty({bh, n, v.size(2)}, q.options());
  for (int64_t start = 0; start < n; start += rows) {
    interruption_point();
    const int64_t len = std::min(rows, n - start);
    out.narrow(1, start, len).copy_(torch::bmm(torch::bmm(q.narrow(1, start, len), kt).softmax(-1), v));
  }
  return out;
}

}  // namespace

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  const int64_t inner = options.heads * options.dim_head;
  const int64_t context_dim = options.cross_attention_dim > 0 ? options.cross_attention_dim : options.query_dim;
  if (options.norm_groups > 0)
    group_norm = register_module(
        "group_norm",
        nn::GroupNorm(nn::GroupNormOptions(options.norm_groups, options.query_dim).eps(options.norm_eps)));
  to_q = register_module("to_q", nn::Linear(nn::LinearOptions(options.query_dim, inner).bias(options.bias)));
  to_k = register_module("to_k", nn::Linear(nn::LinearOptions(context_dim, inner).bias(options.bias)));
  to_v = register_module("to_v", nn::Linear(nn::LinearOptions(context_dim, inner).bias(options.bias)));
  out_proj_ = nn::Linear(inner, options.query_dim);
  to_out = register_module("to_out", nn::ModuleList(out_proj_));
}

torch::Tensor AttentionImpl::attend_tokens(const torch::Tensor& x, const torch::Tensor& context) {
  const auto& source = context.defined() ? context : x;
  // Scaling q rather than the N x M scores is a smaller pass; for power-of-two head widths it is
  // bit-identical to scaling the scores.
  const auto q = split_heads(to_q(x).mul_(std::pow(static_cast<double>(options_.dim_head), -0.5)), options_.heads);
  const auto k = split_heads(to_k(source), options_.heads);
  const auto v = split_heads(to_v(source), options_.heads);
  return out_proj_(merge_heads(scaled_dot_product(q, k, v), options_.heads));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  if (x.dim() == 3) return attend_tokens(x, context);
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto tokens = (group_norm ? group_norm(x) : x).reshape({b, c, h * w}).transpose(1, 2);
  auto out = attend_tokens(tokens, context).transpose(1, 2).reshape({b, c, h, w});
  return options_.residual_connection ? out.add_(x) : out;
}

GEGLUImpl::GEGLUImpl(int64_t dim_in, int64_t dim_out) {
  proj = register_module("proj", nn::Linear(dim_in, 2 * dim_out));
}

torch::Tensor GEGLUImpl::forward(const torch::Tensor& x) {
  const auto parts = proj(x).chunk(2, -1);
  return parts[0] * torch::gelu(parts[1]);
}

FeedForwardImpl::FeedForwardImpl(int64_t dim) {
  geglu_ = GEGLU(dim, 4 * dim);
  out_ = nn::Linear(4 * dim, dim);
  net = register_module("net", nn::ModuleList(geglu_, nn::Dropout(0.0), out_));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) { return out_(geglu_(x)); }

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t dim_head,
                                                     int64_t cross_attention_dim) {
  const auto layer_norm = [&] { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-5)); };
  norm1 = register_module("norm1", layer_norm());
  attn1 = register_module("attn1", Attention(AttentionOptions{.query_dim = dim, .heads = heads, .dim_head = dim_head}));
  norm2 = register_module("norm2", layer_norm());
  attn2 = register_module(
      "attn2",
      Attention(AttentionOptions{
          .query_dim = dim, .cross_attention_dim = cross_attention_dim, .heads = heads, .dim_head = dim_head}));
  norm3 = register_module("norm3", layer_norm());
  ff = register_module("ff", FeedForward(dim));
}

torch::Tensor BasicTransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  interruption_point();
  auto h = attn1(norm1(x)).add_(x);
  interruption_point();
  h = attn2(norm2(h), context).add_(h);
  interruption_point();
  return ff(norm3(h)).add_(h);
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DOptions& o) {
  norm = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(o.norm_groups, o.channels).eps(1e-6)));
  if (o.use_linear_projection) {
    proj_in_linear_ = register_module("proj_in", nn::Linear(o.channels, o.channels));
  } else {
    proj_in_conv_ = register_module("proj_in", nn::Conv2d(nn::Conv2dOptions(o.channels, o.channels, 1)));
  }
  transformer_blocks = register_module("transformer_blocks", nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i)
    transformer_blocks->push_back(
        BasicTransformerBlock(o.channels, o.heads, o.channels / o.heads, o.cross_attention_dim));
  if (o.use_linear_projection) {
    proj_out_linear_ = register_module("proj_out", nn::Linear(o.channels, o.channels));
  } else {
    proj_out_conv_ = register_module("proj_out", nn::Conv2d(nn::Conv2dOptions(o.channels, o.channels, 1)));
  }
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const auto to_tokens = [&](const torch::Tensor& image) { return image.permute({0, 2, 3, 1}).reshape({b, h * w, c}); };
  const auto to_image = [&](const torch::Tensor& tokens) {
    return tokens.reshape({b, h, w, c}).permute({0, 3, 1, 2}).contiguous();
  };

  auto tokens = proj_in_linear_ ? proj_in_linear_(to_tokens(norm(x))) : to_tokens(proj_in_conv_(norm(x)));
  for (std::size_t i = 0; i < transformer_blocks->size(); ++i)
    tokens = transformer_blocks->at<BasicTransformerBlockImpl>(i).forward(tokens, context);
  auto out = proj_out_linear_ ? to_image(proj_out_linear_(tokens)) : proj_out_conv_(to_image(tokens));
  return out.add_(x);
}

}  // namespace darkroom::models
