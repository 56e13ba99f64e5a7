#include <stdexcept>
#include <string>
#include <utility>

#include "darkroom/preview/decoder.hpp"

namespace darkroom::preview {
namespace {

// [1,C,h,w] from [C,h,w] or [1,C,h,w]; previews decode one latent, never a batch.
torch::Tensor one_latent(const torch::Tensor& latent, std::string_view decoder, int64_t channels) {
  const bool one = latent.dim() == 3 || (latent.dim() == 4 && latent.size(0) == 1);
  if (!one || latent.size(-3) != channels)
    throw std::invalid_argument(std::string(decoder) + " preview: expected one latent [1," + std::to_string(channels) +
                                ",h,w], got " + std::to_string(latent.dim()) + "-d " +
                                (latent.dim() >= 3 ? std::to_string(latent.size(-3)) + "-channel" : std::string("")) +
                                " tensor");
  return latent.dim() == 3 ? latent.unsqueeze(0) : latent;
}

class Latent2RgbDecoder final : public PreviewDecoder {
 public:
  explicit Latent2RgbDecoder(Latent2RgbTable table) : table_(std::move(table)) {}
  std::string_view name() const override { return "latent2rgb"; }
  bool costly() const override { return false; }
  image::Image decode(const torch::Tensor& latent) override {
    return latent2rgb(one_latent(latent, name(), static_cast<int64_t>(table_.factors.size())), table_);
  }

 private:
  Latent2RgbTable table_;
};

class TaesdDecoder final : public PreviewDecoder {
 public:
  explicit TaesdDecoder(models::TinyDecoder decoder) : decoder_(std::move(decoder)) {
    decoder_->eval();
    // Layer 1 is the first conv (layer 0 is taesd.py's Clamp): its weight is [64, C, 3, 3].
    first_conv_ = decoder_->named_parameters()["1.weight"];
  }
  std::string_view name() const override { return "taesd"; }
  bool costly() const override { return false; }
  image::Image decode(const torch::Tensor& latent) override {
    torch::NoGradGuard no_grad;
    auto x = one_latent(latent, name(), first_conv_.size(1)).to(first_conv_.device(), torch::kFloat32);
    return pipeline::to_images(decoder_->forward(x).clamp(0, 1)).front();
  }

 private:
  models::TinyDecoder decoder_;
  torch::Tensor first_conv_;
};

class VaeDecoder final : public PreviewDecoder {
 public:
  explicit VaeDecoder(std::shared_ptr<const pipeline::StableDiffusion> model) : model_(std::move(model)) {}
  std::string_view name() const override { return "vae"; }
  bool costly() const override { return true; }
  image::Image decode(const torch::Tensor& latent) override {
    const auto channels = model_->source().vae_config.latent_channels;
    return pipeline::to_images(model_->decode_latents(one_latent(latent, name(), channels))).front();
  }

 private:
  std::shared_ptr<const pipeline::StableDiffusion> model_;
};

}  // namespace

std::unique_ptr<PreviewDecoder> make_latent2rgb_decoder(Latent2RgbTable table) {
  if (table.factors.empty()) throw std::invalid_argument("latent2rgb preview: the table has no rows");
  return std::make_unique<Latent2RgbDecoder>(std::move(table));
}

std::unique_ptr<PreviewDecoder> make_taesd_decoder(models::TinyDecoder decoder) {
  if (!decoder) throw std::invalid_argument("taesd preview: no tiny decoder given");
  return std::make_unique<TaesdDecoder>(std::move(decoder));
}

std::unique_ptr<PreviewDecoder> make_vae_decoder(std::shared_ptr<const pipeline::StableDiffusion> model) {
  if (!model) throw std::invalid_argument("vae preview: no model given");
  return std::make_unique<VaeDecoder>(std::move(model));
}

}  // namespace darkroom::preview
