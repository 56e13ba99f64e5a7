#pragma once
// An 8-bit image in memory, as the pipeline produces it and the encoders take it.
#include <cstdint>
#include <vector>

namespace darkroom::image {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;             // 3: RGB, 4: RGBA
  std::vector<uint8_t> pixels;  // height rows of width pixels, channels interleaved (HWC)
};

}  // namespace darkroom::image
