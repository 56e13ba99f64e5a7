#pragma once
// Stable Diffusion's noise predictor: diffusers' UNet2DConditionModel (unets/unet_2d_condition.py and
// unet_2d_blocks.py) for SD1, SD2 and SDXL. Module names are the diffusers state-dict keys; LDM
// checkpoints are renamed to them by io::unet_from_ldm.
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "darkroom/io/unet_layout.hpp"
#include "darkroom/io/weight_index.hpp"
#include "darkroom/models/attention.hpp"
#include "darkroom/models/blocks.hpp"

namespace darkroom::models {

// Sinusoidal embedding of float32 values t [N] -> [N, dim]: [cos(t f_i), sin(t f_i)] with
// f_i = exp(-ln(10000) i / half), i < half (diffusers Timesteps with flip_sin_to_cos, freq_shift 0),
// computed in float32 as diffusers does.
torch::Tensor timestep_embedding(const torch::Tensor& t, int64_t dim);

// linear_1, SiLU, linear_2.
class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear linear_1{nullptr}, linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

// CrossAttnDownBlock2D (resnet then transformer, per layer), or DownBlock2D when the level has no
// attention; every level but the last ends with a downsampler.
class DownBlock2DImpl : public torch::nn::Module {
 public:
  DownBlock2DImpl(const io::UNetConfig& config, int64_t level);
  // Appends the skip states (one per layer, one after the downsampler) to skips; the last is the output.
  void forward(torch::Tensor x, const torch::Tensor& temb, const torch::Tensor& context,
               std::vector<torch::Tensor>& skips);

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, downsamplers{nullptr};
};
TORCH_MODULE(DownBlock2D);

// resnet, transformer, resnet at the lowest resolution.
class UNetMidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  explicit UNetMidBlock2DCrossAttnImpl(const io::UNetConfig& config);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& temb, const torch::Tensor& context);

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr};
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

// CrossAttnUpBlock2D / UpBlock2D: each layer concatenates the matching skip state first; every block but
// the last ends with an upsampler.
class UpBlock2DImpl : public torch::nn::Module {
 public:
  UpBlock2DImpl(const io::UNetConfig& config, int64_t index);  // index in execution order
  // Consumes skip states from the back of skips. upsample_size: the next skip's size, when it is not
  // exactly twice this one (odd latent sizes).
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& temb, const torch::Tensor& context,
                        std::vector<torch::Tensor>& skips, std::optional<std::vector<int64_t>> upsample_size);

  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, upsamplers{nullptr};
};
TORCH_MODULE(UpBlock2D);

// SDXL "text_time" conditioning, added to the time embedding.
struct AddedConditions {
  torch::Tensor text_embeds;  // [B, pooled width]: the projected pooled output of the second text encoder
  torch::Tensor time_ids;     // [B, n]: original size, crop top-left, target size (6 values for SDXL base)
};

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  explicit UNet2DConditionModelImpl(io::UNetConfig config);

  // sample [B, in_channels, H, W] (scaled latents); timestep 0-d, [1] or [B], integer or float, broadcast
  // to the batch; encoder_hidden_states [B, T, cross_attention_dim]; added: required exactly when the model
  // has an add_embedding. Returns the prediction [B, out_channels, H, W]. With taps, records conv_in,
  // time_embedding, add_embedding, down_blocks_<i>, mid_block and up_blocks_<i>.
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                        const torch::Tensor& encoder_hidden_states,
                        const std::optional<AddedConditions>& added = std::nullopt, ActivationTaps* taps = nullptr);

  const io::UNetConfig& config() const { return config_; }

  torch::nn::Conv2d conv_in{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  TimestepEmbedding add_embedding{nullptr};  // SDXL only
  torch::nn::ModuleList down_blocks{nullptr};
  UNetMidBlock2DCrossAttn mid_block{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};

 private:
  torch::Tensor embed_time(const torch::Tensor& timestep, const torch::Tensor& sample,
                           const std::optional<AddedConditions>& added, ActivationTaps* taps);

  io::UNetConfig config_;
};
TORCH_MODULE(UNet2DConditionModel);

// Builds the model for config and fills it from diffusers-named weights (see io::unet_from_ldm), in
// float32, without gradients. Throws io::ModelFileError naming the file and every missing or
// mis-shaped tensor.
UNet2DConditionModel load_unet(const io::WeightIndex& weights, const io::UNetConfig& config);

}  // namespace darkroom::models
