#include "darkroom/models/vae.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "darkroom/io/vae_layout.hpp"
#include "support/golden.hpp"

namespace darkroom::models {
namespace {

io::WeightIndex open(const char* relative) {
  return io::WeightIndex::of(io::SafetensorsFile::open(golden::path(relative)));
}

::testing::AssertionResult close(const std::string& what, const torch::Tensor& actual, const torch::Tensor& expected) {
  const auto c = golden::closeness(actual, expected);
  std::cout << "  " << what << ": rel_l2 " << c.rel_l2 << " max_abs " << c.max_abs << "\n";
  auto result = golden::component_close(actual, expected);
  if (!result) result << " (" << what << ")";
  return result;
}

// Both layouts of the same weights, each with its own loader path.
class VaeGolden : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    at::set_num_threads(2);
    const auto ldm = io::vae_from_ldm(open("checkpoints/sd1_tiny.safetensors").under("first_stage_model."));
    single_file_ = load_vae(ldm, io::vae_config_from_weights(ldm, 0.18215));
    const auto diffusers = open("models/vae_tiny.diffusers.safetensors");
    const auto config = nlohmann::json::parse(std::ifstream(golden::path("models/vae_tiny.config.json")));
    diffusers_ = load_vae(diffusers, io::vae_config_from_diffusers(config, diffusers));
  }
  static void TearDownTestSuite() { single_file_ = diffusers_ = AutoencoderKL{nullptr}; }

  static AutoencoderKL& vae() { return std::string(GetParam()) == "single_file" ? single_file_ : diffusers_; }

  static AutoencoderKL single_file_, diffusers_;
};
AutoencoderKL VaeGolden::single_file_{nullptr}, VaeGolden::diffusers_{nullptr};

TEST_P(VaeGolden, Decode) {
  torch::NoGradGuard no_grad;
  auto g = golden::load("vae/vae_tiny_decode.safetensors");
  ActivationTaps taps;
  const auto out = vae()->decode(g.at("latent"), &taps);
  std::cout << "vae decode (" << GetParam() << ")\n";
  for (const char* stage :
       {"post_quant_conv", "decoder_conv_in", "decoder_mid_block", "decoder_up_blocks_0", "decoder_up_blocks_1"})
    ASSERT_TRUE(close(stage, taps.at(stage), g.at(std::string("debug_") + stage)));
  EXPECT_TRUE(close("out", out, g.at("out")));
}

TEST_P(VaeGolden, DecodeNonSquare) {
  torch::NoGradGuard no_grad;
  auto g = golden::load("vae/vae_tiny_decode_nonsquare.safetensors");
  std::cout << "vae decode nonsquare (" << GetParam() << ")\n";
  EXPECT_TRUE(close("out", vae()->decode(g.at("latent")), g.at("out")));
}

TEST_P(VaeGolden, Encode) {
  torch::NoGradGuard no_grad;
  auto g = golden::load("vae/vae_tiny_encode.safetensors");
  ActivationTaps taps;
  const auto dist = vae()->encode(g.at("image"), &taps);
  std::cout << "vae encode (" << GetParam() << ")\n";
  for (const char* stage : {"encoder_down_blocks_0", "encoder_down_blocks_1", "encoder_down_blocks_2",
                            "encoder_down_blocks_3", "encoder_mid_block"})
    ASSERT_TRUE(close(stage, taps.at(stage), g.at(std::string("debug_") + stage)));
  EXPECT_TRUE(close("moments", taps.at("moments"), g.at("moments")));
  EXPECT_TRUE(close("mean", dist.mean, g.at("mean")));
  EXPECT_TRUE(close("logvar", dist.logvar, g.at("logvar")));
  EXPECT_TRUE(close("std", dist.std(), g.at("std")));

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1032);
  EXPECT_TRUE(close("sample", dist.sample(generator), g.at("sample")));
  // The noise itself is the same draw, bit for bit.
  at::Generator again = at::make_generator<at::CPUGeneratorImpl>(1032);
  EXPECT_TRUE(torch::equal(torch::randn(dist.mean.sizes(), again), g.at("sample_noise")));
}

INSTANTIATE_TEST_SUITE_P(Layouts, VaeGolden, ::testing::Values("single_file", "diffusers"),
                         [](const auto& info) { return std::string(info.param); });

TEST(VaeLoad, BadInputsAreNamed) {
  torch::NoGradGuard no_grad;
  const auto weights = open("models/vae_tiny.diffusers.safetensors");
  auto vae = load_vae(weights, io::vae_config_from_weights(weights, 0.18215));
  EXPECT_THROW(vae->decode(torch::randn({1, 3, 8, 8})), std::invalid_argument);
  EXPECT_THROW(vae->encode(torch::randn({1, 4, 64, 64})), std::invalid_argument);

  auto config = io::vae_config_from_weights(weights, 0.18215);
  config.latent_channels = 8;
  EXPECT_THROW(load_vae(weights, config), io::ModelFileError);
}

}  // namespace
}  // namespace darkroom::models
