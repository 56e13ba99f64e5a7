#include "darkroom/models/vae.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "darkroom/models/interruption.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::models {

namespace nn = torch::nn;

namespace {

ResnetBlock2D resnet(const io::VaeConfig& c, int64_t in_channels, int64_t out_channels) {
  return ResnetBlock2D(in_channels, out_channels, /*temb_channels=*/0, c.norm_groups, c.norm_eps);
}

nn::ModuleList resnet_stack(const io::VaeConfig& c, int64_t in_channels, int64_t out_channels, int64_t layers) {
  nn::ModuleList list;
  for (int64_t j = 0; j < layers; ++j) list->push_back(resnet(c, j == 0 ? in_channels : out_channels, out_channels));
  return list;
}

torch::Tensor run_resnets(nn::ModuleList& resnets, torch::Tensor x) {
  for (std::size_t j = 0; j < resnets->size(); ++j) x = resnets->at<ResnetBlock2DImpl>(j).forward(x);
  return x;
}

// DownEncoderBlock2D: resnets, then (all but the last level) a downsampler that pads right/bottom.
class DownEncoderBlock2DImpl : public nn::Module {
 public:
  DownEncoderBlock2DImpl(const io::VaeConfig& c, int64_t level) {
    const int64_t out = c.block_out_channels[level];
    const int64_t in = level == 0 ? out : c.block_out_channels[level - 1];
    resnets = register_module("resnets", resnet_stack(c, in, out, c.layers_per_block));
    if (level + 1 < static_cast<int64_t>(c.block_out_channels.size()))
      downsamplers = register_module("downsamplers", nn::ModuleList(Downsample2D(out, /*padding=*/0)));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = run_resnets(resnets, std::move(x));
    return downsamplers ? downsamplers->at<Downsample2DImpl>(0).forward(x) : x;
  }

  nn::ModuleList resnets{nullptr}, downsamplers{nullptr};
};
TORCH_MODULE(DownEncoderBlock2D);

// UpDecoderBlock2D: one more resnet than the encoder level it mirrors, then (all but the last) an upsampler.
class UpDecoderBlock2DImpl : public nn::Module {
 public:
  UpDecoderBlock2DImpl(const io::VaeConfig& c, int64_t index) {
    const int64_t levels = static_cast<int64_t>(c.block_out_channels.size());
    const int64_t out = c.block_out_channels[levels - 1 - index];
    const int64_t in = c.block_out_channels[levels - std::max<int64_t>(index, 1)];  // previous block's width
    resnets = register_module("resnets", resnet_stack(c, in, out, c.layers_per_block + 1));
    if (index + 1 < levels) upsamplers = register_module("upsamplers", nn::ModuleList(Upsample2D(out)));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = run_resnets(resnets, std::move(x));
    return upsamplers ? upsamplers->at<Upsample2DImpl>(0).forward(x) : x;
  }

  nn::ModuleList resnets{nullptr}, upsamplers{nullptr};
};
TORCH_MODULE(UpDecoderBlock2D);

}  // namespace

VaeMidBlockImpl::VaeMidBlockImpl(const io::VaeConfig& c) {
  const int64_t channels = c.block_out_channels.back();
  resnets = register_module("resnets", nn::ModuleList(resnet(c, channels, channels), resnet(c, channels, channels)));
  attentions = register_module("attentions", nn::ModuleList(Attention(AttentionOptions{.query_dim = channels,
                                                                                       .heads = 1,
                                                                                       .dim_head = channels,
                                                                                       .bias = true,
                                                                                       .norm_groups = c.norm_groups,
                                                                                       .norm_eps = c.norm_eps,
                                                                                       .residual_connection = true})));
}

torch::Tensor VaeMidBlockImpl::forward(torch::Tensor x) {
  x = resnets->at<ResnetBlock2DImpl>(0).forward(x);
  x = attentions->at<AttentionImpl>(0).forward(x);
  return resnets->at<ResnetBlock2DImpl>(1).forward(x);
}

VaeEncoderImpl::VaeEncoderImpl(const io::VaeConfig& c) {
  const auto& widths = c.block_out_channels;
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.in_channels, widths.front(), 3).padding(1)));
  down_blocks = register_module("down_blocks", nn::ModuleList());
  for (std::size_t i = 0; i < widths.size(); ++i) down_blocks->push_back(DownEncoderBlock2D(c, i));
  mid_block = register_module("mid_block", VaeMidBlock(c));
  conv_norm_out = register_module("conv_norm_out",
                                  nn::GroupNorm(nn::GroupNormOptions(c.norm_groups, widths.back()).eps(c.norm_eps)));
  conv_out =
      register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(widths.back(), 2 * c.latent_channels, 3).padding(1)));
}

torch::Tensor VaeEncoderImpl::forward(const torch::Tensor& image, ActivationTaps* taps) {
  auto x = conv_in(image);
  for (std::size_t i = 0; i < down_blocks->size(); ++i) {
    x = down_blocks->at<DownEncoderBlock2DImpl>(i).forward(x);
    record(taps, indexed("encoder_down_blocks", i), x);
  }
  x = mid_block(x);
  record(taps, "encoder_mid_block", x);
  interruption_point();
  return conv_out(silu_inplace(conv_norm_out(x)));
}

VaeDecoderImpl::VaeDecoderImpl(const io::VaeConfig& c) {
  const auto& widths = c.block_out_channels;
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.latent_channels, widths.back(), 3).padding(1)));
  mid_block = register_module("mid_block", VaeMidBlock(c));
  up_blocks = register_module("up_blocks", nn::ModuleList());
  for (std::size_t i = 0; i < widths.size(); ++i) up_blocks->push_back(UpDecoderBlock2D(c, i));
  conv_norm_out = register_module("conv_norm_out",
                                  nn::GroupNorm(nn::GroupNormOptions(c.norm_groups, widths.front()).eps(c.norm_eps)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(widths.front(), c.out_channels, 3).padding(1)));
}

torch::Tensor VaeDecoderImpl::forward(const torch::Tensor& z, ActivationTaps* taps) {
  auto x = conv_in(z);
  record(taps, "decoder_conv_in", x);
  x = mid_block(x);
  record(taps, "decoder_mid_block", x);
  for (std::size_t i = 0; i < up_blocks->size(); ++i) {
    x = up_blocks->at<UpDecoderBlock2DImpl>(i).forward(x);
    record(taps, indexed("decoder_up_blocks", i), x);
  }
  interruption_point();
  return conv_out(silu_inplace(conv_norm_out(x)));
}

torch::Tensor LatentDistribution::sample(at::Generator& generator) const {
  const auto noise = torch::randn(mean.sizes(), generator, mean.options());
  return mean + std() * noise;
}

AutoencoderKLImpl::AutoencoderKLImpl(io::VaeConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  if (c.block_out_channels.empty()) throw std::invalid_argument("VaeConfig: block_out_channels is empty");
  encoder = register_module("encoder", VaeEncoder(c));
  decoder = register_module("decoder", VaeDecoder(c));
  if (c.use_quant_conv) {
    quant_conv = register_module("quant_conv", nn::Conv2d(2 * c.latent_channels, 2 * c.latent_channels, 1));
    post_quant_conv = register_module("post_quant_conv", nn::Conv2d(c.latent_channels, c.latent_channels, 1));
  }
}

torch::Tensor AutoencoderKLImpl::decode(const torch::Tensor& z, ActivationTaps* taps) {
  if (z.dim() != 4 || z.size(1) != config_.latent_channels)
    throw std::invalid_argument("VAE: latents must be [B, " + std::to_string(config_.latent_channels) + ", h, w]");
  const auto x = post_quant_conv ? post_quant_conv(z) : z;
  record(taps, "post_quant_conv", x);
  return decoder->forward(x, taps);
}

LatentDistribution AutoencoderKLImpl::encode(const torch::Tensor& image, ActivationTaps* taps) {
  if (image.dim() != 4 || image.size(1) != config_.in_channels)
    throw std::invalid_argument("VAE: images must be [B, " + std::to_string(config_.in_channels) + ", H, W]");
  auto moments = encoder->forward(image, taps);
  if (quant_conv) moments = quant_conv(moments);
  record(taps, "moments", moments);
  const auto halves = moments.chunk(2, 1);
  return {halves[0], torch::clamp(halves[1], -30.0, 20.0)};
}

AutoencoderKL load_vae(const io::WeightIndex& weights, const io::VaeConfig& config) {
  AutoencoderKL vae(config);
  load_module(*vae, weights, "VAE");
  for (auto& p : vae->parameters()) p.requires_grad_(false);
  vae->eval();
  return vae;
}

}  // namespace darkroom::models
