#include "darkroom/io/tiny_autoencoder_layout.hpp"

#include <charconv>
#include <string>

namespace darkroom::io {
namespace {

// taesd.py's fixed Sequential indices of the convs that touch the latent.
constexpr std::string_view kEncoderLatentConv = "14.weight";  // conv(64, latent_channels), last layer
constexpr std::string_view kDecoderLatentConv = "1.weight";   // conv(latent_channels, 64), after Clamp

constexpr std::string_view kDiffusersEncoder = "encoder.layers.";
constexpr std::string_view kDiffusersDecoder = "decoder.layers.";

bool has_midblock_gn(const WeightIndex& taesd) {
  for (const auto& [key, ref] : taesd.entries())
    if (key.find(".pool.") != std::string::npos) return true;
  return false;
}

TinyAutoencoderConfig config_from(const WeightIndex& taesd, std::string_view latent_conv, int latent_dim,
                                  std::string_view half) {
  const auto* conv = taesd.find(latent_conv);
  if (!conv)
    throw ModelFileError(taesd.primary_file(), "not a tiny autoencoder " + std::string(half) + ": no tensor '" +
                                                   std::string(latent_conv) + "' (taesd.py layout) and no " +
                                                   std::string(half) + ".layers.* (diffusers layout)");
  const auto shape = conv->shape();
  if (shape.size() != 4)
    throw ModelFileError(taesd.primary_file(), "'" + std::string(latent_conv) + "' is not a conv weight");
  return TinyAutoencoderConfig{shape[latent_dim], has_midblock_gn(taesd)};
}

}  // namespace

WeightIndex tiny_encoder_to_taesd(const WeightIndex& weights) {
  if (!weights.has_prefix(kDiffusersEncoder)) return weights;
  return weights.under(kDiffusersEncoder);
}

WeightIndex tiny_decoder_to_taesd(const WeightIndex& weights) {
  if (!weights.has_prefix(kDiffusersDecoder)) return weights;
  const WeightIndex decoder = weights.under(kDiffusersDecoder);
  WeightIndex out;
  for (const auto& [key, ref] : decoder.entries()) {
    const auto dot = key.find('.');
    int index = -1;
    const bool numbered = dot != std::string::npos &&
                          std::from_chars(key.data(), key.data() + dot, index).ptr == key.data() + dot && index >= 0;
    if (!numbered)
      throw ModelFileError(weights.primary_file(), "unexpected tiny autoencoder key '" +
                                                       std::string(kDiffusersDecoder) + key + "'");
    out.set(std::to_string(index + 1) + key.substr(dot), ref);
  }
  return out;
}

TinyAutoencoderConfig tiny_encoder_config(const WeightIndex& taesd_encoder) {
  return config_from(taesd_encoder, kEncoderLatentConv, 0, "encoder");
}

TinyAutoencoderConfig tiny_decoder_config(const WeightIndex& taesd_decoder) {
  return config_from(taesd_decoder, kDecoderLatentConv, 1, "decoder");
}

}  // namespace darkroom::io
