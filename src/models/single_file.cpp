#include "darkroom/models/single_file.hpp"

#include <string_view>

#include "darkroom/io/unet_layout.hpp"
#include "darkroom/io/vae_layout.hpp"
#include "darkroom/models/weights.hpp"

namespace darkroom::models {
namespace {

// The component prefixes of an SD1 single file, as io::open_model reads them.
constexpr std::string_view kUnet = "model.diffusion_model.";
constexpr std::string_view kVae = "first_stage_model.";
constexpr std::string_view kTextEncoder = "cond_stage_model.transformer.";

// LDM's VAE attention projects with 1x1 convs where our module (like diffusers) has Linear layers.
torch::Tensor as_ldm_vae_tensor(std::string_view ldm_name, const torch::Tensor& value) {
  const bool mid_attention = ldm_name.find(".mid.attn_1.") != std::string_view::npos;
  return mid_attention && value.dim() == 2 ? value.reshape({value.size(0), value.size(1), 1, 1}) : value;
}

}  // namespace

void save_single_file(const std::filesystem::path& path, const UNet2DConditionModel& unet, const AutoencoderKL& vae,
                      const ClipTextModel& text_encoder, torch::ScalarType dtype,
                      const std::map<std::string, std::string>& metadata) {
  // Sorted by name, as safetensors writers usually lay files out.
  std::map<std::string, torch::Tensor> named;
  for (const auto& [name, value] : named_tensors(*unet))
    named.emplace(std::string(kUnet) + io::unet_key_to_ldm(name, unet->config()), value);
  for (const auto& [name, value] : named_tensors(*vae)) {
    const std::string ldm = io::vae_key_to_ldm(name, vae->config());
    named.emplace(std::string(kVae) + ldm, as_ldm_vae_tensor(ldm, value));
  }
  for (const auto& [name, value] : named_tensors(*text_encoder)) named.emplace(std::string(kTextEncoder) + name, value);
  save_tensors(path, NamedTensors(named.begin(), named.end()), dtype, metadata);
}

}  // namespace darkroom::models
