#include "darkroom/io/unet_layout.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "layout_util.hpp"

namespace darkroom::io {
namespace {

using layout::count_indexed;
using layout::field;
using layout::index_prefix;

// ---- LDM -> diffusers ----------------------------------------------------------------------------

// What an LDM unit (`input_blocks.k.s`, `middle_block.s`, ...) becomes in diffusers, and how the
// parameter names below it change.
enum class Part { plain, resnet, downsampler, upsampler };
struct Target {
  Part part;
  std::string prefix;  // diffusers prefix, ending in '.'
};

// LDM ResBlock -> diffusers ResnetBlock2D (in_layers = GroupNorm, SiLU, conv; out_layers = GroupNorm,
// SiLU, dropout, conv).
constexpr std::pair<std::string_view, std::string_view> kResnetNames[] = {
    {"in_layers.0.", "norm1."},  {"in_layers.2.", "conv1."},  {"emb_layers.1.", "time_emb_proj."},
    {"out_layers.0.", "norm2."}, {"out_layers.3.", "conv2."}, {"skip_connection.", "conv_shortcut."},
};

std::optional<int64_t> parse_index(std::string_view s) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// One past the largest k among keys `name.k.*`.
int64_t block_count(const WeightIndex& ldm, std::string_view name) {
  int64_t n = 0;
  const auto blocks = ldm.under(std::string(name) + ".");
  for (const auto& [key, ref] : blocks.entries()) {
    if (auto k = parse_index(key.substr(0, key.find('.')))) n = std::max(n, *k + 1);
  }
  return n;
}

// Walks the block structure: input block k >= 1 is a downsampler (`k.0.op`) that closes a level, or a
// resnet (`k.0`) with an optional transformer (`k.1`); output block k is a resnet, an optional
// transformer and an optional upsampler (`k.1.conv` or `k.2.conv`) that closes a level.
std::map<std::string, Target, std::less<>> ldm_units(const WeightIndex& ldm) {
  std::map<std::string, Target, std::less<>> units = {
      {"time_embed.0.", {Part::plain, "time_embedding.linear_1."}},
      {"time_embed.2.", {Part::plain, "time_embedding.linear_2."}},
      {"label_emb.0.0.", {Part::plain, "add_embedding.linear_1."}},
      {"label_emb.0.2.", {Part::plain, "add_embedding.linear_2."}},
      {"input_blocks.0.0.", {Part::plain, "conv_in."}},
      {"middle_block.0.", {Part::resnet, "mid_block.resnets.0."}},
      {"middle_block.1.", {Part::plain, "mid_block.attentions.0."}},
      {"middle_block.2.", {Part::resnet, "mid_block.resnets.1."}},
      {"out.0.", {Part::plain, "conv_norm_out."}},
      {"out.2.", {Part::plain, "conv_out."}},
  };

  int64_t level = 0, layer = 0;
  for (int64_t k = 1, n = block_count(ldm, "input_blocks"); k < n; ++k) {
    const std::string src = index_prefix("input_blocks.", k);
    const std::string dst = index_prefix("down_blocks.", level);
    if (ldm.has_prefix(src + "0.op.")) {
      units[src + "0."] = {Part::downsampler, dst + "downsamplers.0."};
      ++level;
      layer = 0;
      continue;
    }
    units[src + "0."] = {Part::resnet, dst + index_prefix("resnets.", layer)};
    units[src + "1."] = {Part::plain, dst + index_prefix("attentions.", layer)};
    ++layer;
  }

  level = 0;
  layer = 0;
  for (int64_t k = 0, n = block_count(ldm, "output_blocks"); k < n; ++k) {
    const std::string src = index_prefix("output_blocks.", k);
    const std::string dst = index_prefix("up_blocks.", level);
    units[src + "0."] = {Part::resnet, dst + index_prefix("resnets.", layer)};
    const bool upsampler_at_1 = ldm.has_prefix(src + "1.conv.");
    units[src + "1."] = upsampler_at_1 ? Target{Part::upsampler, dst + "upsamplers.0."}
                                       : Target{Part::plain, dst + index_prefix("attentions.", layer)};
    units[src + "2."] = {Part::upsampler, dst + "upsamplers.0."};
    ++layer;
    if (upsampler_at_1 || ldm.has_prefix(src + "2.conv.")) {
      ++level;
      layer = 0;
    }
  }
  return units;
}

// `input_blocks.4.1.proj_in.weight` -> unit `input_blocks.4.1.`, rest `proj_in.weight`.
std::pair<std::string_view, std::string_view> split_unit(std::string_view key) {
  const bool three =
      key.starts_with("input_blocks.") || key.starts_with("output_blocks.") || key.starts_with("label_emb.");
  std::size_t from = 0;
  for (int parts = three ? 3 : 2; parts > 0; --parts) {
    const std::size_t dot = key.find('.', from);
    if (dot == std::string_view::npos) return {{}, key};
    from = dot + 1;
  }
  return {key.substr(0, from), key.substr(from)};
}

std::optional<std::string> translate(const Target& target, std::string_view rest) {
  switch (target.part) {
    case Part::plain:
      return target.prefix + std::string(rest);
    case Part::resnet:
      for (const auto& [from, to] : kResnetNames)
        if (rest.starts_with(from)) return target.prefix + std::string(to) + std::string(rest.substr(from.size()));
      return std::nullopt;
    case Part::downsampler:
      if (!rest.starts_with("op.")) return std::nullopt;
      return target.prefix + "conv." + std::string(rest.substr(3));
    case Part::upsampler:
      if (!rest.starts_with("conv.")) return std::nullopt;
      return target.prefix + std::string(rest);
  }
  return std::nullopt;
}

// ---- diffusers -> LDM -----------------------------------------------------------------------------

// A diffusers module path and the LDM unit it is written to; the inverse of one ldm_units entry.
struct Source {
  std::string prefix;             // diffusers prefix, ending in '.'
  Part part;
  std::string ldm;                // LDM unit prefix, ending in '.'
  int64_t transformer_depth = 0;  // > 0: a Transformer2DModel with this many blocks
};

// The units a checkpoint of this architecture has, numbered as ldm_units reads them back.
std::vector<Source> diffusers_units(const UNetConfig& c) {
  std::vector<Source> units = {
      {"time_embedding.linear_1.", Part::plain, "time_embed.0."},
      {"time_embedding.linear_2.", Part::plain, "time_embed.2."},
      {"conv_in.", Part::plain, "input_blocks.0.0."},
      {"mid_block.resnets.0.", Part::resnet, "middle_block.0."},
      {"mid_block.attentions.0.", Part::plain, "middle_block.1.", c.mid_transformer_layers},
      {"mid_block.resnets.1.", Part::resnet, "middle_block.2."},
      {"conv_norm_out.", Part::plain, "out.0."},
      {"conv_out.", Part::plain, "out.2."},
  };
  if (c.projection_class_embeddings_input_dim > 0) {
    units.push_back({"add_embedding.linear_1.", Part::plain, "label_emb.0.0."});
    units.push_back({"add_embedding.linear_2.", Part::plain, "label_emb.0.2."});
  }
  const int64_t levels = c.levels();
  int64_t k = 1;
  for (int64_t i = 0; i < levels; ++i) {
    const std::string block = index_prefix("down_blocks.", i);
    for (int64_t j = 0; j < c.layers_per_block; ++j, ++k) {
      const std::string dst = index_prefix("input_blocks.", k);
      units.push_back({block + index_prefix("resnets.", j), Part::resnet, dst + "0."});
      if (c.cross_attention.at(i))
        units.push_back({block + index_prefix("attentions.", j), Part::plain, dst + "1.", c.transformer_layers.at(i)});
    }
    if (i + 1 < levels)
      units.push_back({block + "downsamplers.0.", Part::downsampler, index_prefix("input_blocks.", k++) + "0."});
  }
  k = 0;
  for (int64_t i = 0; i < levels; ++i) {
    const std::string block = index_prefix("up_blocks.", i);
    const int64_t level = levels - 1 - i;  // the down level this one mirrors
    for (int64_t j = 0; j <= c.layers_per_block; ++j, ++k) {
      const std::string dst = index_prefix("output_blocks.", k);
      units.push_back({block + index_prefix("resnets.", j), Part::resnet, dst + "0."});
      if (c.cross_attention.at(level))
        units.push_back(
            {block + index_prefix("attentions.", j), Part::plain, dst + "1.", c.transformer_layers.at(level)});
      if (j == c.layers_per_block && i + 1 < levels)
        units.push_back({block + "upsamplers.0.", Part::upsampler, dst + (c.cross_attention.at(level) ? "2." : "1.")});
    }
  }
  return units;
}

bool is_parameter(std::string_view name) { return name == "weight" || name == "bias"; }

// `norm.weight`, `proj_in.bias`, `transformer_blocks.0.attn2.to_k.weight`, ... of a Transformer2DModel
// with `depth` BasicTransformerBlocks.
bool is_transformer_parameter(std::string_view rest, int64_t depth) {
  for (std::string_view module : {"norm.", "proj_in.", "proj_out."})
    if (rest.starts_with(module)) return is_parameter(rest.substr(module.size()));
  constexpr std::string_view kBlocks = "transformer_blocks.";
  if (!rest.starts_with(kBlocks)) return false;
  rest.remove_prefix(kBlocks.size());
  const std::size_t dot = rest.find('.');
  const auto index = parse_index(rest.substr(0, dot));
  if (!index || *index >= depth || dot == std::string_view::npos) return false;
  rest.remove_prefix(dot + 1);
  for (std::string_view module : {"norm1.", "norm2.", "norm3.", "attn1.to_q.", "attn1.to_k.", "attn1.to_v.",
                                  "attn1.to_out.0.", "attn2.to_q.", "attn2.to_k.", "attn2.to_v.", "attn2.to_out.0.",
                                  "ff.net.0.proj.", "ff.net.2."})
    if (rest.starts_with(module)) return is_parameter(rest.substr(module.size()));
  return false;
}

// The LDM name of `rest` below a unit, or nullopt when no such parameter exists there.
std::optional<std::string> translate_back(const Source& unit, std::string_view rest) {
  switch (unit.part) {
    case Part::plain:
      if (unit.transformer_depth > 0 ? !is_transformer_parameter(rest, unit.transformer_depth) : !is_parameter(rest))
        return std::nullopt;
      return unit.ldm + std::string(rest);
    case Part::resnet:
      for (const auto& [from, to] : kResnetNames)
        if (rest.starts_with(to) && is_parameter(rest.substr(to.size())))
          return unit.ldm + std::string(from) + std::string(rest.substr(to.size()));
      return std::nullopt;
    case Part::downsampler:
    case Part::upsampler:
      if (!rest.starts_with("conv.") || !is_parameter(rest.substr(5))) return std::nullopt;
      return unit.ldm + (unit.part == Part::downsampler ? "op." : "conv.") + std::string(rest.substr(5));
  }
  return std::nullopt;
}

// ---- config from weights --------------------------------------------------------------------------

ModelFileError inconsistent(const WeightIndex& w, const std::string& problem) {
  return ModelFileError(w.primary_file(), "UNet weights: " + problem);
}

// Transformer blocks per Transformer2DModel under `prefix` (n attentions, which must agree).
int64_t transformer_depth(const WeightIndex& w, const std::string& prefix, int64_t attentions) {
  const int64_t depth = count_indexed(w, prefix + "0.transformer_blocks.");
  for (int64_t j = 0; j < attentions; ++j)
    if (count_indexed(w, prefix + index_prefix("", j) + "transformer_blocks.") != depth || depth == 0)
      throw inconsistent(w, prefix + std::to_string(j) + " has a different number of transformer blocks");
  return depth;
}

// Everything the shapes determine; heads and the time-id embedding width are left to the caller.
UNetConfig structure_from_weights(const WeightIndex& w) {
  UNetConfig c;
  c.in_channels = w.shape("conv_in.weight").at(1);
  c.out_channels = w.shape("conv_out.weight").at(0);
  const int64_t levels = count_indexed(w, "down_blocks.");
  if (levels == 0) throw inconsistent(w, "no down_blocks.0");
  if (count_indexed(w, "up_blocks.") != levels)
    throw inconsistent(w, std::to_string(levels) + " down blocks but " +
                              std::to_string(count_indexed(w, "up_blocks.")) + " up blocks");
  c.layers_per_block = count_indexed(w, "down_blocks.0.resnets.");

  for (int64_t i = 0; i < levels; ++i) {
    const std::string p = index_prefix("down_blocks.", i);
    if (count_indexed(w, p + "resnets.") != c.layers_per_block)
      throw inconsistent(w, p + "resnets: expected " + std::to_string(c.layers_per_block) + " resnets");
    c.block_out_channels.push_back(w.shape(p + "resnets.0.conv2.weight").at(0));
    if (w.has_prefix(p + "downsamplers.0.") != (i + 1 < levels))
      throw inconsistent(w, p + "downsamplers: every level but the last downsamples");
    const int64_t attentions = count_indexed(w, p + "attentions.");
    if (attentions != 0 && attentions != c.layers_per_block)
      throw inconsistent(w, p + "attentions: expected one per resnet");
    c.cross_attention.push_back(attentions > 0);
    c.transformer_layers.push_back(attentions ? transformer_depth(w, p + "attentions.", attentions) : 0);
  }

  for (int64_t i = 0; i < levels; ++i) {
    const int64_t level = levels - 1 - i;
    const std::string p = index_prefix("up_blocks.", i);
    if (count_indexed(w, p + "resnets.") != c.layers_per_block + 1)
      throw inconsistent(w, p + "resnets: expected " + std::to_string(c.layers_per_block + 1) + " resnets");
    if (w.shape(p + "resnets.0.conv2.weight").at(0) != c.block_out_channels[level])
      throw inconsistent(w, p + "resnets.0 width does not mirror down_blocks." + std::to_string(level));
    const int64_t attentions = count_indexed(w, p + "attentions.");
    if (attentions != (c.cross_attention[level] ? c.layers_per_block + 1 : 0))
      throw inconsistent(w, p + "attentions do not mirror down_blocks." + std::to_string(level));
    if (attentions && transformer_depth(w, p + "attentions.", attentions) != c.transformer_layers[level])
      throw inconsistent(w, p + "attentions: transformer depth does not mirror down_blocks." + std::to_string(level));
    if (w.has_prefix(p + "upsamplers.0.") != (i + 1 < levels))
      throw inconsistent(w, p + "upsamplers: every level but the last upsamples");
  }

  if (count_indexed(w, "mid_block.resnets.") != 2 || count_indexed(w, "mid_block.attentions.") != 1)
    throw inconsistent(w, "mid_block must have two resnets around one transformer");
  c.mid_transformer_layers = transformer_depth(w, "mid_block.attentions.", 1);
  c.cross_attention_dim = w.shape("mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight").at(1);
  c.use_linear_projection = w.shape("mid_block.attentions.0.proj_in.weight").size() == 2;

  const auto time = w.shape("time_embedding.linear_1.weight");
  if (time != std::vector<int64_t>{c.time_embed_dim(), c.block_out_channels[0]})
    throw inconsistent(w, "time_embedding.linear_1 must map block_out_channels[0] to 4x that width");
  if (const auto* add = w.find("add_embedding.linear_1.weight")) {
    const auto shape = add->shape();
    if (shape.size() != 2 || shape[0] != c.time_embed_dim())
      throw inconsistent(w, "add_embedding.linear_1 does not produce the time embedding width");
    c.projection_class_embeddings_input_dim = shape[1];
  }
  return c;
}

// `heads` per level; a level with attention must split into them (the mid block uses the last level's).
void resolve_heads(const WeightIndex& w, UNetConfig& c, const std::vector<int64_t>& heads, const std::string& split,
                   const std::string& origin) {
  c.num_heads = heads;
  for (int64_t i = 0; i < c.levels(); ++i) {
    const bool attends = c.cross_attention[i] || i + 1 == c.levels();
    if (attends && (heads[i] <= 0 || c.block_out_channels[i] % heads[i] != 0))
      throw inconsistent(w, "level " + std::to_string(i) + " has " + std::to_string(c.block_out_channels[i]) +
                                " channels, which do not split into " + split + (origin.empty() ? "" : " (" + origin + ")"));
  }
}

// ---- diffusers config.json ------------------------------------------------------------------------

std::invalid_argument bad_field(const char* name, const std::string& why) {
  return std::invalid_argument(std::string("UNet config: '") + name + "' " + why);
}

constexpr std::string_view kComponent = "UNet";

template <typename T>
T get(const nlohmann::json& config, const char* name, std::optional<T> fallback = std::nullopt) {
  return layout::get<T>(config, kComponent, name, fallback);
}

template <typename T>
void agree(const WeightIndex& w, const char* name, const T& from_config, const T& from_weights) {
  layout::agree(w, kComponent, name, from_config, from_weights);
}

// An int meaning "the same at every level", or one value per level.
std::vector<int64_t> per_level(const nlohmann::json& config, const char* name, int64_t levels) {
  const auto* value = field(config, name);
  if (!value) throw bad_field(name, "is missing");
  if (value->is_number_integer()) return std::vector<int64_t>(levels, value->get<int64_t>());
  const auto list = get<std::vector<int64_t>>(config, name);
  if (static_cast<int64_t>(list.size()) != levels)
    throw bad_field(name, "has " + std::to_string(list.size()) + " entries for " + std::to_string(levels) + " levels");
  return list;
}

// Settings of UNet2DConditionModel that change the arithmetic and that this implementation does not have.
void reject_unsupported(const nlohmann::json& config) {
  for (const char* name : {"class_embed_type", "time_cond_proj_dim", "encoder_hid_dim_type", "timestep_post_act",
                           "time_embedding_act_fn", "cross_attention_norm", "num_class_embeds"})
    if (field(config, name)) throw bad_field(name, "is not supported");
  for (const char* name : {"dual_cross_attention", "center_input_sample", "only_cross_attention"})
    if (const auto* value = field(config, name); value && *value != false) throw bad_field(name, "is not supported");
  const std::pair<const char*, nlohmann::json> expected[] = {
      {"flip_sin_to_cos", true},
      {"freq_shift", 0},
      {"act_fn", "silu"},
      {"resnet_time_scale_shift", "default"},
      {"time_embedding_type", "positional"},
      {"conv_in_kernel", 3},
      {"conv_out_kernel", 3},
      {"attention_type", "default"},
      {"mid_block_type", "UNetMidBlock2DCrossAttn"},
  };
  for (const auto& [name, want] : expected)
    if (const auto* value = field(config, name); value && *value != want)
      throw bad_field(name, "= " + value->dump() + " is not supported (only " + want.dump() + ")");
}

}  // namespace

WeightIndex unet_from_ldm(const WeightIndex& ldm) {
  const auto units = ldm_units(ldm);
  WeightIndex out;
  for (const auto& [key, ref] : ldm.entries()) {
    const auto [unit, rest] = split_unit(key);
    const auto it = units.find(unit);
    auto name = it == units.end() ? std::nullopt : translate(it->second, rest);
    if (!name) throw ModelFileError(ldm.primary_file(), "UNet checkpoint: unexpected tensor '" + key + "'");
    out.set(std::move(*name), ref);
  }
  return out;
}

std::string unet_key_to_ldm(std::string_view diffusers_key, const UNetConfig& config) {
  for (const auto& unit : diffusers_units(config)) {
    if (!diffusers_key.starts_with(unit.prefix)) continue;
    if (auto name = translate_back(unit, diffusers_key.substr(unit.prefix.size()))) return std::move(*name);
    break;  // unit prefixes never nest, so no other unit can hold the key
  }
  throw std::invalid_argument("UNet: '" + std::string(diffusers_key) + "' is not a parameter of this architecture");
}

UNetConfig unet_config_from_weights(const WeightIndex& diffusers, HeadRule heads, int64_t addition_time_embed_dim) {
  if (heads.heads.empty() == heads.head_width.empty())
    throw std::invalid_argument("HeadRule: give either head counts or head widths");
  auto c = structure_from_weights(diffusers);
  const bool by_count = !heads.heads.empty();
  const auto& rule = by_count ? heads.heads : heads.head_width;
  if (rule.size() != 1 && static_cast<int64_t>(rule.size()) != c.levels())
    throw inconsistent(diffusers, "the head rule has " + std::to_string(rule.size()) + " values for " +
                                      std::to_string(c.levels()) + " levels" +
                                      (heads.origin.empty() ? "" : " (" + heads.origin + ")"));
  std::vector<int64_t> counts;
  std::string split;
  for (int64_t i = 0; i < c.levels(); ++i) {
    const int64_t value = rule.size() == 1 ? rule[0] : rule[i];
    const int64_t width = c.block_out_channels[i];
    // 0 marks a width that does not split: an error where the level attends, unused elsewhere.
    counts.push_back(by_count ? value : (value > 0 && width % value == 0 ? width / value : 0));
  }
  for (const int64_t value : rule) split += (split.empty() ? "" : "/") + std::to_string(value);
  split = by_count ? split + " heads" : "heads of " + split + " channels";
  resolve_heads(diffusers, c, counts, split, heads.origin);
  if (c.projection_class_embeddings_input_dim > 0) {
    if (addition_time_embed_dim <= 0)
      throw std::invalid_argument("UNet: the add_embedding needs addition_time_embed_dim");
    c.addition_time_embed_dim = addition_time_embed_dim;
  }
  return c;
}

UNetConfig unet_config_from_diffusers(const nlohmann::json& config, const WeightIndex& diffusers) {
  if (const auto* name = field(config, "_class_name"); name && *name != "UNet2DConditionModel")
    throw bad_field("_class_name", "= " + name->dump() + " is not a UNet2DConditionModel");
  reject_unsupported(config);
  auto c = structure_from_weights(diffusers);
  const int64_t levels = c.levels();

  agree(diffusers, "in_channels", get<int64_t>(config, "in_channels"), c.in_channels);
  agree(diffusers, "out_channels", get<int64_t>(config, "out_channels"), c.out_channels);
  agree(diffusers, "block_out_channels", get<std::vector<int64_t>>(config, "block_out_channels"), c.block_out_channels);
  agree(diffusers, "layers_per_block", get<int64_t>(config, "layers_per_block"), c.layers_per_block);
  agree(diffusers, "cross_attention_dim", get<int64_t>(config, "cross_attention_dim"), c.cross_attention_dim);
  agree(diffusers, "use_linear_projection", get<bool>(config, "use_linear_projection", false), c.use_linear_projection);

  const auto down = get<std::vector<std::string>>(config, "down_block_types");
  const auto up = get<std::vector<std::string>>(config, "up_block_types");
  if (static_cast<int64_t>(down.size()) != levels || static_cast<int64_t>(up.size()) != levels)
    throw ModelFileError(diffusers.primary_file(), "UNet config block types do not match the weights' levels");
  for (int64_t i = 0; i < levels; ++i) {
    const auto& d = down[i];
    const auto& u = up[levels - 1 - i];
    if ((d != "CrossAttnDownBlock2D" && d != "DownBlock2D") || (u != "CrossAttnUpBlock2D" && u != "UpBlock2D"))
      throw bad_field("down_block_types", "has an unsupported block type at level " + std::to_string(i));
    agree(diffusers, "down_block_types", d == "CrossAttnDownBlock2D", static_cast<bool>(c.cross_attention[i]));
    agree(diffusers, "up_block_types", u == "CrossAttnUpBlock2D", static_cast<bool>(c.cross_attention[i]));
  }
  if (field(config, "transformer_layers_per_block")) {
    const auto depth = per_level(config, "transformer_layers_per_block", levels);
    for (int64_t i = 0; i < levels; ++i)
      if (c.cross_attention[i]) agree(diffusers, "transformer_layers_per_block", depth[i], c.transformer_layers[i]);
  }

  // diffusers' historical naming: attention_head_dim holds the number of heads.
  const char* heads = field(config, "num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
  const auto counts = per_level(config, heads, levels);
  resolve_heads(diffusers, c, counts, "the heads its config.json gives ('" + std::string(heads) + "')", "");
  c.norm_groups = get<int64_t>(config, "norm_num_groups", 32);
  c.norm_eps = get<double>(config, "norm_eps", 1e-5);

  const auto addition = get<std::string>(config, "addition_embed_type", std::string());
  if (addition != "" && addition != "text_time")
    throw bad_field("addition_embed_type", "= " + addition + " is not supported");
  agree(diffusers, "addition_embed_type", addition == "text_time", c.projection_class_embeddings_input_dim > 0);
  if (addition == "text_time") {
    c.addition_time_embed_dim = get<int64_t>(config, "addition_time_embed_dim");
    agree(diffusers, "projection_class_embeddings_input_dim",
          get<int64_t>(config, "projection_class_embeddings_input_dim"), c.projection_class_embeddings_input_dim);
  }
  return c;
}

}  // namespace darkroom::io
