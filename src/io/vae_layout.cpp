#include "darkroom/io/vae_layout.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "layout_util.hpp"

namespace darkroom::io {
namespace {

using layout::count_indexed;
using layout::field;
using layout::index_prefix;

constexpr std::string_view kComponent = "VAE";

template <typename T>
T get(const nlohmann::json& config, const char* name, std::optional<T> fallback = std::nullopt) {
  return layout::get<T>(config, kComponent, name, fallback);
}

template <typename T>
void agree(const WeightIndex& w, const char* name, const T& from_config, const T& from_weights) {
  layout::agree(w, kComponent, name, from_config, from_weights);
}

using PrefixTable = std::vector<std::pair<std::string, std::string>>;  // LDM prefix -> diffusers prefix

// Every parameter-holding module of a resnet, so that the table names whole modules.
void add_resnet(PrefixTable& table, const std::string& from, const std::string& to) {
  for (const char* module : {"norm1.", "conv1.", "norm2.", "conv2."}) table.emplace_back(from + module, to + module);
  table.emplace_back(from + "nin_shortcut.", to + "conv_shortcut.");
}

// The mid block of either half: block_1, attn_1 (1x1 convs q/k/v/proj_out), block_2.
void add_mid_block(PrefixTable& table, const std::string& side) {
  add_resnet(table, side + "mid.block_1.", side + "mid_block.resnets.0.");
  add_resnet(table, side + "mid.block_2.", side + "mid_block.resnets.1.");
  const std::string attn = side + "mid_block.attentions.0.";
  table.emplace_back(side + "mid.attn_1.norm.", attn + "group_norm.");
  table.emplace_back(side + "mid.attn_1.q.", attn + "to_q.");
  table.emplace_back(side + "mid.attn_1.k.", attn + "to_k.");
  table.emplace_back(side + "mid.attn_1.v.", attn + "to_v.");
  table.emplace_back(side + "mid.attn_1.proj_out.", attn + "to_out.0.");
}

// The block structure in LDM numbering (decoder levels by resolution, up.0 the highest).
struct LdmStructure {
  std::vector<int64_t> down_resnets, up_resnets;  // resnets per level
  std::vector<bool> downsamples, upsamples;       // per level: has a downsample / upsample conv
};

LdmStructure structure_of_checkpoint(const WeightIndex& ldm) {
  LdmStructure s;
  for (int64_t i = 0, n = count_indexed(ldm, "encoder.down."); i < n; ++i) {
    const std::string level = index_prefix("encoder.down.", i);
    s.down_resnets.push_back(count_indexed(ldm, level + "block."));
    s.downsamples.push_back(ldm.has_prefix(level + "downsample."));
  }
  for (int64_t i = 0, n = count_indexed(ldm, "decoder.up."); i < n; ++i) {
    const std::string level = index_prefix("decoder.up.", i);
    s.up_resnets.push_back(count_indexed(ldm, level + "block."));
    s.upsamples.push_back(ldm.has_prefix(level + "upsample."));
  }
  return s;
}

LdmStructure structure_of_config(const VaeConfig& c) {
  const auto levels = c.block_out_channels.size();
  LdmStructure s{std::vector<int64_t>(levels, c.layers_per_block), std::vector<int64_t>(levels, c.layers_per_block + 1),
                 std::vector<bool>(levels, true), std::vector<bool>(levels, true)};
  if (levels > 0) {
    s.downsamples.back() = false;  // the lowest resolution neither downsamples nor, in the decoder, upsamples
    s.upsamples.front() = false;   // LDM up.0 is the highest resolution, the last to run
  }
  return s;
}

PrefixTable ldm_prefixes(const LdmStructure& s, bool quant_conv) {
  PrefixTable table = {
      {"encoder.conv_in.", "encoder.conv_in."},
      {"encoder.conv_out.", "encoder.conv_out."},
      {"encoder.norm_out.", "encoder.conv_norm_out."},
      {"decoder.conv_in.", "decoder.conv_in."},
      {"decoder.conv_out.", "decoder.conv_out."},
      {"decoder.norm_out.", "decoder.conv_norm_out."},
  };
  if (quant_conv) {
    table.emplace_back("quant_conv.", "quant_conv.");
    table.emplace_back("post_quant_conv.", "post_quant_conv.");
  }
  add_mid_block(table, "encoder.");
  add_mid_block(table, "decoder.");

  for (int64_t i = 0; i < static_cast<int64_t>(s.down_resnets.size()); ++i) {
    const std::string from = index_prefix("encoder.down.", i), to = index_prefix("encoder.down_blocks.", i);
    for (int64_t j = 0; j < s.down_resnets[i]; ++j)
      add_resnet(table, from + index_prefix("block.", j), to + index_prefix("resnets.", j));
    if (s.downsamples[i]) table.emplace_back(from + "downsample.conv.", to + "downsamplers.0.conv.");
  }
  // The LDM decoder numbers its levels by resolution (up.0 is the last to run); diffusers by execution.
  const auto up = static_cast<int64_t>(s.up_resnets.size());
  for (int64_t i = 0; i < up; ++i) {
    const std::string from = index_prefix("decoder.up.", i), to = index_prefix("decoder.up_blocks.", up - 1 - i);
    for (int64_t j = 0; j < s.up_resnets[i]; ++j)
      add_resnet(table, from + index_prefix("block.", j), to + index_prefix("resnets.", j));
    if (s.upsamples[i]) table.emplace_back(from + "upsample.conv.", to + "upsamplers.0.conv.");
  }
  return table;
}

ModelFileError inconsistent(const WeightIndex& w, const std::string& problem) {
  return ModelFileError(w.primary_file(), "VAE weights: " + problem);
}

void require_mid_block(const WeightIndex& w, const std::string& side) {
  if (count_indexed(w, side + "mid_block.resnets.") != 2 || count_indexed(w, side + "mid_block.attentions.") != 1)
    throw inconsistent(w, side + "mid_block must have two resnets around one attention");
}

}  // namespace

WeightIndex vae_from_ldm(const WeightIndex& ldm) {
  const auto table = ldm_prefixes(structure_of_checkpoint(ldm), /*quant_conv=*/true);
  WeightIndex out;
  for (const auto& [key, ref] : ldm.entries()) {
    if (key.starts_with("loss.")) continue;
    const std::pair<std::string, std::string>* best = nullptr;
    for (const auto& entry : table)
      if (key.starts_with(entry.first) && (!best || entry.first.size() > best->first.size())) best = &entry;
    if (!best) throw ModelFileError(ldm.primary_file(), "VAE checkpoint: unexpected tensor '" + key + "'");
    out.set(best->second + key.substr(best->first.size()), ref);
  }
  return out;
}

std::string vae_key_to_ldm(std::string_view diffusers_key, const VaeConfig& config) {
  const std::size_t dot = diffusers_key.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string_view module = diffusers_key.substr(0, dot + 1), parameter = diffusers_key.substr(dot + 1);
    if (parameter == "weight" || parameter == "bias")
      for (const auto& [ldm, diffusers] : ldm_prefixes(structure_of_config(config), config.use_quant_conv))
        if (diffusers == module) return ldm + std::string(parameter);
  }
  throw std::invalid_argument("VAE: '" + std::string(diffusers_key) + "' is not a parameter of this architecture");
}

VaeConfig vae_config_from_weights(const WeightIndex& w, double scaling_factor) {
  VaeConfig c;
  c.in_channels = w.shape("encoder.conv_in.weight").at(1);
  c.out_channels = w.shape("decoder.conv_out.weight").at(0);
  c.latent_channels = w.shape("decoder.conv_in.weight").at(1);
  if (w.shape("encoder.conv_out.weight").at(0) != 2 * c.latent_channels)
    throw inconsistent(w, "encoder.conv_out must produce mean and log-variance for every latent channel");
  c.scaling_factor = scaling_factor;

  const int64_t levels = count_indexed(w, "encoder.down_blocks.");
  if (levels == 0) throw inconsistent(w, "no encoder.down_blocks.0");
  if (count_indexed(w, "decoder.up_blocks.") != levels) throw inconsistent(w, "encoder and decoder depths differ");
  c.layers_per_block = count_indexed(w, "encoder.down_blocks.0.resnets.");
  for (int64_t i = 0; i < levels; ++i) {
    const std::string p = index_prefix("encoder.down_blocks.", i);
    if (count_indexed(w, p + "resnets.") != c.layers_per_block)
      throw inconsistent(w, p + "resnets: expected " + std::to_string(c.layers_per_block));
    c.block_out_channels.push_back(w.shape(p + "resnets.0.conv2.weight").at(0));
    if (w.has_prefix(p + "downsamplers.0.") != (i + 1 < levels))
      throw inconsistent(w, p + "downsamplers: every level but the last downsamples");
  }
  for (int64_t i = 0; i < levels; ++i) {
    const std::string p = index_prefix("decoder.up_blocks.", i);
    if (count_indexed(w, p + "resnets.") != c.layers_per_block + 1)
      throw inconsistent(w, p + "resnets: expected " + std::to_string(c.layers_per_block + 1));
    if (w.shape(p + "resnets.0.conv2.weight").at(0) != c.block_out_channels[levels - 1 - i])
      throw inconsistent(w, p + "resnets.0 width does not mirror the encoder");
    if (w.has_prefix(p + "upsamplers.0.") != (i + 1 < levels))
      throw inconsistent(w, p + "upsamplers: every level but the last upsamples");
  }
  require_mid_block(w, "encoder.");
  require_mid_block(w, "decoder.");
  c.use_quant_conv = w.contains("quant_conv.weight");
  if (w.contains("post_quant_conv.weight") != c.use_quant_conv)
    throw inconsistent(w, "quant_conv and post_quant_conv must come together");
  return c;
}

VaeConfig vae_config_from_diffusers(const nlohmann::json& config, const WeightIndex& w) {
  if (const auto* name = field(config, "_class_name"); name && *name != "AutoencoderKL")
    throw std::invalid_argument("VAE config: '_class_name' = " + name->dump() + " is not an AutoencoderKL");
  if (get<std::string>(config, "act_fn", std::string("silu")) != "silu")
    throw std::invalid_argument("VAE config: only act_fn 'silu' is supported");
  if (!get<bool>(config, "mid_block_add_attention", true))
    throw std::invalid_argument("VAE config: mid_block_add_attention false is not supported");
  for (const auto& type : get<std::vector<std::string>>(config, "down_block_types", std::vector<std::string>{}))
    if (type != "DownEncoderBlock2D") throw std::invalid_argument("VAE config: unsupported down block " + type);
  for (const auto& type : get<std::vector<std::string>>(config, "up_block_types", std::vector<std::string>{}))
    if (type != "UpDecoderBlock2D") throw std::invalid_argument("VAE config: unsupported up block " + type);

  auto c = vae_config_from_weights(w, get<double>(config, "scaling_factor", 0.18215));
  c.shift_factor = get<double>(config, "shift_factor", 0.0);
  c.norm_groups = get<int64_t>(config, "norm_num_groups", 32);
  agree(w, "in_channels", get<int64_t>(config, "in_channels", 3), c.in_channels);
  agree(w, "out_channels", get<int64_t>(config, "out_channels", 3), c.out_channels);
  agree(w, "latent_channels", get<int64_t>(config, "latent_channels", 4), c.latent_channels);
  agree(w, "block_out_channels", get<std::vector<int64_t>>(config, "block_out_channels"), c.block_out_channels);
  agree(w, "layers_per_block", get<int64_t>(config, "layers_per_block"), c.layers_per_block);
  agree(w, "use_quant_conv", get<bool>(config, "use_quant_conv", true), c.use_quant_conv);
  agree(w, "use_post_quant_conv", get<bool>(config, "use_post_quant_conv", true), c.use_quant_conv);
  return c;
}

}  // namespace darkroom::io
