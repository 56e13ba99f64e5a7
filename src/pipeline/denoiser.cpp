#include "pipeline/denoiser.hpp"

#include <cmath>

namespace darkroom::pipeline {

sampling::Denoiser make_denoiser(models::UNet2DConditionModel unet, io::Prediction prediction, torch::Tensor cond,
                                 torch::Tensor uncond, double cfg, int64_t batch) {
  const bool guided = uncond.defined();
  // Batch layout [uncond x B, cond x B], as diffusers concatenates it.
  auto context = guided ? torch::cat({uncond.expand({batch, -1, -1}), cond.expand({batch, -1, -1})})
                        : cond.expand({batch, -1, -1});
  context = context.contiguous();
  return [=](const torch::Tensor& x, double sigma, double timestep) mutable {
    torch::NoGradGuard no_grad;
    const double c_in = 1.0 / std::sqrt(sigma * sigma + 1.0);
    auto model_input = x * c_in;
    if (guided) model_input = torch::cat({model_input, model_input});
    auto t = torch::full({}, timestep, torch::TensorOptions().dtype(torch::kFloat32).device(x.device()));
    auto out = unet->forward(model_input, t, context);
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
