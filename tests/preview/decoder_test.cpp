#include "darkroom/preview/decoder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "darkroom/io/safetensors.hpp"
#include "support/golden.hpp"

namespace darkroom::preview {
namespace {

torch::Tensor pixels(const image::Image& image) {
  return torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.height, image.width, image.channels},
                          torch::kUInt8)
      .clone();
}

// The README's image_uint8 criterion: off by at most 1 LSB, on at most 0.1 % of the values.
void expect_uint8_close(const image::Image& actual, const torch::Tensor& expected /*HWC uint8*/) {
  ASSERT_EQ(actual.channels, 3);
  ASSERT_EQ(actual.height, expected.size(0));
  ASSERT_EQ(actual.width, expected.size(1));
  const auto diff = (pixels(actual).to(torch::kInt32) - expected.to(torch::kInt32)).abs();
  const auto off = diff.gt(0).sum().item<int64_t>();
  std::cout << "  max diff " << diff.max().item<int>() << " LSB, " << off << " of " << diff.numel() << " values differ\n";
  EXPECT_LE(diff.max().item<int>(), 1);
  EXPECT_LE(off, diff.numel() / 1000);
}

std::shared_ptr<const pipeline::StableDiffusion> tiny_model() {
  static const auto model = [] {
    pipeline::LoadOptions options;
    options.vocab = golden::path("clip/bpe_simple_vocab_16e6.txt.gz");
    return pipeline::StableDiffusion::load(golden::checkpoint("sd1_tiny"), options);
  }();
  return model;
}

models::TinyDecoder random_taesd() {
  return models::load_tiny_decoder(
      io::WeightIndex::of(io::SafetensorsFile::open(golden::path("taesd/taesd_tiny_random_decoder.safetensors"))));
}

TEST(PreviewDecoder, TaesdEqualsTheGoldenDecodeClampedAndRounded) {
  at::set_num_threads(2);
  auto golden = golden::load("taesd/taesd_tiny_random_golden.safetensors");
  auto decoder = make_taesd_decoder(random_taesd());
  EXPECT_EQ(decoder->name(), "taesd");
  const auto expected = (golden.at("decoded")[0].clamp(0, 1) * 255).round().to(torch::kUInt8).permute({1, 2, 0});
  expect_uint8_close(decoder->decode(golden.at("latent")), expected);
  expect_uint8_close(decoder->decode(golden.at("latent")[0]), expected);  // [C,h,w] too
}

TEST(PreviewDecoder, VaeOfTheFinalLatentIsTheFinalImage) {
  at::set_num_threads(2);
  auto decoder = make_vae_decoder(tiny_model());
  EXPECT_EQ(decoder->name(), "vae");
  for (const char* loop : {"sd1_euler", "sd1_euler_ancestral", "sd1_dpmpp_2m_karras", "sd1_ddim", "sd1_lcm"}) {
    SCOPED_TRACE(loop);
    std::cout << loop << ":";
    auto golden = golden::load(std::string("loops/") + loop + ".safetensors");
    expect_uint8_close(decoder->decode(golden.at("final_latents")), golden.at("image_uint8"));
  }
}

TEST(PreviewDecoder, Latent2RgbDecoderIsLatent2Rgb) {
  auto golden = golden::load("loops/sd1_euler.safetensors");
  auto decoder = make_latent2rgb_decoder(sd1_table());
  EXPECT_EQ(decoder->name(), "latent2rgb");
  const auto image = decoder->decode(golden.at("final_latents"));
  EXPECT_EQ(image.pixels, latent2rgb(golden.at("final_latents"), sd1_table()).pixels);
  EXPECT_EQ(image.width, 8);
}

TEST(PreviewDecoder, WrongLatentsThrowNamingTheDecoder) {
  auto taesd = make_taesd_decoder(random_taesd());
  auto vae = make_vae_decoder(tiny_model());
  auto l2r = make_latent2rgb_decoder(sd1_table());
  for (PreviewDecoder* decoder : {taesd.get(), vae.get(), l2r.get()}) {
    for (const auto& bad : {torch::zeros({1, 16, 8, 8}), torch::zeros({2, 4, 8, 8}), torch::zeros({8, 8})}) {
      try {
        decoder->decode(bad);
        ADD_FAILURE() << decoder->name() << " accepted " << bad.sizes();
      } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind(std::string(decoder->name()) + " preview", 0), 0u) << e.what();
      }
    }
  }
  EXPECT_THROW(make_taesd_decoder(models::TinyDecoder(nullptr)), std::invalid_argument);
  EXPECT_THROW(make_vae_decoder(nullptr), std::invalid_argument);
  EXPECT_THROW(make_latent2rgb_decoder(Latent2RgbTable{}), std::invalid_argument);
}

TEST(PreviewCapabilities, AutoPrefersTaesdThenLatent2Rgb) {
  const auto all = preview_capabilities(4, sd1_table(), 4, true);
  EXPECT_TRUE(all.latent2rgb && all.taesd && all.vae);
  EXPECT_EQ(all.auto_method, Method::taesd);
  EXPECT_EQ(all.resolve(Method::auto_), Method::taesd);
  EXPECT_EQ(all.resolve(Method::vae), Method::vae);
  EXPECT_EQ(all.unavailable_reason(Method::taesd), "");

  const auto no_taesd = preview_capabilities(4, sd1_table(), std::nullopt, true);
  EXPECT_EQ(no_taesd.auto_method, Method::latent2rgb);
  EXPECT_FALSE(no_taesd.available(Method::taesd));
  EXPECT_NE(no_taesd.unavailable_reason(Method::taesd).find("--taesd"), std::string::npos);

  const auto wrong_taesd = preview_capabilities(4, sd1_table(), 16, true);  // a FLUX tiny AE on an SD model
  EXPECT_EQ(wrong_taesd.auto_method, Method::latent2rgb);
  EXPECT_NE(wrong_taesd.unavailable_reason(Method::taesd).find("16-channel"), std::string::npos);

  const auto nothing = preview_capabilities(16, sd1_table(), std::nullopt, false);  // table of the wrong width
  EXPECT_EQ(nothing.auto_method, Method::none);
  EXPECT_FALSE(nothing.available(Method::latent2rgb));
  EXPECT_FALSE(nothing.available(Method::vae));
  EXPECT_TRUE(nothing.available(Method::none));
  EXPECT_TRUE(nothing.available(Method::auto_));
  EXPECT_NE(nothing.unavailable_reason(Method::latent2rgb).find("fit-preview"), std::string::npos);
  EXPECT_NE(nothing.unavailable_reason(Method::vae), "");
}

}  // namespace
}  // namespace darkroom::preview
