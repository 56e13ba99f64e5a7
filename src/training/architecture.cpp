#include "darkroom/training/architecture.hpp"

namespace darkroom::training {

Architecture shapes_architecture(int64_t vocab_size, io::Prediction prediction) {
  Architecture a;
  a.vae.block_out_channels = {32, 64, 64};
  a.vae.layers_per_block = 1;
  a.vae.latent_channels = 4;

  a.text.vocab_size = vocab_size;
  a.text.context_length = 32;  // captions are under 25 tokens; long prompts still split into windows
  a.text.width = 128;
  a.text.heads = 4;  // 32-channel heads: the exported model config says so
  a.text.layers = 4;
  a.text.intermediate_size = 512;
  a.text.activation = io::ClipTextConfig::Activation::quick_gelu;  // SD1's text encoder

  a.unet.block_out_channels = {64, 128, 128};
  a.unet.layers_per_block = 1;
  a.unet.cross_attention = {false, true, true};
  a.unet.transformer_layers = {0, 1, 1};
  a.unet.mid_transformer_layers = 1;
  a.unet.num_heads = {8, 8, 8};  // SD1's LDM config: 8 heads at every width
  a.unet.cross_attention_dim = a.text.width;
  a.unet.prediction = prediction;
  return a;
}

}  // namespace darkroom::training
