#pragma once
// A loaded Stable Diffusion model (SD1.x / SD2.x / SDXL) and one generation: encode the prompt, sample,
// decode. fp32; CPU by default, CUDA when libtorch has it and the caller asks.
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "darkroom/io/model_source.hpp"
#include "darkroom/pipeline/request.hpp"
#include "darkroom/sampling/samplers.hpp"

namespace darkroom::pipeline {

struct LoadOptions {
  // CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for models that carry no tokenizer (a model's
  // own tokenizer is used when it has one).
  std::optional<std::filesystem::path> vocab;
  std::optional<io::Prediction> prediction;  // override what the model files say or imply
  // A darkroom model config to use instead of the one beside the checkpoint (io::OpenOptions).
  std::optional<std::filesystem::path> model_config;
  torch::Device device = torch::kCPU;
};

enum class Phase { loading_model, encoding_prompt, denoising, decoding };
std::string_view phase_name(Phase phase);

// Hooks into one generation. on_step runs on the generating thread after every sampler step; it may
// throw to stop the generation (the exception propagates out of generate()). interrupt runs far more
// often, between the layers and blocks of every model pass (text encoder, UNet, VAE; see
// models::interruption_point), so a stop request is honoured within a fraction of a step; it throws to
// stop, and must be cheap.
struct GenerationObserver {
  std::function<void(Phase)> on_phase;
  sampling::StepCallback on_step;
  std::function<void()> interrupt;
};

struct Timings {
  double encode_prompt_s = 0;
  double denoise_s = 0;
  double decode_s = 0;
};

struct GenerationResult {
  std::vector<image::Image> images;  // RGB8, one per batch item
  torch::Tensor latents;             // final latents, as given to the VAE before scaling
  int64_t seed = 0;                  // the seed actually used
  Timings timings;
};

// A prompt's text conditioning: context [1, 77*k, D] for a prompt that spans k 75-token windows (SDXL:
// both encoders' hidden states side by side), and for SDXL the second encoder's projected pooled output
// [1, P] of the first window (undefined for other families).
struct PromptEmbedding {
  torch::Tensor context;
  torch::Tensor pooled;
};

class StableDiffusion {
 public:
  static std::shared_ptr<StableDiffusion> load(const std::filesystem::path& model, const LoadOptions& options = {});

  const io::ModelSource& source() const;
  // Pixels per latent cell (8 for SD).
  int latent_scale() const;

  // Text conditioning for a prompt. clip_skip 1 is the family's own layer (SD1: the last, with final
  // LayerNorm; SDXL: the penultimate, without); each further step takes the hidden state a layer earlier.
  PromptEmbedding embed_prompt(const std::string& prompt, int clip_skip = 1) const;
  torch::Tensor encode_prompt(const std::string& prompt, int clip_skip = 1) const;  // embed_prompt().context
  GenerationResult generate(const GenerationRequest& request, const GenerationObserver& observer = {}) const;

  // Latents (scaled SD latents) to images in [0,1], and RGB8.
  torch::Tensor decode_latents(const torch::Tensor& latents) const;
  // Images in [0,1] to scaled latents: a draw from the VAE's posterior (img2img, as diffusers does), or its
  // mean (deterministic: the round trip that measures the autoencoder itself).
  torch::Tensor encode_image(const torch::Tensor& image01, at::Generator& generator) const;
  torch::Tensor encode_image_mean(const torch::Tensor& image01) const;

  struct Impl;
  explicit StableDiffusion(std::unique_ptr<Impl> impl);
  ~StableDiffusion();

 private:
  std::unique_ptr<Impl> impl_;
};

// [B,3,H,W] in [0,1] -> RGB8 images, rounding half to even as numpy does.
std::vector<image::Image> to_images(const torch::Tensor& image01);
torch::Tensor from_image(const image::Image& image);  // -> [1,3,H,W] in [0,1]

}  // namespace darkroom::pipeline
