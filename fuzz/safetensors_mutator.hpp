#pragma once
// A structure-aware mutation for safetensors headers. Byte-level mutation almost never turns a valid
// header into a subtly wrong one (two tensors sharing bytes, a shape one element too large, a dimension
// that overflows only in product), because that takes several coordinated edits of the JSON. This edits
// the parsed header instead; the fuzz targets use it for half of their mutations, libFuzzer's own byte
// mutations for the rest.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// libFuzzer's own byte-level mutator.
extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t max_size);

namespace darkroom::fuzz {

// Applies one random structural edit to `header` (a parsed header object) and may change `data_size`.
// Throws nlohmann::json::exception when the header is too unlike a safetensors header to edit.
inline void mutate_header(nlohmann::json& header, uint64_t& data_size, std::minstd_rand& rng) {
  static constexpr uint64_t kInteresting[] = {0, 1, 2, 3, 7, 8, 255, 65536, 1ull << 31, 1ull << 32, 1ull << 62,
                                              (1ull << 63) - 1, 1ull << 63, ~0ull};
  static constexpr std::pair<const char*, unsigned> kDTypes[] = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}};
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const auto interesting = [&] { return kInteresting[pick(std::size(kInteresting))]; };
  // get<uint64_t>() of a negative or fractional number is a conversion the sanitizers reject.
  const auto u64 = [](const nlohmann::json& v) { return v.is_number_unsigned() ? v.get<uint64_t>() : 0; };

  std::vector<std::string> names;
  for (const auto& [key, value] : header.items())
    if (key != "__metadata__" && value.is_object()) names.push_back(key);
  if (names.empty()) {
    header["t" + std::to_string(pick(4))] = {{"dtype", "U8"}, {"shape", {2}}, {"data_offsets", {0, 2}}};
    return;
  }
  auto& t = header[names[pick(names.size())]];
  auto& other = header[names[pick(names.size())]];
  switch (pick(9)) {
    case 0:  // share or straddle another tensor's bytes
      t["data_offsets"] = other.at("data_offsets");
      if (rng() % 2) t["data_offsets"][0] = u64(t["data_offsets"][0]) + 1;
      break;
    case 1:  // an interesting dimension
      if (!t.at("shape").empty()) t["shape"][pick(t["shape"].size())] = interesting();
      break;
    case 2:  // a negative or fractional dimension
      t["shape"].push_back(rng() % 2 ? nlohmann::json(-1) : nlohmann::json(1.5));
      break;
    case 3:  // make the byte range fit the shape exactly, or miss it by one
    {
      unsigned __int128 bytes = 1;
      for (const auto& [name, size] : kDTypes)
        if (t.at("dtype") == name) bytes = size;
      for (const auto& d : t.at("shape")) bytes *= u64(d);
      const uint64_t begin = u64(t.at("data_offsets").at(0));
      t["data_offsets"][1] = static_cast<uint64_t>(begin + bytes) + (rng() % 3 == 0 ? 1 : 0);
      break;
    }
    case 4:
      t["dtype"] = kDTypes[pick(std::size(kDTypes))].first;
      break;
    case 5:  // an offset at an interesting value
      t["data_offsets"][pick(2)] = interesting();
      break;
    case 6:  // the data section ends at, or just before, the end of the last tensor
    {
      uint64_t end = 0;
      for (const auto& name : names) end = std::max(end, u64(header[name].at("data_offsets").at(1)));
      data_size = end - (rng() % 3 == 0 && end > 0 ? 1 : 0);
      break;
    }
    case 7:  // a copy under another name
      header[names[pick(names.size())] + "_" + std::to_string(pick(10))] = t;
      break;
    case 8:  // metadata of the wrong type
      header["__metadata__"] = rng() % 2 ? nlohmann::json{{"format", 1}} : nlohmann::json{{"format", "pt"}};
      break;
  }
}

inline uint64_t read_u64_le(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

inline std::string u64_le(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// The body of LLVMFuzzerCustomMutator: half the time `edit(input, rng)` (a structural edit that returns
// the new input, or "" where it does not apply), otherwise and as a fallback libFuzzer's byte mutations.
template <typename Edit>
std::size_t mutate(uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed, Edit edit) {
  std::minstd_rand rng(seed);
  if (rng() % 2) {
    try {
      const std::string out = edit(std::string_view(reinterpret_cast<const char*>(data), size), rng);
      if (!out.empty() && out.size() <= max_size) {
        std::memcpy(data, out.data(), out.size());
        return out.size();
      }
    } catch (const nlohmann::json::exception&) {
      // Not a header we can edit; mutate the bytes instead.
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace darkroom::fuzz
