// save_single_file writes the LDM single-file layout that io::open_model reads back.
#include "darkroom/models/single_file.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <unistd.h>

#include "darkroom/io/model_source.hpp"
#include "darkroom/models/weights.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "support/golden.hpp"

namespace darkroom::models {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCheckpoint = "checkpoints/sd1_tiny.safetensors";

struct Sd1 {
  io::ModelSource source;
  UNet2DConditionModel unet{nullptr};
  AutoencoderKL vae{nullptr};
  ClipTextModel text_encoder{nullptr};
};

Sd1 load_sd1(const fs::path& file) {
  Sd1 m{io::open_model(file)};
  m.unet = load_unet(m.source.unet, m.source.unet_config);
  m.vae = load_vae(m.source.vae, m.source.vae_config);
  m.text_encoder = load_clip_text(m.source.text_encoder, m.source.text_config);
  return m;
}

// A file in the temporary directory, removed at the end of the test.
class SingleFile : public ::testing::Test {
 protected:
  fs::path temp(const std::string& name) {
    auto file = fs::temp_directory_path() / ("darkroom_single_file_" + std::to_string(::getpid()) + "_" + name);
    files_.push_back(file);
    return file;
  }
  void TearDown() override {
    for (const auto& file : files_) fs::remove(file);
  }

 private:
  std::vector<fs::path> files_;
};

TEST_F(SingleFile, SavingTheGoldenModelReproducesItsCheckpoint) {
  const auto model = load_sd1(golden::checkpoint("sd1_tiny"));
  const auto saved_path = temp("golden.safetensors");
  save_single_file(saved_path, model.unet, model.vae, model.text_encoder, torch::kFloat16, {{"note", "re-saved"}});

  const auto original = io::SafetensorsFile::open(golden::path(kCheckpoint));
  const auto saved = io::SafetensorsFile::open(saved_path);
  EXPECT_EQ(saved->metadata(), (std::map<std::string, std::string>{{"note", "re-saved"}}));
  // The original's only tensor that is not a weight: HF's position_ids, which our CLIP module does not hold.
  std::set<std::string> not_written;
  for (const auto& info : original->tensors()) {
    const auto* mine = saved->find(info.name);
    if (!mine) {
      not_written.insert(info.name);
      continue;
    }
    EXPECT_EQ(mine->dtype, io::DType::F16) << info.name;
    ASSERT_EQ(mine->dtype, info.dtype) << info.name;
    ASSERT_EQ(mine->shape, info.shape) << info.name;
    const auto a = original->bytes(info), b = saved->bytes(*mine);
    ASSERT_EQ(a.size(), b.size()) << info.name;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << info.name << " differs";
  }
  EXPECT_EQ(not_written, (std::set<std::string>{"cond_stage_model.transformer.text_model.embeddings.position_ids"}));
  EXPECT_EQ(saved->tensors().size(), original->tensors().size() - not_written.size());
}

void expect_same_weights(const io::WeightIndex& a, const io::WeightIndex& b, const char* component) {
  ASSERT_EQ(a.size(), b.size()) << component;
  for (const auto& [key, ref] : a.entries()) {
    const auto* other = b.find(key);
    ASSERT_NE(other, nullptr) << component << ": " << key;
    // Compared as the models load them; the mid-attention 1x1 convs load as Linear weights.
    const auto x = load_tensor(ref), y = load_tensor(*other);
    EXPECT_TRUE(torch::equal(x.reshape(-1), y.reshape(-1)) && x.numel() == y.numel()) << component << ": " << key;
  }
}

TEST_F(SingleFile, ASavedFileLoadsBackToTheSameModel) {
  const auto model = load_sd1(golden::checkpoint("sd1_tiny"));
  const auto saved_path = temp("reload.safetensors");
  save_single_file(saved_path, model.unet, model.vae, model.text_encoder);
  // The heads, which no tensor records, come from its model config, as the original's do.
  fs::copy_file(golden::checkpoints_dir() / "sd1_tiny.json", temp("reload.json"));

  const auto reloaded = io::open_model(saved_path);
  EXPECT_EQ(reloaded.family, io::ModelFamily::sd1);
  EXPECT_EQ(reloaded.unet_config, model.source.unet_config);
  EXPECT_EQ(reloaded.vae_config, model.source.vae_config);
  expect_same_weights(reloaded.unet, model.source.unet, "UNet");
  expect_same_weights(reloaded.vae, model.source.vae, "VAE");
  // The original's position_ids is the text encoder's one extra key, which no module reads.
  auto text_weights = model.source.text_encoder;
  text_weights.erase("text_model.embeddings.position_ids");
  expect_same_weights(reloaded.text_encoder, text_weights, "text encoder");

  // And the pipeline built on it generates the same image.
  pipeline::LoadOptions options;
  options.vocab = golden::path("clip/bpe_simple_vocab_16e6.txt.gz");
  const auto a = pipeline::StableDiffusion::load(golden::checkpoint("sd1_tiny"), options);
  const auto b = pipeline::StableDiffusion::load(saved_path, options);
  pipeline::GenerationRequest request;
  request.prompt = "a red apple on a wooden table";
  request.width = request.height = 64;
  request.steps = 3;
  request.seed = 42;
  const auto x = a->generate(request), y = b->generate(request);
  EXPECT_TRUE(torch::equal(x.latents, y.latents));
  ASSERT_EQ(x.images.size(), y.images.size());
  EXPECT_EQ(x.images[0].pixels, y.images[0].pixels);
}

// Architectures other than the golden one: the names written must read back to the module's own names
// and the config it was built from.
TEST_F(SingleFile, OtherArchitecturesRoundTrip) {
  io::UNetConfig unet_config;
  unet_config.block_out_channels = {32, 64, 64};
  unet_config.layers_per_block = 1;
  unet_config.cross_attention = {false, true, true};
  unet_config.transformer_layers = {0, 2, 1};
  unet_config.mid_transformer_layers = 2;
  unet_config.num_heads = {2, 2, 2};
  unet_config.cross_attention_dim = 32;
  unet_config.use_linear_projection = true;
  unet_config.addition_time_embed_dim = 8;
  unet_config.projection_class_embeddings_input_dim = 32 + 6 * 8;

  io::VaeConfig vae_config;
  vae_config.block_out_channels = {32, 64};
  vae_config.layers_per_block = 3;
  vae_config.use_quant_conv = false;

  io::ClipTextConfig clip_config;
  clip_config.vocab_size = 100;
  clip_config.context_length = 8;
  clip_config.width = 32;
  clip_config.heads = 4;
  clip_config.layers = 2;
  clip_config.intermediate_size = 64;
  clip_config.projection_dim = 16;

  for (const bool sdxl_like : {true, false}) {
    SCOPED_TRACE(sdxl_like ? "SDXL-like UNet" : "SD1-like UNet");
    if (!sdxl_like) {
      unet_config.block_out_channels = {32, 32};
      unet_config.layers_per_block = 3;
      unet_config.cross_attention = {true, false};
      unet_config.transformer_layers = {1, 0};
      unet_config.mid_transformer_layers = 1;
      unet_config.num_heads = {8, 8};
      unet_config.use_linear_projection = false;
      unet_config.addition_time_embed_dim = 0;
      unet_config.projection_class_embeddings_input_dim = 0;
      vae_config.block_out_channels = {32, 32, 64};
      vae_config.layers_per_block = 1;
      vae_config.use_quant_conv = true;
    }
    const UNet2DConditionModel unet(unet_config);
    const AutoencoderKL vae(vae_config);
    const ClipTextModel text_encoder(clip_config);
    const auto path = temp(sdxl_like ? "sdxl_like.safetensors" : "sd1_like.safetensors");
    save_single_file(path, unet, vae, text_encoder, torch::kFloat32);

    const auto file = io::WeightIndex::of(io::SafetensorsFile::open(path));
    const auto unet_weights = io::unet_from_ldm(file.under("model.diffusion_model."));
    const auto vae_weights = io::vae_from_ldm(file.under("first_stage_model."));
    const auto text_weights = file.under("cond_stage_model.transformer.");
    EXPECT_EQ(unet_weights.size() + vae_weights.size() + text_weights.size(), file.size());
    using Component = std::pair<const torch::nn::Module*, const io::WeightIndex*>;
    for (const auto& [module, weights] : std::vector<Component>{
             {unet.get(), &unet_weights}, {vae.get(), &vae_weights}, {text_encoder.get(), &text_weights}}) {
      const auto tensors = named_tensors(*module);
      EXPECT_EQ(tensors.size(), weights->size());
      for (const auto& [name, value] : tensors) {
        const auto* ref = weights->find(name);
        ASSERT_NE(ref, nullptr) << name;
        EXPECT_TRUE(torch::equal(load_tensor(*ref).reshape(value.sizes()), value)) << name;
      }
    }
    const int64_t heads = unet_config.num_heads[0];
    const int64_t time_ids_width = unet_config.addition_time_embed_dim;
    EXPECT_EQ(io::unet_config_from_weights(unet_weights, io::HeadRule::count(heads), time_ids_width), unet_config);
    EXPECT_EQ(io::vae_config_from_weights(vae_weights, vae_config.scaling_factor), vae_config);
  }
}

TEST_F(SingleFile, RejectsIntegerDtypes) {
  const auto model = load_sd1(golden::checkpoint("sd1_tiny"));
  EXPECT_THROW(save_single_file(temp("int.safetensors"), model.unet, model.vae, model.text_encoder, torch::kInt32),
               std::invalid_argument);
}

}  // namespace
}  // namespace darkroom::models
