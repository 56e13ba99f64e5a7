// libFuzzer target for the safetensors header parser.
// Input: the data-section size as 8 bytes little-endian, then the JSON header text.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "darkroom/io/safetensors.hpp"
#include "safetensors_invariants.hpp"
#include "safetensors_mutator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint64_t data_size = darkroom::fuzz::read_u64_le(data);
  const std::string_view json(reinterpret_cast<const char*>(data + 8), size - 8);
  try {
    const auto header = darkroom::io::parse_safetensors_header(json, data_size);
    darkroom::fuzz::check_tensors(header.tensors, data_size);
  } catch (const std::invalid_argument&) {
    // The documented rejection of a bad header.
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return darkroom::fuzz::mutate(data, size, max_size, seed, [](std::string_view input, std::minstd_rand& rng) {
    if (input.size() < 8) return std::string();
    uint64_t data_size = darkroom::fuzz::read_u64_le(reinterpret_cast<const uint8_t*>(input.data()));
    auto header = nlohmann::json::parse(input.substr(8));
    if (!header.is_object()) return std::string();
    darkroom::fuzz::mutate_header(header, data_size, rng);
    return darkroom::fuzz::u64_le(data_size) + header.dump();
  });
}
