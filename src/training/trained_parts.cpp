#include "trained_parts.hpp"

#include "scene_batches.hpp"
#include "stage.hpp"

namespace darkroom::training {

constexpr uint64_t kScalingSeedDomain = 3;

text::ClipTokenizer load_learned_tokenizer(const TrainingFiles& files) {
  return text::ClipTokenizer::from_vocab_and_merges(files.vocab_json, files.merges_txt);
}

models::AutoencoderKL load_trained_autoencoder(const TrainingFiles& files, const Architecture& architecture,
                                               torch::Device device) {
  models::AutoencoderKL vae(architecture.vae);
  vae->to(device);
  if (load_checkpoint(files.autoencoder, {{"vae", vae.get()}}, nullptr, device) == 0)
    throw std::runtime_error(files.autoencoder.string() + " does not exist: train the autoencoder first");
  vae->eval();
  for (auto& parameter : vae->parameters()) parameter.set_requires_grad(false);
  return vae;
}

double measure_scaling_factor(models::AutoencoderKL& vae, const TrainOptions& options, int image_size) {
  torch::NoGradGuard no_grad;
  SceneBatches data(kScalingSeedDomain, 64, image_size, options.data_threads, options.device);
  std::vector<torch::Tensor> means;
  for (int64_t step = 0; step < 4; ++step) means.push_back(vae->encode(data.at(step).images).mean);
  return options.latent_std / torch::cat(means).std().item<double>();
}

torch::Tensor token_ids(const text::ClipTokenizer& tokenizer, const std::vector<std::string>& prompts,
                        int context, torch::Device device) {
  auto ids = torch::empty({static_cast<int64_t>(prompts.size()), context}, torch::kInt64);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto padded = tokenizer.pad(tokenizer.encode(prompts[i]), tokenizer.eos_id(), context);
    std::copy(padded.begin(), padded.end(), ids.data_ptr<int64_t>() + static_cast<int64_t>(i) * context);
  }
  return ids.to(device);
}

}  // namespace darkroom::training
