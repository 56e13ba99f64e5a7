#include "darkroom/models/tiny_autoencoder.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "darkroom/io/safetensors.hpp"
#include "support/golden.hpp"

namespace darkroom::models {
namespace {

io::WeightIndex open(const std::string& relative) {
  return io::WeightIndex::of(io::SafetensorsFile::open(golden::path(relative)));
}

void expect_close(const std::string& what, const torch::Tensor& actual, const torch::Tensor& expected) {
  const auto c = golden::closeness(actual, expected);
  std::cout << "[ golden ] " << what << ": rel_l2 " << c.rel_l2 << " max_abs " << c.max_abs << "\n";
  EXPECT_TRUE(golden::component_close(actual, expected)) << what;
}

// taesd.py scale_latents then 8-bit rounding: the latent-PNG convention.
torch::Tensor latent_to_u8(const torch::Tensor& latent) {
  return (latent / 6 + 0.5).clamp(0, 1).mul(255).round().to(torch::kUInt8);
}

class TinyAutoencoder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { at::set_num_threads(2); }
};

void check_random_tiny(const std::string& name, TinyEncoder encoder, TinyDecoder decoder) {
  auto golden = golden::load("taesd/taesd_tiny_random_golden.safetensors");
  expect_close(name + " decoded", decoder->forward(golden.at("latent")), golden.at("decoded"));
  const auto encoded = encoder->forward(golden.at("image"));
  expect_close(name + " encoded", encoded, golden.at("encoded"));
  // The README's 8-bit criterion: at most 1 LSB, on at most 0.1 % of the values.
  const auto diff = (latent_to_u8(encoded).to(torch::kInt) - golden.at("scaled_latent_u8").to(torch::kInt)).abs();
  const auto off = diff.gt(0).sum().item<int64_t>();
  std::cout << "[ golden ] " << name << " scaled_latent_u8: " << off << " of " << diff.numel()
            << " values differ, max " << diff.max().item<int>() << " LSB\n";
  EXPECT_LE(diff.max().item<int>(), 1);
  EXPECT_LE(off * 1000, diff.numel());
}

TEST_F(TinyAutoencoder, RandomTinyTaesdLayout) {
  check_random_tiny("taesd_layout", load_tiny_encoder(open("taesd/taesd_tiny_random_encoder.safetensors")),
                    load_tiny_decoder(open("taesd/taesd_tiny_random_decoder.safetensors")));
}

TEST_F(TinyAutoencoder, RandomTinyDiffusersLayout) {
  const auto weights = open("taesd/taesd_tiny_random.diffusers.safetensors");
  check_random_tiny("diffusers_layout", load_tiny_encoder(weights), load_tiny_decoder(weights));
}

TEST_F(TinyAutoencoder, Taef2RealWeights) {
  auto encoder = load_tiny_encoder(open("taesd/taef2_encoder.safetensors"));
  auto decoder = load_tiny_decoder(open("taesd/taef2_decoder.safetensors"));
  auto golden = golden::load("taesd/taef2_golden.safetensors");
  expect_close("taef2 decoded", decoder->forward(golden.at("latent")), golden.at("decoded"));
  const auto encoded = encoder->forward(golden.at("image"));
  expect_close("taef2 encoded", encoded, golden.at("encoded"));
  expect_close("taef2 roundtrip", decoder->forward(encoded), golden.at("roundtrip"));
}

TEST_F(TinyAutoencoder, ModuleNamesAreTaesdKeys) {
  for (const char* file : {"taesd/taesd_tiny_random_encoder.safetensors", "taesd/taef2_encoder.safetensors"}) {
    const auto weights = open(file);
    TinyEncoder encoder(io::tiny_encoder_config(weights));
    EXPECT_EQ(encoder->named_parameters().size(), weights.size()) << file;
    for (const auto& item : encoder->named_parameters()) EXPECT_TRUE(weights.contains(item.key())) << item.key();
  }
  for (const char* file : {"taesd/taesd_tiny_random_decoder.safetensors", "taesd/taef2_decoder.safetensors"}) {
    const auto weights = open(file);
    TinyDecoder decoder(io::tiny_decoder_config(weights));
    EXPECT_EQ(decoder->named_parameters().size(), weights.size()) << file;
    for (const auto& item : decoder->named_parameters()) EXPECT_TRUE(weights.contains(item.key())) << item.key();
  }
}

TEST_F(TinyAutoencoder, MissingTensorIsNamed) {
  auto weights = open("taesd/taef2_decoder.safetensors");
  weights.erase("4.pool.1.bias");
  try {
    load_tiny_decoder(weights);
    FAIL() << "expected ModelFileError";
  } catch (const io::ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("4.pool.1.bias"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("taef2_decoder.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace darkroom::models
