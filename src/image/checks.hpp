#pragma once
// Checks shared by the encoders and decoders, so every codec words the same problem the same way.
#include <string_view>

#include "darkroom/image/image.hpp"

namespace darkroom::image::detail {

// Decoders allocate the pixels before the data is checked, so a tiny hostile file could otherwise claim
// 1e6 x 1e6 pixels. 16384 is well beyond what the engine generates or upscales to (PNG uses the same bound).
inline constexpr int kMaxSide = 16384;

// Throws std::invalid_argument naming `function` unless `image` is a non-empty RGB or RGBA image whose
// pixel count matches its size, with no side above `max_side` (what the format can hold).
void check_image(const Image& image, std::string_view function, int max_side);
// Throws std::invalid_argument naming `function` unless quality is in 0..100.
void check_quality(int quality, std::string_view function);

}  // namespace darkroom::image::detail
