#include "pipeline/denoiser.hpp"

#include <cmath>

namespace darkroom::pipeline {
namespace {

// One prompt's tensor for the whole UNet batch: [uncond x B, cond x B], or [cond x B] without guidance.
torch::Tensor batched(const torch::Tensor& cond, const torch::Tensor& uncond, int64_t batch) {
  auto shape = cond.sizes().vec();
  shape[0] = batch;
  auto out = uncond.defined() ? torch::cat({uncond.expand(shape), cond.expand(shape)}) : cond.expand(shape);
  return out.contiguous();
}

}  // namespace

sampling::Denoiser make_denoiser(models::UNet2DConditionModel unet, io::Prediction prediction, const Conditioning& cond,
                                 const Conditioning& uncond, double cfg, int64_t batch) {
  const bool guided = uncond.context.defined();
  const auto context = batched(cond.context, uncond.context, batch);
  std::optional<models::AddedConditions> added;
  if (cond.added) {
    const auto none = models::AddedConditions{};
    const auto& other = guided ? uncond.added.value() : none;
    added = models::AddedConditions{batched(cond.added->text_embeds, other.text_embeds, batch),
                                    batched(cond.added->time_ids, other.time_ids, batch)};
  }
  return [=](const torch::Tensor& x, double sigma, double timestep) mutable {
    torch::NoGradGuard no_grad;
    const double c_in = 1.0 / std::sqrt(sigma * sigma + 1.0);
    auto model_input = x * c_in;
    if (guided) model_input = torch::cat({model_input, model_input});
    auto t = torch::full({}, timestep, torch::TensorOptions().dtype(torch::kFloat32).device(x.device()));
    auto out = unet->forward(model_input, t, context, added);
    if (guided) {
      auto halves = out.chunk(2);
      out = halves[0] + cfg * (halves[1] - halves[0]);
    }
    if (prediction == io::Prediction::v_prediction)
      return x * (1.0 / (sigma * sigma + 1.0)) - out * (sigma * c_in);
    return x - out * sigma;
  };
}

}  // namespace darkroom::pipeline
