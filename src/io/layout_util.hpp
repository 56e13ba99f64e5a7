#pragma once
// Helpers shared by the UNet and VAE layout readers (private to src/io).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/io/weight_index.hpp"

namespace darkroom::io::layout {

// "down_blocks." + 3 -> "down_blocks.3."
inline std::string index_prefix(std::string_view name, int64_t index) {
  return std::string(name) + std::to_string(index) + ".";
}

// Number of consecutive groups prefix0., prefix1., ... in the index.
inline int64_t count_indexed(const WeightIndex& weights, std::string_view prefix) {
  int64_t n = 0;
  while (weights.has_prefix(index_prefix(prefix, n))) ++n;
  return n;
}

// A config.json field, or nullptr when it is absent or null (diffusers writes null for "unset").
inline const nlohmann::json* field(const nlohmann::json& config, const char* name) {
  const auto it = config.find(name);
  return it == config.end() || it->is_null() ? nullptr : &*it;
}

// A typed field; std::invalid_argument naming the component and field when missing (without fallback)
// or of the wrong type.
template <typename T>
T get(const nlohmann::json& config, std::string_view component, const char* name,
      std::optional<T> fallback = std::nullopt) {
  const auto* value = field(config, name);
  if (!value) {
    if (fallback) return *fallback;
    throw std::invalid_argument(std::string(component) + " config: '" + name + "' is missing");
  }
  try {
    return value->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string(component) + " config: '" + name + "' has the wrong type");
  }
}

// A config field that the weights also determine must agree with them.
template <typename T>
void agree(const WeightIndex& weights, std::string_view component, const char* name, const T& from_config,
           const T& from_weights) {
  if (from_config != from_weights)
    throw ModelFileError(weights.primary_file(),
                         std::string(component) + " config '" + name + "' does not match the weights");
}

}  // namespace darkroom::io::layout
