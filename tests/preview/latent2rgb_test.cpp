#include "darkroom/preview/latent2rgb.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"

namespace darkroom::preview {
namespace {

// The table applied to each pixel by hand, in double: ((rgb + 1) / 2) * 255, before clamping and rounding.
double by_hand(const Latent2RgbTable& table, const torch::Tensor& latent /*[C,h,w] double*/, int c, int y, int x) {
  double v = table.bias[c];
  for (std::size_t k = 0; k < table.factors.size(); ++k)
    v += latent[static_cast<int64_t>(k)][y][x].item<double>() * table.factors[k][c];
  return (v + 1) / 2 * 255;
}

// Pixel by pixel against by_hand. Float32 arithmetic may round the other way only where the exact value
// sits on a half: allow 1 LSB there and nowhere else.
// min_unclamped: how many values must fall strictly inside 0..255, where the comparison says the most.
void expect_applied_by_hand(const torch::Tensor& latent, const Latent2RgbTable& table, int min_unclamped = 0) {
  const auto image = latent2rgb(latent, table);
  const auto l = latent.squeeze(0).to(torch::kFloat64);
  ASSERT_EQ(image.width, l.size(2));
  ASSERT_EQ(image.height, l.size(1));
  ASSERT_EQ(image.channels, 3);
  int unclamped = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < 3; ++c) {
        const double v = std::clamp(by_hand(table, l, c, y, x), 0.0, 255.0);
        unclamped += v > 0 && v < 255;
        const int got = image.pixels[(y * image.width + x) * 3 + c];
        if (got == static_cast<int>(std::nearbyint(v))) continue;
        EXPECT_LT(std::abs(v - std::floor(v) - 0.5), 1e-4) << "pixel (" << x << "," << y << ") channel " << c
                                                           << ": got " << got << ", by hand " << v;
      }
  EXPECT_GE(unclamped, min_unclamped);
}

TEST(Latent2Rgb, GoldenFinalLatentEqualsTheTableByHand) {
  auto loop = golden::load("loops/sd1_euler.safetensors");
  const auto& latent = loop.at("final_latents");  // [1,4,8,8], scaled
  ASSERT_EQ(latent.size(1), 4);
  expect_applied_by_hand(latent, sd1_table());
  // The random tiny model's latents reach |x| ~ 40 and mostly clamp; brought to the range of a real model's
  // latents, most values land inside 0..255.
  expect_applied_by_hand(latent / latent.abs().max() * 1.5, sd1_table(), 150);
  expect_applied_by_hand(latent[0], sdxl_table());  // [C,h,w] too, and a table with a bias
  // The x0 estimates along the loop: what a denoised preview shows.
  const auto& x0 = loop.at("x0_pred");  // [S,1,4,8,8]
  for (int64_t s = 0; s < x0.size(0); ++s) expect_applied_by_hand(x0[s], sd1_table());
}

TEST(Latent2Rgb, SixteenChannelTables) {
  const auto latent = torch::randn({1, 16, 5, 7}, torch::kFloat32);
  expect_applied_by_hand(latent, sd3_table(), 100);
  expect_applied_by_hand(latent, flux1_table(), 100);
  EXPECT_EQ(sd3_table().factors.size(), 16u);
  EXPECT_FLOAT_EQ(sd3_table().factors[15][2], -0.1189f);
  EXPECT_FLOAT_EQ(flux1_table().factors[4][0], 0.0859f);
  EXPECT_FLOAT_EQ(flux1_table().bias[2], -0.0851f);
}

TEST(Latent2Rgb, TablesForFamilies) {
  EXPECT_EQ(table_for(io::ModelFamily::sd1), sd1_table());
  EXPECT_EQ(table_for(io::ModelFamily::sd2), sd1_table());
  EXPECT_EQ(table_for(io::ModelFamily::sdxl), sdxl_table());
  EXPECT_FLOAT_EQ(sd1_table().factors[3][2], -0.7177f);
  EXPECT_FLOAT_EQ(sdxl_table().bias[0], 0.1084f);
}

TEST(Latent2Rgb, RejectsMismatchedLatents) {
  EXPECT_THROW(latent2rgb(torch::zeros({1, 16, 8, 8}), sd1_table()), std::invalid_argument);
  EXPECT_THROW(latent2rgb(torch::zeros({2, 4, 8, 8}), sd1_table()), std::invalid_argument);
  EXPECT_THROW(latent2rgb(torch::zeros({4, 8}), sd1_table()), std::invalid_argument);
}

// Images that a known table makes from latents, each latent pixel blown up to an 8x8 block.
torch::Tensor images_from(const Latent2RgbTable& table, const torch::Tensor& latents) {
  auto f = torch::zeros({static_cast<int64_t>(table.factors.size()), 3}, torch::kFloat64);
  for (std::size_t k = 0; k < table.factors.size(); ++k)
    for (int c = 0; c < 3; ++c) f[static_cast<int64_t>(k)][c] = table.factors[k][c];
  auto b = torch::tensor({table.bias[0], table.bias[1], table.bias[2]}, torch::kFloat64).view({1, 3, 1, 1});
  auto rgb = torch::einsum("nkhw,kc->nchw", {latents.to(torch::kFloat64), f}) + b;
  return torch::upsample_nearest2d((rgb + 1) / 2, {latents.size(2) * 8, latents.size(3) * 8});
}

TEST(Latent2Rgb, FitRecoversAKnownTable) {
  torch::manual_seed(7);
  for (const auto* table : {&sdxl_table(), &flux1_table()}) {
    const auto channels = static_cast<int64_t>(table->factors.size());
    const auto latents = torch::randn({3, channels, 8, 6}, torch::kFloat64);
    const auto fitted = fit_latent2rgb(latents, images_from(*table, latents));
    ASSERT_EQ(fitted.factors.size(), table->factors.size());
    for (std::size_t k = 0; k < fitted.factors.size(); ++k)
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(fitted.factors[k][c], table->factors[k][c], 1e-6) << k << "," << c;
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(fitted.bias[c], table->bias[c], 1e-6) << c;
    EXPECT_LT(latent2rgb_rms_error(fitted, latents, images_from(*table, latents)), 1e-7);
  }
}

TEST(Latent2Rgb, FitChecksItsInput) {
  EXPECT_THROW(fit_latent2rgb(torch::zeros({2, 4, 8, 8}), torch::zeros({3, 3, 64, 64})), std::invalid_argument);
  EXPECT_THROW(fit_latent2rgb(torch::zeros({1, 4, 8, 8}), torch::zeros({1, 3, 60, 64})), std::invalid_argument);
  EXPECT_THROW(fit_latent2rgb(torch::zeros({1, 4, 8, 8}), torch::zeros({1, 4, 64, 64})), std::invalid_argument);
  EXPECT_THROW(fit_latent2rgb(torch::zeros({1, 4, 1, 1}), torch::zeros({1, 3, 8, 8})), std::invalid_argument);
  auto nan = torch::zeros({1, 4, 8, 8});
  nan[0][0][0][0] = NAN;
  EXPECT_THROW(fit_latent2rgb(nan, torch::zeros({1, 3, 64, 64})), std::invalid_argument);
}

TEST(Latent2Rgb, FitAgainstTheGoldenTinyVae) {
  at::set_num_threads(2);
  pipeline::LoadOptions options;
  options.vocab = golden::path("clip/bpe_simple_vocab_16e6.txt.gz");
  const auto model = pipeline::StableDiffusion::load(golden::checkpoint("sd1_tiny"), options);
  torch::manual_seed(11);
  const auto latents = torch::randn({6, 4, 8, 8});
  const auto images = model->decode_latents(latents);
  const auto fitted = fit_latent2rgb(latents, images);
  const double residual = latent2rgb_rms_error(fitted, latents, images);
  std::cout << "tiny VAE fit: rms error " << residual << " (sd1 table: "
            << latent2rgb_rms_error(sd1_table(), latents, images) << ")\n";
  EXPECT_TRUE(std::isfinite(residual));
  // Least squares: no other table does better on the same data, neither the published one nor plain grey.
  EXPECT_LE(residual, latent2rgb_rms_error(sd1_table(), latents, images));
  EXPECT_LE(residual, latent2rgb_rms_error(Latent2RgbTable{std::vector<std::array<float, 3>>(4), {}}, latents, images));
}

TEST(Latent2Rgb, JsonRoundTripIsExact) {
  torch::manual_seed(3);
  const auto latents = torch::randn({2, 4, 4, 4});
  const auto odd = fit_latent2rgb(latents, torch::rand({2, 3, 32, 32}));  // arbitrary floats
  for (const auto* table : {&sd1_table(), &sdxl_table(), &sd3_table(), &flux1_table(), &odd})
    EXPECT_EQ(table_from_json(table_to_json(*table)), *table);
  EXPECT_NE(table_to_json(sd1_table()).find("0.3512"), std::string::npos) << table_to_json(sd1_table());

  const auto file = std::filesystem::temp_directory_path() / ("darkroom-latent2rgb-" + std::to_string(::getpid()) + ".json");
  write_table(file, sdxl_table());
  EXPECT_EQ(read_table(file), sdxl_table());
  std::filesystem::remove(file);
}

TEST(Latent2Rgb, JsonErrorsNameTheField) {
  const auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      table_from_json(json, "table.json");
      ADD_FAILURE() << "accepted " << json;
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("table.json: ", 0), 0u) << message;
      EXPECT_NE(message.find(needle), std::string::npos) << message;
    }
  };
  const std::string head = R"({"format": "darkroom.latent2rgb", "version": 1, )";
  expect_error("{", "not valid JSON");
  expect_error("[]", "object");
  expect_error(R"({"format": "other", "version": 1})", "\"format\"");
  expect_error(R"({"format": "darkroom.latent2rgb", "version": 2})", "\"version\"");
  expect_error(head + R"("factors": [[1,2,3]], "bias": [0,0,0]})", "\"latent_channels\"");
  expect_error(head + R"("latent_channels": 2, "factors": [[1,2,3]], "bias": [0,0,0]})", "\"factors\"");
  expect_error(head + R"("latent_channels": 1, "factors": [[1,2]], "bias": [0,0,0]})", "\"factors\"[0]");
  expect_error(head + R"("latent_channels": 1, "factors": [[1,"x",3]], "bias": [0,0,0]})", "\"factors\"[0][1]");
  expect_error(head + R"("latent_channels": 1, "factors": [[1,2,3]]})", "\"bias\"");
  expect_error(head + R"("latent_channels": 1, "factors": [[1,2,3]], "bias": [0,0]})", "\"bias\"");
  EXPECT_THROW(read_table("/nonexistent/table.json"), std::runtime_error);
}

}  // namespace
}  // namespace darkroom::preview
