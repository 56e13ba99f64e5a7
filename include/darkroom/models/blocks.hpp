#pragma once
// Convolutional building blocks shared by the UNet and the VAE, named as in diffusers
// (diffusers/models/resnet.py, downsampling.py, upsampling.py) so parameter names match the state dict.
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace darkroom::models {

// Intermediate activations by stage name ("conv_in", "down_blocks_0", ...), recorded when a caller
// passes a map to a model's forward: for debugging and for checking against reference taps.
using ActivationTaps = std::map<std::string, torch::Tensor>;

inline void record(ActivationTaps* taps, const std::string& stage, const torch::Tensor& value) {
  if (taps) (*taps)[stage] = value;
}
// "down_blocks", 2 -> "down_blocks_2"
inline std::string indexed(const std::string& stage, std::size_t index) { return stage + "_" + std::to_string(index); }

// SiLU applied in place to a tensor the caller just computed and owns (one allocation fewer).
inline torch::Tensor silu_inplace(torch::Tensor x) {
  torch::silu_(x);
  return x;
}

// GroupNorm, SiLU, 3x3 conv; (+ projected time embedding); GroupNorm, SiLU, 3x3 conv; plus the input,
// through a 1x1 conv_shortcut when the width changes. temb_channels 0: no time_emb_proj (VAE).
class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  ResnetBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t temb_channels, int64_t groups, double eps);
  // temb [B, temb_channels], required exactly when the block has a time_emb_proj.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

  torch::nn::GroupNorm norm1{nullptr};
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};
  torch::nn::GroupNorm norm2{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::Conv2d conv_shortcut{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

// Stride-2 3x3 conv. padding 1 pads symmetrically (UNet); padding 0 pads right and bottom by one first
// (VAE, as LDM did), which shifts the sampling grid by half a pixel relative to the UNet's.
class Downsample2DImpl : public torch::nn::Module {
 public:
  Downsample2DImpl(int64_t channels, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};

 private:
  int64_t padding_;
};
TORCH_MODULE(Downsample2D);

// Nearest-neighbour x2 (or to output_size, for odd skip sizes in the UNet), then a 3x3 conv.
class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> output_size = std::nullopt);

  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace darkroom::models
