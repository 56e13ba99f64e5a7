#include "darkroom/preview/latent2rgb.hpp"

#include <stdexcept>
#include <string>

#include "darkroom/pipeline/stable_diffusion.hpp"

namespace darkroom::preview {
namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

// [C,3] factors and [3] bias as tensors; the rows are read as one contiguous block.
static_assert(sizeof(std::array<float, 3>) == 3 * sizeof(float));
torch::Tensor factors_tensor(const Latent2RgbTable& table, torch::Dtype dtype, torch::Device device) {
  if (table.factors.empty()) throw std::invalid_argument("latent2rgb: the table has no rows");
  auto f = torch::from_blob(const_cast<float*>(table.factors.front().data()),
                            {static_cast<int64_t>(table.factors.size()), 3}, torch::kFloat32);
  return f.to(device, dtype);  // copies: the table may go away while the tensor lives
}
torch::Tensor bias_tensor(const Latent2RgbTable& table, torch::Dtype dtype, torch::Device device) {
  return torch::from_blob(const_cast<float*>(table.bias.data()), {3}, torch::kFloat32).to(device, dtype);
}

// [N,3,h,w] about [-1,1]: the table applied to latents [N,C,h,w].
torch::Tensor apply(const Latent2RgbTable& table, const torch::Tensor& latents) {
  const auto f = factors_tensor(table, latents.scalar_type(), latents.device());
  if (latents.size(1) != f.size(0))
    throw std::invalid_argument("latent2rgb: the latent has " + std::to_string(latents.size(1)) +
                                " channels but the table has " + std::to_string(f.size(0)) + " rows");
  const auto b = bias_tensor(table, latents.scalar_type(), latents.device());
  return torch::einsum("nkhw,kc->nchw", {latents, f}) + b.view({1, 3, 1, 1});
}

// Fit data, checked: float64 latents [N,C,h,w] and images area-averaged to [N,3,h,w], mapped to [-1,1].
std::pair<torch::Tensor, torch::Tensor> fit_data(const torch::Tensor& latents, const torch::Tensor& images01) {
  if (latents.dim() != 4 || images01.dim() != 4 || images01.size(1) != 3 || latents.size(0) != images01.size(0) ||
      latents.size(0) == 0)
    throw std::invalid_argument("latent2rgb fit: expected latents [N,C,h,w] and images [N,3,H,W] with the same N >= 1, got " +
                                shape_of(latents) + " and " + shape_of(images01));
  const int64_t fy = images01.size(2) / latents.size(2), fx = images01.size(3) / latents.size(3);
  if (fy < 1 || fx < 1 || images01.size(2) % latents.size(2) != 0 || images01.size(3) % latents.size(3) != 0)
    throw std::invalid_argument("latent2rgb fit: image size " + shape_of(images01) +
                                " is not a whole multiple of the latent size " + shape_of(latents));
  auto x = latents.to(torch::kCPU, torch::kFloat64);
  auto y = torch::avg_pool2d(images01.to(torch::kCPU, torch::kFloat64), {fy, fx}) * 2 - 1;
  if (!torch::isfinite(x).all().item<bool>() || !torch::isfinite(y).all().item<bool>())
    throw std::invalid_argument("latent2rgb fit: the latents or images contain NaN or infinity");
  return {x, y};
}

}  // namespace

image::Image latent2rgb(const torch::Tensor& latent, const Latent2RgbTable& table) {
  if (!(latent.dim() == 3 || (latent.dim() == 4 && latent.size(0) == 1)))
    throw std::invalid_argument("latent2rgb: expected one latent [C,h,w] or [1,C,h,w], got " + shape_of(latent));
  torch::NoGradGuard no_grad;
  const auto x = latent.dim() == 3 ? latent.unsqueeze(0) : latent;
  return pipeline::to_images(((apply(table, x.to(torch::kFloat32)) + 1) / 2).clamp(0, 1)).front();
}

Latent2RgbTable fit_latent2rgb(const torch::Tensor& latents, const torch::Tensor& images01) {
  torch::NoGradGuard no_grad;
  const auto [x, y] = fit_data(latents, images01);
  const int64_t c = x.size(1);
  // One row per latent pixel: its C channels and a 1 for the bias, against its 3 colours.
  auto a = torch::cat({x.permute({0, 2, 3, 1}).reshape({-1, c}), torch::ones({x.numel() / c, 1}, torch::kFloat64)}, 1);
  auto b = y.permute({0, 2, 3, 1}).reshape({-1, 3});
  if (a.size(0) < c + 1)
    throw std::invalid_argument("latent2rgb fit: " + std::to_string(a.size(0)) + " latent pixels cannot determine " +
                                std::to_string(c + 1) + " coefficients per colour");
  // gelsd (SVD) stays well defined when the data leave some direction undetermined.
  const auto solution = std::get<0>(torch::linalg_lstsq(a, b, c10::nullopt, "gelsd")).to(torch::kFloat32).contiguous();
  const auto* s = solution.data_ptr<float>();
  Latent2RgbTable table;
  table.factors.resize(c);
  for (int64_t k = 0; k < c; ++k) table.factors[k] = {s[3 * k], s[3 * k + 1], s[3 * k + 2]};
  table.bias = {s[3 * c], s[3 * c + 1], s[3 * c + 2]};
  return table;
}

double latent2rgb_rms_error(const Latent2RgbTable& table, const torch::Tensor& latents, const torch::Tensor& images01) {
  torch::NoGradGuard no_grad;
  const auto [x, y] = fit_data(latents, images01);
  // Halved: the error of (rgb+1)/2 against the [0,1] image.
  return ((apply(table, x) - y) / 2).pow(2).mean().sqrt().item<double>();
}

}  // namespace darkroom::preview
