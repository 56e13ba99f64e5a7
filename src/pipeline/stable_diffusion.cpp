#include "darkroom/pipeline/stable_diffusion.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <random>
#include <vector>

#include "darkroom/models/clip_text.hpp"
#include "darkroom/models/interruption.hpp"
#include "darkroom/models/unet.hpp"
#include "darkroom/models/vae.hpp"
#include "darkroom/text/clip_tokenizer.hpp"
#include "pipeline/denoiser.hpp"

namespace darkroom::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A model's own tokenizer wins: the CLIP vocabulary option is for checkpoints that carry none, and a
// server passes it for every model it serves.
text::ClipTokenizer load_tokenizer(const io::ModelSource& source, const LoadOptions& options) {
  if (source.tokenizer) return text::ClipTokenizer::from_vocab_and_merges(source.tokenizer->vocab_json, source.tokenizer->merges_txt);
  if (options.vocab) return text::ClipTokenizer::from_bpe_file(*options.vocab);
  throw io::ModelFileError(source.path, "carries no tokenizer; pass the CLIP vocabulary with --vocab "
                                        "(bpe_simple_vocab_16e6.txt.gz)");
}

int64_t resolve_seed(int64_t seed) {
  if (seed >= 0) return seed;
  std::random_device device;
  // Keep random seeds within 2^53 so JSON clients read them back exactly.
  return static_cast<int64_t>((static_cast<uint64_t>(device()) << 21 ^ device()) & ((1ull << 53) - 1));
}

}  // namespace

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::loading_model: return "loading_model";
    case Phase::encoding_prompt: return "encoding_prompt";
    case Phase::denoising: return "denoising";
    case Phase::decoding: return "decoding";
  }
  return "?";
}

// A prompt's token windows for each text encoder (SDXL's two pad differently).
struct PromptTokens {
  std::vector<std::vector<int64_t>> te1, te2;
  std::size_t size() const { return te1.size(); }
};

struct StableDiffusion::Impl {
  io::ModelSource source;
  LoadOptions options;
  text::ClipTokenizer tokenizer;
  std::optional<text::ClipTokenizer> tokenizer_2;  // SDXL, when its second encoder has its own
  models::ClipTextModel text_encoder{nullptr};
  models::ClipTextModel text_encoder_2{nullptr};  // SDXL
  models::UNet2DConditionModel unet{nullptr};
  models::AutoencoderKL vae{nullptr};
  sampling::TrainSchedule train;

  PromptTokens tokens(const std::string& prompt, std::size_t at_least) const;
  PromptEmbedding encode(const PromptTokens& tokens, int clip_skip);
  Conditioning condition(const PromptEmbedding& embedding, const GenerationRequest& request) const;
  // A VAE latent in the UNet's space (diffusers: (latent - shift_factor) * scaling_factor).
  torch::Tensor scaled(const torch::Tensor& vae_latent) const {
    return (vae_latent - source.vae_config.shift_factor) * source.vae_config.scaling_factor;
  }
};

StableDiffusion::StableDiffusion(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StableDiffusion::~StableDiffusion() = default;

std::shared_ptr<StableDiffusion> StableDiffusion::load(const std::filesystem::path& model, const LoadOptions& options) {
  auto source = io::open_model(model, io::OpenOptions{options.model_config});
  if (options.prediction) source.unet_config.prediction = *options.prediction;
  auto tokenizer = load_tokenizer(source, options);
  auto impl = std::make_unique<Impl>(Impl{std::move(source), options, std::move(tokenizer)});
  const auto& loaded = impl->source;
  impl->text_encoder = models::load_clip_text(loaded.text_encoder, loaded.text_config);
  std::vector<torch::nn::Module*> modules{impl->text_encoder.get()};
  if (const auto& te2 = loaded.text_encoder_2) {
    impl->text_encoder_2 = models::load_clip_text(te2->weights, te2->config);
    if (te2->tokenizer && te2->tokenizer != loaded.tokenizer)
      impl->tokenizer_2 = text::ClipTokenizer::from_vocab_and_merges(te2->tokenizer->vocab_json, te2->tokenizer->merges_txt);
    modules.push_back(impl->text_encoder_2.get());
  }
  impl->train = sampling::TrainSchedule::stable_diffusion(loaded.noise_schedule.rescale_betas_zero_snr);
  impl->unet = models::load_unet(loaded.unet, loaded.unet_config);
  impl->vae = models::load_vae(loaded.vae, loaded.vae_config);
  modules.push_back(impl->unet.get());
  modules.push_back(impl->vae.get());
  for (torch::nn::Module* m : modules) {
    m->to(options.device);
    m->eval();
  }
  return std::make_shared<StableDiffusion>(std::move(impl));
}

const io::ModelSource& StableDiffusion::source() const { return impl_->source; }

int StableDiffusion::latent_scale() const {
  return 1 << (static_cast<int>(impl_->source.vae_config.block_out_channels.size()) - 1);
}

PromptTokens StableDiffusion::Impl::tokens(const std::string& prompt, std::size_t at_least) const {
  // A1111 and ComfyUI pad the shorter of prompt and negative prompt with empty windows.
  const auto windows = [&](const text::ClipTokenizer& t, int64_t pad, int64_t context) {
    auto out = t.windows(prompt, pad, context);
    while (out.size() < at_least) out.push_back(t.windows("", pad, context)[0]);
    return out;
  };
  PromptTokens out;
  out.te1 = windows(tokenizer, source.pad_token, source.text_config.context_length);
  if (const auto& te2 = source.text_encoder_2)
    out.te2 = windows(tokenizer_2 ? *tokenizer_2 : tokenizer, te2->pad_token, te2->config.context_length);
  return out;
}

PromptEmbedding StableDiffusion::Impl::encode(const PromptTokens& tokens, int clip_skip) {
  const auto ids = [&](const std::vector<int64_t>& window) {
    return torch::tensor(window, torch::kInt64).unsqueeze(0).to(options.device);
  };
  PromptEmbedding out;
  std::vector<torch::Tensor> parts;
  for (std::size_t w = 0; w < tokens.size(); ++w) {
    const auto te1 = text_encoder->forward(ids(tokens.te1[w]));
    if (!text_encoder_2) {
      parts.push_back(text_encoder->conditioning(te1, clip_skip + source.text_skip_offset));
      continue;
    }
    // SDXL: both encoders' penultimate hidden states (clip_skip 1), without final LayerNorm, side by side;
    // the pooled embedding is the first window's, as for a prompt within one window.
    const auto te2 = text_encoder_2->forward(ids(tokens.te2[w]));
    parts.push_back(torch::cat({te1.raw_hidden_state(clip_skip + 1), te2.raw_hidden_state(clip_skip + 1)}, -1));
    if (w == 0) out.pooled = te2.text_embeds;
  }
  out.context = torch::cat(parts, 1);
  return out;
}

// SDXL's add_time_ids: (original height, width, crop top, left, target height, width).
Conditioning StableDiffusion::Impl::condition(const PromptEmbedding& embedding, const GenerationRequest& r) const {
  Conditioning out{embedding.context, std::nullopt};
  if (!text_encoder_2) return out;
  const auto original = r.original_size.value_or(ImageSize{r.width, r.height});
  const auto crop = r.crop_top_left.value_or(CropOffset{});
  const auto target = r.target_size.value_or(ImageSize{r.width, r.height});
  const std::vector<float> ids{float(original.height), float(original.width), float(crop.y),
                               float(crop.x),          float(target.height),   float(target.width)};
  out.added = models::AddedConditions{embedding.pooled, torch::tensor(ids).unsqueeze(0).to(options.device)};
  return out;
}

PromptEmbedding StableDiffusion::embed_prompt(const std::string& prompt, int clip_skip) const {
  torch::NoGradGuard no_grad;
  return impl_->encode(impl_->tokens(prompt, 0), clip_skip);
}

torch::Tensor StableDiffusion::encode_prompt(const std::string& prompt, int clip_skip) const {
  return embed_prompt(prompt, clip_skip).context;
}

torch::Tensor StableDiffusion::decode_latents(const torch::Tensor& latents) const {
  torch::NoGradGuard no_grad;
  const auto& vae = impl_->source.vae_config;
  auto decoded = impl_->vae->decode(latents / vae.scaling_factor + vae.shift_factor);
  return (decoded / 2 + 0.5).clamp(0, 1);
}

torch::Tensor StableDiffusion::encode_image(const torch::Tensor& image01, at::Generator& generator) const {
  torch::NoGradGuard no_grad;
  return impl_->scaled(impl_->vae->encode(image01 * 2 - 1).sample(generator));
}

torch::Tensor StableDiffusion::encode_image_mean(const torch::Tensor& image01) const {
  torch::NoGradGuard no_grad;
  return impl_->scaled(impl_->vae->encode(image01 * 2 - 1).mean);
}

GenerationResult StableDiffusion::generate(const GenerationRequest& asked, const GenerationObserver& observer) const {
  torch::NoGradGuard no_grad;
  std::optional<models::InterruptionScope> interruptible;
  if (observer.interrupt) interruptible.emplace(observer.interrupt);
  GenerationRequest request = asked;
  use_model_defaults(request, model_defaults(impl_->source));
  const int scale = latent_scale();
  validate(request, RequestLimits::runnable(), scale);
  if (request.clip_skip > max_clip_skip(impl_->source))
    throw std::invalid_argument("clip_skip: this model's text encoder has layers for at most " +
                                std::to_string(max_clip_skip(impl_->source)) + ", got " + std::to_string(request.clip_skip));
  auto phase = [&](Phase p) {
    if (observer.on_phase) observer.on_phase(p);
  };
  GenerationResult result;
  result.seed = resolve_seed(request.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(result.seed));
  const auto device = impl_->options.device;

  phase(Phase::encoding_prompt);
  auto start = Clock::now();
  // diffusers runs the unconditional branch only when guidance is above 1.
  const double cfg = *request.cfg;  // use_model_defaults filled it
  const bool guided = cfg > 1.0;
  auto positive = impl_->tokens(request.prompt, 0);
  PromptEmbedding uncond;
  // SDXL without a negative prompt guides away from zeros (diffusers' force_zeros_for_empty_prompt).
  const bool zero_uncond = guided && !request.negative_prompt && impl_->source.force_zeros_for_empty_prompt;
  if (guided && !zero_uncond) {
    auto negative = impl_->tokens(request.negative_prompt.value_or(""), positive.size());
    positive = impl_->tokens(request.prompt, negative.size());
    uncond = impl_->encode(negative, request.clip_skip);
  }
  const auto cond = impl_->encode(positive, request.clip_skip);
  if (zero_uncond) uncond = {torch::zeros_like(cond.context), torch::zeros_like(cond.pooled)};
  result.timings.encode_prompt_s = seconds_since(start);

  const auto spacing = request.spacing.value_or(sampling::default_spacing(request.sampler));
  auto schedule = sampling::make_schedule(request.sampler, request.scheduler, spacing, request.steps, impl_->train);

  const int64_t channels = impl_->source.unet_config.in_channels;
  const std::vector<int64_t> shape{request.batch, channels, request.height / scale, request.width / scale};
  torch::Tensor x;
  if (request.init_image) {
    // img2img: start part-way down the schedule from the noised encoding of the init image.
    auto image = from_image(*request.init_image).to(device).repeat({request.batch, 1, 1, 1});
    auto init = encode_image(image, generator);
    schedule = sampling::truncate_for_strength(schedule, request.strength);
    auto noise = torch::randn(shape, generator).to(device);
    x = init + noise * schedule.sigmas.front();
  } else {
    x = torch::randn(shape, generator).to(device) * schedule.init_noise_scale;
  }

  phase(Phase::denoising);
  start = Clock::now();
  const auto denoiser =
      make_denoiser(impl_->unet, impl_->source.unet_config.prediction, impl_->condition(cond, request),
                    guided ? impl_->condition(uncond, request) : Conditioning{}, cfg, request.batch);
  x = sampling::sample(request.sampler, denoiser, x, schedule, generator, observer.on_step);
  result.latents = sampling::final_latents(x, schedule);
  result.timings.denoise_s = seconds_since(start);

  phase(Phase::decoding);
  start = Clock::now();
  result.images = to_images(decode_latents(result.latents));
  result.timings.decode_s = seconds_since(start);
  return result;
}

std::vector<image::Image> to_images(const torch::Tensor& image01) {
  // round half to even, as numpy's and torch's round do
  auto u8 = (image01 * 255).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous().cpu();
  std::vector<image::Image> images;
  for (int64_t b = 0; b < u8.size(0); ++b) {
    image::Image img;
    img.height = static_cast<int>(u8.size(1));
    img.width = static_cast<int>(u8.size(2));
    img.channels = 3;
    const auto* data = u8[b].data_ptr<uint8_t>();
    img.pixels.assign(data, data + u8[b].numel());
    images.push_back(std::move(img));
  }
  return images;
}

torch::Tensor from_image(const image::Image& image) {
  if (image.channels != 3 && image.channels != 4)
    throw std::invalid_argument("init_image must be RGB or RGBA, not " + std::to_string(image.channels) + " channels");
  auto t = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.height, image.width, image.channels},
                            torch::kUInt8);
  return t.slice(2, 0, 3).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).div(255).contiguous();
}

}  // namespace darkroom::pipeline
