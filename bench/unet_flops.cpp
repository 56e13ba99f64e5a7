#include "unet_flops.hpp"

#include <algorithm>
#include <vector>

namespace darkroom::bench {
namespace {

// FLOPs of one layer: 2 per multiply-add.
double conv3x3(int64_t in, int64_t out, double pixels) { return 2.0 * in * out * 9 * pixels; }
double linear(int64_t in, int64_t out, double tokens) { return 2.0 * in * out * tokens; }

double resnet(int64_t in, int64_t out, double pixels) {
  return conv3x3(in, out, pixels) + conv3x3(out, out, pixels) + (in != out ? linear(in, out, pixels) : 0.0);
}

// A Transformer2DModel of `depth` BasicTransformerBlocks over `tokens` positions of width c.
double transformer(int64_t c, int64_t depth, double tokens, int64_t context_dim, int64_t context_tokens) {
  const double t = static_cast<double>(context_tokens);
  double block = 0;
  block += 4 * linear(c, c, tokens) + 2 * 2.0 * tokens * tokens * c;  // attn1: q, k, v, out; QK^T, AV
  block += 2 * linear(c, c, tokens) + 2 * linear(context_dim, c, t) + 2 * 2.0 * tokens * t * c;  // attn2
  block += linear(c, 8 * c, tokens) + linear(4 * c, c, tokens);  // GEGLU feed-forward
  return 2 * linear(c, c, tokens) + depth * block;                // proj_in, proj_out (1x1 conv or Linear)
}

}  // namespace

double unet_forward_gflop(const io::UNetConfig& c, int64_t latent_height, int64_t latent_width, int64_t context_tokens) {
  const int64_t levels = c.levels();
  const auto pixels_at = [&](int64_t level) {
    return static_cast<double>(latent_height >> level) * static_cast<double>(latent_width >> level);
  };
  const auto attention = [&](int64_t level, int64_t width, int64_t depth) {
    return transformer(width, depth, pixels_at(level), c.cross_attention_dim, context_tokens);
  };
  double flops = conv3x3(c.in_channels, c.block_out_channels[0], pixels_at(0));
  flops += linear(c.block_out_channels[0], c.time_embed_dim(), 1) + linear(c.time_embed_dim(), c.time_embed_dim(), 1);

  // Down: the skip widths are recorded for the up path, as diffusers' down_block_res_samples.
  std::vector<int64_t> skips{c.block_out_channels[0]};
  int64_t width = c.block_out_channels[0];
  for (int64_t i = 0; i < levels; ++i) {
    const int64_t out = c.block_out_channels[i];
    for (int64_t j = 0; j < c.layers_per_block; ++j) {
      flops += resnet(width, out, pixels_at(i));
      if (c.cross_attention[i]) flops += attention(i, out, c.transformer_layers[i]);
      width = out;
      skips.push_back(width);
    }
    if (i + 1 < levels) {
      flops += conv3x3(width, width, pixels_at(i + 1));  // stride-2 downsampler
      skips.push_back(width);
    }
  }
  // Mid: resnet, transformer, resnet at the lowest resolution.
  flops += 2 * resnet(width, width, pixels_at(levels - 1)) +
           attention(levels - 1, width, c.mid_transformer_layers);
  // Up: each resnet takes the previous output concatenated with one skip.
  for (int64_t i = 0; i < levels; ++i) {
    const int64_t level = levels - 1 - i;
    const int64_t out = c.block_out_channels[level];
    for (int64_t j = 0; j <= c.layers_per_block; ++j) {
      const int64_t skip = skips.back();
      skips.pop_back();
      flops += resnet(width + skip, out, pixels_at(level));
      if (c.cross_attention[level]) flops += attention(level, out, c.transformer_layers[level]);
      width = out;
    }
    if (i + 1 < levels) flops += conv3x3(width, width, pixels_at(level - 1));  // upsampler, after 2x nearest
  }
  flops += conv3x3(width, c.out_channels, pixels_at(0));
  return flops / 1e9;
}

}  // namespace darkroom::bench
