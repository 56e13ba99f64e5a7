#include "darkroom/models/blocks.hpp"

#include <stdexcept>

#include "darkroom/models/interruption.hpp"

namespace darkroom::models {

namespace nn = torch::nn;

ResnetBlock2DImpl::ResnetBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t temb_channels, int64_t groups,
                                     double eps) {
  norm1 = register_module("norm1", nn::GroupNorm(nn::GroupNormOptions(groups, in_channels).eps(eps)));
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  if (temb_channels > 0) time_emb_proj = register_module("time_emb_proj", nn::Linear(temb_channels, out_channels));
  norm2 = register_module("norm2", nn::GroupNorm(nn::GroupNormOptions(groups, out_channels).eps(eps)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out_channels, out_channels, 3).padding(1)));
  if (in_channels != out_channels)
    conv_shortcut = register_module("conv_shortcut", nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, 1)));
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  // Every intermediate below is freshly allocated, so the activations and sums can work in place.
  interruption_point();
  auto h = conv1(silu_inplace(norm1(x)));
  if (time_emb_proj) {
    if (!temb.defined()) throw std::invalid_argument("ResnetBlock2D: this block needs a time embedding");
    h.add_(time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1));
  }
  interruption_point();
  h = conv2(silu_inplace(norm2(h)));
  return h.add_(conv_shortcut ? conv_shortcut(x) : x);
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t padding) : padding_(padding) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).stride(2).padding(padding)));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
  interruption_point();
  if (padding_ == 0) return conv(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  return conv(x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).padding(1)));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> output_size) {
  interruption_point();
  const std::vector<int64_t> size = output_size ? *output_size : std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)};
  return conv(at::upsample_nearest2d(x, size));
}

}  // namespace darkroom::models
