#include "darkroom/models/tiny_autoencoder.hpp"

#include "darkroom/models/weights.hpp"

namespace darkroom::models {

namespace nn = torch::nn;

namespace {

constexpr int64_t kWidth = 64;  // every taesd.py model is 64 channels wide

// taesd.py conv(): 3x3, padding 1.
nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1, bool bias = true) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).stride(stride).bias(bias));
}

nn::Conv2d conv1x1(int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)); }

nn::Upsample upsample() {
  return nn::Upsample(nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest));
}

template <typename Model>
Model finish(Model model, const io::WeightIndex& weights, std::string_view component) {
  load_module(*model, weights, component);
  // Inference only: without this every forward would record an autograd graph.
  for (auto& parameter : model->parameters()) parameter.set_requires_grad(false);
  model->eval();
  return model;
}

}  // namespace

TinyBlockImpl::TinyBlockImpl(int64_t in_channels, int64_t out_channels, bool use_midblock_gn) {
  conv = register_module("conv", nn::Sequential(conv3x3(in_channels, out_channels), nn::ReLU(),
                                                conv3x3(out_channels, out_channels), nn::ReLU(),
                                                conv3x3(out_channels, out_channels)));
  if (in_channels != out_channels) skip = register_module("skip", conv1x1(in_channels, out_channels));
  if (use_midblock_gn) {
    const int64_t hidden = in_channels * 4;
    pool = register_module("pool", nn::Sequential(conv1x1(in_channels, hidden),
                                                  nn::GroupNorm(nn::GroupNormOptions(4, hidden).eps(1e-5)),
                                                  nn::ReLU(), conv1x1(hidden, in_channels)));
  }
}

torch::Tensor TinyBlockImpl::forward(torch::Tensor x) {
  if (pool) x = x + pool->forward(x);
  return torch::relu(conv->forward(x) + (skip ? skip->forward(x) : x));
}

torch::Tensor TinySequentialImpl::forward(torch::Tensor x) {
  for (auto& layer : layers_) x = layer.forward<torch::Tensor>(x);
  return x;
}

TinyEncoderImpl::TinyEncoderImpl(const io::TinyAutoencoderConfig& config) {
  const bool gn = config.use_midblock_gn;
  append(conv3x3(3, kWidth));
  append(TinyBlock(kWidth, kWidth, false));
  for (int stage = 0; stage < 3; ++stage) {
    append(conv3x3(kWidth, kWidth, /*stride=*/2, /*bias=*/false));
    // Only the lowest-resolution stage carries the GroupNorm branch.
    for (int i = 0; i < 3; ++i) append(TinyBlock(kWidth, kWidth, gn && stage == 2));
  }
  append(conv3x3(kWidth, config.latent_channels));
}

TinyDecoderImpl::TinyDecoderImpl(const io::TinyAutoencoderConfig& config) {
  const bool gn = config.use_midblock_gn;
  append(nn::Functional([](const torch::Tensor& x) { return torch::tanh(x / 3) * 3; }));
  append(conv3x3(config.latent_channels, kWidth));
  append(nn::ReLU());
  for (int stage = 0; stage < 3; ++stage) {
    // Only the lowest-resolution stage carries the GroupNorm branch.
    for (int i = 0; i < 3; ++i) append(TinyBlock(kWidth, kWidth, gn && stage == 0));
    append(upsample());
    append(conv3x3(kWidth, kWidth, /*stride=*/1, /*bias=*/false));
  }
  append(TinyBlock(kWidth, kWidth, false));
  append(conv3x3(kWidth, 3));
}

TinyEncoder load_tiny_encoder(const io::WeightIndex& weights) {
  const auto taesd = io::tiny_encoder_to_taesd(weights);
  return finish(TinyEncoder(io::tiny_encoder_config(taesd)), taesd, "tiny autoencoder encoder");
}

TinyDecoder load_tiny_decoder(const io::WeightIndex& weights) {
  const auto taesd = io::tiny_decoder_to_taesd(weights);
  return finish(TinyDecoder(io::tiny_decoder_config(taesd)), taesd, "tiny autoencoder decoder");
}

}  // namespace darkroom::models
