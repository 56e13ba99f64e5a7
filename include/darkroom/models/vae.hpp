#pragma once
// Stable Diffusion's image autoencoder: diffusers' AutoencoderKL (autoencoders/autoencoder_kl.py, vae.py),
// with the diffusers state-dict names; LDM checkpoints are renamed to them by io::vae_from_ldm.
#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include "darkroom/io/vae_layout.hpp"
#include "darkroom/io/weight_index.hpp"
#include "darkroom/models/attention.hpp"
#include "darkroom/models/blocks.hpp"

namespace darkroom::models {

// resnet, single-head self-attention over all positions, resnet (no time embedding).
class VaeMidBlockImpl : public torch::nn::Module {
 public:
  explicit VaeMidBlockImpl(const io::VaeConfig& config);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr};
};
TORCH_MODULE(VaeMidBlock);

// Image [B, in_channels, H, W] -> [B, 2 * latent_channels, H/f, W/f] (mean and log-variance, before
// quant_conv), f = 2^(levels-1).
class VaeEncoderImpl : public torch::nn::Module {
 public:
  explicit VaeEncoderImpl(const io::VaeConfig& config);
  // Records encoder_down_blocks_<i> and encoder_mid_block in taps.
  torch::Tensor forward(const torch::Tensor& image, ActivationTaps* taps = nullptr);

  torch::nn::Conv2d conv_in{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};  // each: resnets, downsamplers (DownEncoderBlock2D)
  VaeMidBlock mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(VaeEncoder);

// Latent [B, latent_channels, h, w] -> image [B, out_channels, h*f, w*f].
class VaeDecoderImpl : public torch::nn::Module {
 public:
  explicit VaeDecoderImpl(const io::VaeConfig& config);
  // Records decoder_conv_in, decoder_mid_block and decoder_up_blocks_<i> in taps.
  torch::Tensor forward(const torch::Tensor& z, ActivationTaps* taps = nullptr);

  torch::nn::Conv2d conv_in{nullptr};
  VaeMidBlock mid_block{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};  // each: resnets, upsamplers (UpDecoderBlock2D)
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(VaeDecoder);

// The encoder's diagonal Gaussian over latents (diffusers DiagonalGaussianDistribution), unscaled.
struct LatentDistribution {
  torch::Tensor mean;    // [B, latent_channels, h, w]
  torch::Tensor logvar;  // clamped to [-30, 20]

  torch::Tensor std() const { return torch::exp(0.5 * logvar); }
  // mean + std * noise, noise = randn(mean.shape, generator): the draw diffusers makes.
  torch::Tensor sample(at::Generator& generator) const;
};

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  explicit AutoencoderKLImpl(io::VaeConfig config);

  // z = model latents / scaling_factor (+ shift_factor) -> image in about [-1, 1], not clamped.
  // Records post_quant_conv and the decoder taps.
  torch::Tensor decode(const torch::Tensor& z, ActivationTaps* taps = nullptr);
  // image in [-1, 1] -> latent distribution; model latents = (sample or mean - shift) * scaling_factor.
  // Records the encoder taps and moments (quant_conv output, mean and unclamped log-variance).
  LatentDistribution encode(const torch::Tensor& image, ActivationTaps* taps = nullptr);

  const io::VaeConfig& config() const { return config_; }

  VaeEncoder encoder{nullptr};
  VaeDecoder decoder{nullptr};
  torch::nn::Conv2d quant_conv{nullptr}, post_quant_conv{nullptr};  // absent without use_quant_conv

 private:
  io::VaeConfig config_;
};
TORCH_MODULE(AutoencoderKL);

// Builds the model for config and fills it from diffusers-named weights (see io::vae_from_ldm), in
// float32, without gradients. Throws io::ModelFileError naming the file and every missing or
// mis-shaped tensor.
AutoencoderKL load_vae(const io::WeightIndex& weights, const io::VaeConfig& config);

}  // namespace darkroom::models
