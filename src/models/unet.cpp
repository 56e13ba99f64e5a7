#include "darkroom/models/unet.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "darkroom/models/interruption.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::models {

namespace nn = torch::nn;

namespace {

ResnetBlock2D resnet(const io::UNetConfig& c, int64_t in_channels, int64_t out_channels) {
  return ResnetBlock2D(in_channels, out_channels, c.time_embed_dim(), c.norm_groups, c.norm_eps);
}

Transformer2DModel transformer(const io::UNetConfig& c, int64_t level, int64_t layers) {
  return Transformer2DModel(Transformer2DOptions{.channels = c.block_out_channels[level],
                                                 .heads = c.num_heads[level],
                                                 .layers = layers,
                                                 .cross_attention_dim = c.cross_attention_dim,
                                                 .use_linear_projection = c.use_linear_projection,
                                                 .norm_groups = c.norm_groups});
}

}  // namespace

torch::Tensor timestep_embedding(const torch::Tensor& t, int64_t dim) {
  const int64_t half = dim / 2;
  // Same operation order and float32 rounding as diffusers' get_timestep_embedding.
  auto exponent =
      torch::arange(half, torch::TensorOptions().dtype(torch::kFloat32).device(t.device())) * (-std::log(10000.0));
  exponent = exponent / static_cast<double>(half);
  const auto args = t.to(torch::kFloat32).unsqueeze(1) * torch::exp(exponent).unsqueeze(0);
  auto emb = torch::cat({torch::cos(args), torch::sin(args)}, -1);
  if (dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1}, 0);
  return emb;
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim) {
  linear_1 = register_module("linear_1", nn::Linear(in_channels, time_embed_dim));
  linear_2 = register_module("linear_2", nn::Linear(time_embed_dim, time_embed_dim));
}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& x) { return linear_2(silu_inplace(linear_1(x))); }

DownBlock2DImpl::DownBlock2DImpl(const io::UNetConfig& c, int64_t level) {
  const int64_t out = c.block_out_channels[level];
  const int64_t in = level == 0 ? out : c.block_out_channels[level - 1];
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t j = 0; j < c.layers_per_block; ++j) resnets->push_back(resnet(c, j == 0 ? in : out, out));
  if (c.cross_attention[level]) {
    attentions = register_module("attentions", nn::ModuleList());
    for (int64_t j = 0; j < c.layers_per_block; ++j)
      attentions->push_back(transformer(c, level, c.transformer_layers[level]));
  }
  if (level + 1 < c.levels())
    downsamplers = register_module("downsamplers", nn::ModuleList(Downsample2D(out, /*padding=*/1)));
}

void DownBlock2DImpl::forward(torch::Tensor x, const torch::Tensor& temb, const torch::Tensor& context,
                              std::vector<torch::Tensor>& skips) {
  for (std::size_t j = 0; j < resnets->size(); ++j) {
    x = resnets->at<ResnetBlock2DImpl>(j).forward(x, temb);
    if (attentions) x = attentions->at<Transformer2DModelImpl>(j).forward(x, context);
    skips.push_back(x);
  }
  if (downsamplers) skips.push_back(downsamplers->at<Downsample2DImpl>(0).forward(x));
}

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(const io::UNetConfig& c) {
  const int64_t last = c.levels() - 1;
  const int64_t channels = c.block_out_channels[last];
  resnets = register_module("resnets", nn::ModuleList(resnet(c, channels, channels), resnet(c, channels, channels)));
  attentions = register_module("attentions", nn::ModuleList(transformer(c, last, c.mid_transformer_layers)));
}

torch::Tensor UNetMidBlock2DCrossAttnImpl::forward(torch::Tensor x, const torch::Tensor& temb,
                                                   const torch::Tensor& context) {
  x = resnets->at<ResnetBlock2DImpl>(0).forward(x, temb);
  x = attentions->at<Transformer2DModelImpl>(0).forward(x, context);
  return resnets->at<ResnetBlock2DImpl>(1).forward(x, temb);
}

UpBlock2DImpl::UpBlock2DImpl(const io::UNetConfig& c, int64_t index) {
  const int64_t levels = c.levels();
  const int64_t level = levels - 1 - index;  // the down level this block mirrors
  const int64_t out = c.block_out_channels[level];
  const int64_t previous = c.block_out_channels[std::min(level + 1, levels - 1)];   // width coming from below
  const int64_t skip_last = c.block_out_channels[std::max<int64_t>(level - 1, 0)];  // skip from the level above
  const int64_t layers = c.layers_per_block + 1;
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t j = 0; j < layers; ++j) {
    const int64_t skip = j == layers - 1 ? skip_last : out;
    resnets->push_back(resnet(c, (j == 0 ? previous : out) + skip, out));
  }
  if (c.cross_attention[level]) {
    attentions = register_module("attentions", nn::ModuleList());
    for (int64_t j = 0; j < layers; ++j) attentions->push_back(transformer(c, level, c.transformer_layers[level]));
  }
  if (index + 1 < levels) upsamplers = register_module("upsamplers", nn::ModuleList(Upsample2D(out)));
}

torch::Tensor UpBlock2DImpl::forward(torch::Tensor x, const torch::Tensor& temb, const torch::Tensor& context,
                                     std::vector<torch::Tensor>& skips,
                                     std::optional<std::vector<int64_t>> upsample_size) {
  for (std::size_t j = 0; j < resnets->size(); ++j) {
    x = torch::cat({x, skips.back()}, 1);
    skips.pop_back();
    x = resnets->at<ResnetBlock2DImpl>(j).forward(x, temb);
    if (attentions) x = attentions->at<Transformer2DModelImpl>(j).forward(x, context);
  }
  if (upsamplers) x = upsamplers->at<Upsample2DImpl>(0).forward(x, std::move(upsample_size));
  return x;
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(io::UNetConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  if (c.levels() == 0 || static_cast<int64_t>(c.cross_attention.size()) != c.levels() ||
      static_cast<int64_t>(c.transformer_layers.size()) != c.levels() ||
      static_cast<int64_t>(c.num_heads.size()) != c.levels())
    throw std::invalid_argument("UNetConfig: per-level lists must all have one entry per level");
  const int64_t width = c.block_out_channels[0];
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.in_channels, width, 3).padding(1)));
  time_embedding = register_module("time_embedding", TimestepEmbedding(width, c.time_embed_dim()));
  if (c.projection_class_embeddings_input_dim > 0)
    add_embedding = register_module("add_embedding",
                                    TimestepEmbedding(c.projection_class_embeddings_input_dim, c.time_embed_dim()));
  down_blocks = register_module("down_blocks", nn::ModuleList());
  for (int64_t i = 0; i < c.levels(); ++i) down_blocks->push_back(DownBlock2D(c, i));
  mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(c));
  up_blocks = register_module("up_blocks", nn::ModuleList());
  for (int64_t i = 0; i < c.levels(); ++i) up_blocks->push_back(UpBlock2D(c, i));
  conv_norm_out =
      register_module("conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(c.norm_groups, width).eps(c.norm_eps)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(width, c.out_channels, 3).padding(1)));
}

torch::Tensor UNet2DConditionModelImpl::embed_time(const torch::Tensor& timestep, const torch::Tensor& sample,
                                                   const std::optional<AddedConditions>& added, ActivationTaps* taps) {
  const int64_t batch = sample.size(0);
  // The sinusoids are float32 whatever the compute dtype, as in diffusers.
  const auto t = timestep.reshape({-1}).to(sample.device());
  if (t.size(0) != 1 && t.size(0) != batch)
    throw std::invalid_argument("UNet: timestep must hold one value or one per batch row");
  auto emb =
      time_embedding(timestep_embedding(t.expand({batch}), config_.block_out_channels[0]).to(sample.scalar_type()));
  record(taps, "time_embedding", emb);

  if (add_embedding.is_empty() != !added.has_value())
    throw std::invalid_argument(added ? "UNet: this model takes no added conditions (text_embeds, time_ids)"
                                      : "UNet: this model (SDXL) needs text_embeds and time_ids");
  if (!added) return emb;
  const auto& text = added->text_embeds;
  const auto& ids = added->time_ids;
  if (text.dim() != 2 || ids.dim() != 2 || text.size(0) != batch || ids.size(0) != batch ||
      text.size(1) + ids.size(1) * config_.addition_time_embed_dim != config_.projection_class_embeddings_input_dim)
    throw std::invalid_argument("UNet: text_embeds [B, P] and time_ids [B, n] must give P + n * " +
                                std::to_string(config_.addition_time_embed_dim) + " = " +
                                std::to_string(config_.projection_class_embeddings_input_dim) + " features");
  const auto time_embeds =
      timestep_embedding(ids.reshape({-1}).to(sample.device()), config_.addition_time_embed_dim).reshape({batch, -1});
  const auto aug = add_embedding(torch::cat({text.to(sample.device()), time_embeds}, -1).to(sample.scalar_type()));
  record(taps, "add_embedding", aug);
  return emb + aug;
}

torch::Tensor UNet2DConditionModelImpl::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                                                const torch::Tensor& encoder_hidden_states,
                                                const std::optional<AddedConditions>& added, ActivationTaps* taps) {
  const auto& c = config_;
  if (sample.dim() != 4 || sample.size(1) != c.in_channels)
    throw std::invalid_argument("UNet: sample must be [B, " + std::to_string(c.in_channels) + ", H, W]");
  const int64_t batch = sample.size(0);
  if (encoder_hidden_states.dim() != 3 || encoder_hidden_states.size(0) != batch ||
      encoder_hidden_states.size(2) != c.cross_attention_dim)
    throw std::invalid_argument("UNet: encoder_hidden_states must be [B, T, " + std::to_string(c.cross_attention_dim) +
                                "] with the sample's batch");

  const auto emb = embed_time(timestep, sample, added, taps);
  const auto& context = encoder_hidden_states;

  auto x = conv_in(sample);
  record(taps, "conv_in", x);
  std::vector<torch::Tensor> skips{x};
  for (std::size_t i = 0; i < down_blocks->size(); ++i) {
    down_blocks->at<DownBlock2DImpl>(i).forward(skips.back(), emb, context, skips);
    record(taps, indexed("down_blocks", i), skips.back());
  }
  x = mid_block(skips.back(), emb, context);
  record(taps, "mid_block", x);

  // When H or W is not a multiple of 2^(levels-1), a downsampler rounded up; upsample to the skip's size.
  const int64_t factor = int64_t{1} << (c.levels() - 1);
  const bool odd_size = sample.size(2) % factor != 0 || sample.size(3) % factor != 0;
  for (std::size_t i = 0; i < up_blocks->size(); ++i) {
    auto& block = up_blocks->at<UpBlock2DImpl>(i);
    std::optional<std::vector<int64_t>> upsample_size;
    if (odd_size && block.upsamplers) {
      const auto& next_skip = skips[skips.size() - block.resnets->size() - 1];
      upsample_size = std::vector<int64_t>{next_skip.size(2), next_skip.size(3)};
    }
    x = block.forward(x, emb, context, skips, std::move(upsample_size));
    record(taps, indexed("up_blocks", i), x);
  }
  interruption_point();
  return conv_out(silu_inplace(conv_norm_out(x)));
}

UNet2DConditionModel load_unet(const io::WeightIndex& weights, const io::UNetConfig& config) {
  UNet2DConditionModel unet(config);
  load_module(*unet, weights, "UNet");
  for (auto& p : unet->parameters()) p.requires_grad_(false);
  unet->eval();
  return unet;
}

}  // namespace darkroom::models
