#pragma once
// latent2rgb: the cheapest preview, a per-pixel linear map from latent channels to RGB
// (rgb[c] = sum_k latent[k] * factors[k][c] + bias[c], about [-1, 1]), at latent resolution (1/8 of the
// image). Published tables are least-squares fits against the full VAE; fit_latent2rgb makes one for any
// model with a decoder (`darkroom fit-preview`).
#include <torch/torch.h>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "darkroom/image/image.hpp"
#include "darkroom/io/model_source.hpp"

namespace darkroom::preview {

struct Latent2RgbTable {
  std::vector<std::array<float, 3>> factors;  // one row per latent channel; columns R, G, B
  std::array<float, 3> bias{};
  bool operator==(const Latent2RgbTable&) const = default;
};

// Published tables (../shared/reference/previews.md), for scaled model latents.
const Latent2RgbTable& sd1_table();    // SD1.x and SD2.x, 4 channels, no bias
const Latent2RgbTable& sdxl_table();   // 4 channels
const Latent2RgbTable& sd3_table();    // 16 channels
const Latent2RgbTable& flux1_table();  // 16 channels
// A model's own table (io::ModelSource::latent2rgb_table, read from its file) wins over its family's
// published one.
std::optional<Latent2RgbTable> table_for(io::ModelFamily family,
                                         const std::optional<std::filesystem::path>& own_table = std::nullopt);

// latent: one scaled model latent, [C,h,w] or [1,C,h,w], on any device; C must match the table.
// Returns the h x w RGB8 image: v = (rgb + 1) / 2, clamped to [0, 1], then round(255 v) (half to even).
image::Image latent2rgb(const torch::Tensor& latent, const Latent2RgbTable& table);

// Least-squares fit of factors and bias: latents [N,C,h,w] (scaled) against the images the decoder made
// from them, images01 [N,3,H,W] in [0,1] with H, W multiples of h, w; the images are area-averaged down to
// latent resolution and mapped to [-1, 1] first. Solved in float64.
Latent2RgbTable fit_latent2rgb(const torch::Tensor& latents, const torch::Tensor& images01);
// Root-mean-square error of the table on such data, in [0,1] image units at latent resolution, before
// clamping: how far a preview pixel is from the area-averaged decoded pixel.
double latent2rgb_rms_error(const Latent2RgbTable& table, const torch::Tensor& latents, const torch::Tensor& images01);

// JSON form, for `darkroom fit-preview --out` and for models that ship a table:
//   {"format": "darkroom.latent2rgb", "version": 1, "latent_channels": C,
//    "factors": [[r, g, b], ... C rows], "bias": [r, g, b]}
// Floats are written so that they read back exactly. Reading checks every field and throws
// std::invalid_argument naming the source (file or "latent2rgb table JSON") and the field; an unreadable or
// unwritable file throws std::runtime_error naming it.
std::string table_to_json(const Latent2RgbTable& table);
Latent2RgbTable table_from_json(std::string_view json, std::string_view source = "latent2rgb table JSON");
void write_table(const std::filesystem::path& path, const Latent2RgbTable& table);
Latent2RgbTable read_table(const std::filesystem::path& path);

}  // namespace darkroom::preview
