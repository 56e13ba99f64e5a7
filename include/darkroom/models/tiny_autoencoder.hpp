#pragma once
// TAESD-family tiny autoencoder (madebyollin/taesd taesd.py): a cheap stand-in for the VAE, used for
// step previews. taesd.py builds each half as an nn.Sequential, so the layers here are registered
// under their Sequential index and the parameter names are the taesd.py state-dict keys.
// Images are in [0,1] (taesd.py convention; diffusers' AutoencoderTiny maps [-1,1] around the same
// layers). Latents are the scaled model latents (TAESD's own scale factor is 1).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "darkroom/io/tiny_autoencoder_layout.hpp"
#include "darkroom/io/weight_index.hpp"

namespace darkroom::models {

// conv-ReLU-conv-ReLU-conv plus a skip, then ReLU. With use_midblock_gn (taef2) a GroupNorm branch
// `pool` is first added residually: it mixes statistics over the whole image.
class TinyBlockImpl : public torch::nn::Module {
 public:
  TinyBlockImpl(int64_t in_channels, int64_t out_channels, bool use_midblock_gn);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Sequential conv{nullptr};
  torch::nn::Conv2d skip{nullptr};     // 1x1 without bias when the width changes; identity otherwise
  torch::nn::Sequential pool{nullptr};  // null unless use_midblock_gn
};
TORCH_MODULE(TinyBlock);

// Layers run in order; shared by the two halves.
class TinySequentialImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(torch::Tensor x);

 protected:
  template <typename ModuleHolder>
  void append(ModuleHolder module) {
    register_module(std::to_string(layers_.size()), module.ptr());
    layers_.emplace_back(std::move(module));
  }

 private:
  std::vector<torch::nn::AnyModule> layers_;
};

// taesd.py Encoder: image [B,3,H,W] in [0,1] -> latent [B,latent_channels,H/8,W/8].
class TinyEncoderImpl : public TinySequentialImpl {
 public:
  explicit TinyEncoderImpl(const io::TinyAutoencoderConfig& config);
};
TORCH_MODULE(TinyEncoder);

// taesd.py Decoder: latent -> image [B,3,8H,8W], roughly [0,1] and not clamped. Starts by softly
// limiting the latent to (-3,3) with tanh(x/3)*3 (taesd.py's Clamp, layer 0).
class TinyDecoderImpl : public TinySequentialImpl {
 public:
  explicit TinyDecoderImpl(const io::TinyAutoencoderConfig& config);
};
TORCH_MODULE(TinyDecoder);

// Load from taesd.py keys or a diffusers AutoencoderTiny index (converted with io::tiny_*_to_taesd);
// the config is read from the weights. Throws io::ModelFileError naming the file and every missing or
// mis-shaped tensor.
TinyEncoder load_tiny_encoder(const io::WeightIndex& weights);
TinyDecoder load_tiny_decoder(const io::WeightIndex& weights);

}  // namespace darkroom::models
