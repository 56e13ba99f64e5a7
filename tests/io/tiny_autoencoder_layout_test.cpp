#include "darkroom/io/tiny_autoencoder_layout.hpp"

#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace darkroom::io {
namespace {

WeightIndex open(const char* relative) { return WeightIndex::of(SafetensorsFile::open(golden::path(relative))); }

TEST(TinyAutoencoderLayout, ConfigFromWeights) {
  const auto taesd_enc = tiny_encoder_config(open("taesd/taesd_tiny_random_encoder.safetensors"));
  EXPECT_EQ(taesd_enc.latent_channels, 4);
  EXPECT_FALSE(taesd_enc.use_midblock_gn);
  const auto taesd_dec = tiny_decoder_config(open("taesd/taesd_tiny_random_decoder.safetensors"));
  EXPECT_EQ(taesd_dec.latent_channels, 4);
  EXPECT_FALSE(taesd_dec.use_midblock_gn);

  const auto taef2_enc = tiny_encoder_config(open("taesd/taef2_encoder.safetensors"));
  EXPECT_EQ(taef2_enc.latent_channels, 32);
  EXPECT_TRUE(taef2_enc.use_midblock_gn);
  const auto taef2_dec = tiny_decoder_config(open("taesd/taef2_decoder.safetensors"));
  EXPECT_EQ(taef2_dec.latent_channels, 32);
  EXPECT_TRUE(taef2_dec.use_midblock_gn);
}

// The diffusers file holds the same tensors as the two taesd.py files, under shifted names.
void expect_same_tensors(const WeightIndex& converted, const WeightIndex& taesd) {
  ASSERT_EQ(converted.size(), taesd.size());
  for (const auto& [key, ref] : taesd.entries()) {
    ASSERT_TRUE(converted.contains(key)) << key;
    EXPECT_EQ(converted.shape(key), ref.shape()) << key;
    const auto a = converted.at(key).file->bytes(*converted.at(key).info);
    const auto b = ref.file->bytes(*ref.info);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << key;
  }
}

TEST(TinyAutoencoderLayout, DiffusersToTaesd) {
  const auto diffusers = open("taesd/taesd_tiny_random.diffusers.safetensors");
  expect_same_tensors(tiny_encoder_to_taesd(diffusers), open("taesd/taesd_tiny_random_encoder.safetensors"));
  expect_same_tensors(tiny_decoder_to_taesd(diffusers), open("taesd/taesd_tiny_random_decoder.safetensors"));
}

TEST(TinyAutoencoderLayout, TaesdIsUnchanged) {
  const auto decoder = open("taesd/taef2_decoder.safetensors");
  EXPECT_EQ(tiny_decoder_to_taesd(decoder).size(), decoder.size());
  EXPECT_TRUE(tiny_decoder_to_taesd(decoder).contains("3.pool.0.weight"));
}

TEST(TinyAutoencoderLayout, WrongFileIsNamed) {
  const auto clip = open("models/clip_tiny_gelu.hf.safetensors");
  try {
    tiny_decoder_config(tiny_decoder_to_taesd(clip));
    FAIL() << "expected ModelFileError";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("clip_tiny_gelu.hf.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'1.weight'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace darkroom::io
