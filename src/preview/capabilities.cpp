#include <string>

#include "darkroom/preview/decoder.hpp"

namespace darkroom::preview {

PreviewCapabilities preview_capabilities(int latent_channels, const std::optional<Latent2RgbTable>& table,
                                         std::optional<int64_t> taesd_latent_channels, bool has_vae) {
  PreviewCapabilities caps;
  caps.latent_channels = latent_channels;
  caps.taesd_latent_channels = taesd_latent_channels;
  caps.latent2rgb = table && static_cast<int>(table->factors.size()) == latent_channels;
  caps.taesd = taesd_latent_channels == latent_channels;
  caps.vae = has_vae;
  caps.auto_method = caps.taesd ? Method::taesd : caps.latent2rgb ? Method::latent2rgb : Method::none;
  return caps;
}

bool PreviewCapabilities::available(Method method) const {
  switch (method) {
    case Method::none:
    case Method::auto_: return true;
    case Method::latent2rgb: return latent2rgb;
    case Method::taesd: return taesd;
    case Method::vae: return vae;
  }
  return false;
}

Method PreviewCapabilities::resolve(Method method) const { return method == Method::auto_ ? auto_method : method; }

std::string PreviewCapabilities::unavailable_reason(Method method) const {
  if (available(method)) return "";
  const std::string channels = std::to_string(latent_channels) + "-channel latents";
  switch (method) {
    case Method::latent2rgb:
      return "no latent2rgb table for this model's " + channels + " (make one with `darkroom fit-preview`)";
    case Method::taesd:
      return taesd_latent_channels ? "the tiny autoencoder decodes " + std::to_string(*taesd_latent_channels) +
                                         "-channel latents, not this model's " + channels
                                   : std::string("no tiny autoencoder loaded (--taesd PATH)");
    case Method::vae: return "this model has no VAE loaded";
    case Method::none:
    case Method::auto_: break;
  }
  return "";
}

}  // namespace darkroom::preview
