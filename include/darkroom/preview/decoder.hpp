#pragma once
// Preview decoders: one latent in, one RGB8 image out. Three kinds, cheapest first: latent2rgb (a 3xC
// matrix, 1/8 resolution), the tiny autoencoder (TAESD family, full resolution, ~1/25 of the VAE's cost)
// and the model's own VAE (exactly the final image's decoder). Which ones a model offers, and the one
// "auto" picks, are its PreviewCapabilities.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "darkroom/image/image.hpp"
#include "darkroom/models/tiny_autoencoder.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/preview/latent2rgb.hpp"
#include "darkroom/preview/options.hpp"

namespace darkroom::preview {

class PreviewDecoder {
 public:
  virtual ~PreviewDecoder() = default;
  virtual std::string_view name() const = 0;  // the Method name: "latent2rgb" | "taesd" | "vae"
  // latent: one scaled model latent, [1,C,h,w] or [C,h,w], on the model's device. Not thread-safe: one
  // decoder serves one thread at a time (the engine's decoder worker). Throws std::invalid_argument for a
  // latent of the wrong shape or channel count.
  virtual image::Image decode(const torch::Tensor& latent) = 0;
  // True when one decode costs a sizeable part of a denoising step (the full VAE: about one step). Only
  // such decoders are worth a thread of their own: for the cheap ones the hand-over to another thread
  // costs more than the decode (measured in docs/performance.md).
  virtual bool costly() const = 0;
};

std::unique_ptr<PreviewDecoder> make_latent2rgb_decoder(Latent2RgbTable table);
// The decoder's output (about [0,1]) is clamped and rounded like the final image. It runs on the device
// its weights are on.
std::unique_ptr<PreviewDecoder> make_taesd_decoder(models::TinyDecoder decoder);
// StableDiffusion::decode_latents: the preview of x0 at the last step is the final image.
std::unique_ptr<PreviewDecoder> make_vae_decoder(std::shared_ptr<const pipeline::StableDiffusion> model);

// What a model can preview with, and why not where it cannot.
struct PreviewCapabilities {
  int latent_channels = 0;                      // of the model's latents
  std::optional<int64_t> taesd_latent_channels;  // of the loaded tiny decoder, if any
  bool latent2rgb = false;  // a table for the model's latent space (published, fitted or given)
  bool taesd = false;       // a tiny decoder for the model's latent channels is loaded
  bool vae = false;         // the model has its VAE
  // taesd when available, else latent2rgb, else none. Never vae: it costs about a full decode per preview.
  Method auto_method = Method::none;

  bool available(Method method) const;  // none and auto_ always are
  // "auto" becomes auto_method; the others stay as they are.
  Method resolve(Method method) const;
  // Why a method cannot run for this model ("" when it can), for the notice a skipped preview gets.
  std::string unavailable_reason(Method method) const;
};

// table: the latent2rgb table the model would use (e.g. table_for(family) or one read from JSON);
// taesd_latent_channels: the loaded tiny decoder's, if any (io::tiny_decoder_config).
PreviewCapabilities preview_capabilities(int latent_channels, const std::optional<Latent2RgbTable>& table,
                                         std::optional<int64_t> taesd_latent_channels, bool has_vae);

}  // namespace darkroom::preview
