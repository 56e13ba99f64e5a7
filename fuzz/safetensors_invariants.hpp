#pragma once
// What every accepted header must satisfy, whatever bytes produced it. A violation traps, so libFuzzer
// reports it like a crash.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "darkroom/io/safetensors.hpp"

namespace darkroom::fuzz {

inline void require(bool condition) {
  if (!condition) __builtin_trap();
}

inline void check_tensors(const std::vector<io::TensorInfo>& tensors, uint64_t data_size) {
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    require(i == 0 || tensors[i - 1].name < t.name);  // sorted, unique names
    require(t.begin <= t.end && t.end <= data_size);
    require(t.shape.size() <= 16 && std::all_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d >= 0; }));
    // numel() must not overflow (UBSan would report it) and must agree with the byte range.
    require(static_cast<unsigned __int128>(t.numel()) * io::dtype_size(t.dtype) == t.end - t.begin);
  }
  std::vector<const io::TensorInfo*> by_offset;
  for (const auto& t : tensors)
    if (t.end > t.begin) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) require(by_offset[i - 1]->end <= by_offset[i]->begin);
}

}  // namespace darkroom::fuzz
