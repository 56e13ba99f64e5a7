#include "darkroom/image/resize.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "checks.hpp"

namespace darkroom::image {
namespace {

// The source pixels one output pixel covers along an axis, with the share of each.
struct Footprint {
  int first = 0;
  std::vector<float> weights;  // sum to 1
};

// Output pixel i covers source interval [i * scale, (i + 1) * scale); a source pixel j contributes the
// length of its overlap with it, [j, j + 1) intersected with that interval, divided by scale.
std::vector<Footprint> footprints(int source, int target) {
  const double scale = static_cast<double>(source) / target;
  std::vector<Footprint> out(target);
  for (int i = 0; i < target; ++i) {
    const double lo = i * scale;
    const double hi = std::min<double>(source, (i + 1) * scale);
    out[i].first = static_cast<int>(lo);
    for (int j = out[i].first; j < hi; ++j)
      out[i].weights.push_back(static_cast<float>((std::min<double>(hi, j + 1) - std::max<double>(lo, j)) / scale));
  }
  return out;
}

}  // namespace

Image resize_to_fit(const Image& image, int max_side) {
  detail::check_image(image, "resize_to_fit", INT32_MAX);
  if (max_side < 1)
    throw std::invalid_argument("resize_to_fit: max_side must be at least 1, not " + std::to_string(max_side));
  const int longer = std::max(image.width, image.height);
  if (longer <= max_side) return image;
  const auto fit = [&](int side) {
    return side == longer ? max_side
                          : std::max(1, static_cast<int>(std::lround(static_cast<double>(side) * max_side / longer)));
  };
  const int width = fit(image.width), height = fit(image.height), channels = image.channels;

  // Separable: average along rows into floats, then down the columns. The product of the two 1-D shares
  // is the 2-D overlap area, so this is the exact area average.
  const auto across = footprints(image.width, width);
  std::vector<float> rows(static_cast<std::size_t>(image.height) * width * channels, 0.0f);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* in = image.pixels.data() + static_cast<std::size_t>(y) * image.width * channels;
    float* out = rows.data() + static_cast<std::size_t>(y) * width * channels;
    for (int x = 0; x < width; ++x)
      for (std::size_t k = 0; k < across[x].weights.size(); ++k)
        for (int c = 0; c < channels; ++c)
          out[x * channels + c] += across[x].weights[k] * in[(across[x].first + k) * channels + c];
  }
  const auto down = footprints(image.height, height);
  const std::size_t row_size = static_cast<std::size_t>(width) * channels;
  Image result{width, height, channels, std::vector<uint8_t>(row_size * height)};
  std::vector<float> sum(row_size);
  for (int y = 0; y < height; ++y) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (std::size_t k = 0; k < down[y].weights.size(); ++k) {
      const float* in = rows.data() + (down[y].first + k) * row_size;
      for (std::size_t i = 0; i < row_size; ++i) sum[i] += down[y].weights[k] * in[i];
    }
    for (std::size_t i = 0; i < row_size; ++i)
      result.pixels[y * row_size + i] = static_cast<uint8_t>(std::clamp(std::lround(sum[i]), 0L, 255L));
  }
  return result;
}

Image upscale_nearest(const Image& image, int factor) {
  detail::check_image(image, "upscale_nearest", INT32_MAX);
  if (factor < 1)
    throw std::invalid_argument("upscale_nearest: factor must be at least 1, not " + std::to_string(factor));
  if (image.width > detail::kMaxSide / factor || image.height > detail::kMaxSide / factor)
    throw std::invalid_argument("upscale_nearest: " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                " times " + std::to_string(factor) + " exceeds the limit of " +
                                std::to_string(detail::kMaxSide) + " per side");
  const int channels = image.channels;
  Image result{image.width * factor, image.height * factor, channels, {}};
  result.pixels.reserve(static_cast<std::size_t>(result.width) * result.height * channels);
  std::vector<uint8_t> row;  // one source row widened; it repeats factor times
  for (int y = 0; y < image.height; ++y) {
    row.clear();
    const uint8_t* in = image.pixels.data() + static_cast<std::size_t>(y) * image.width * channels;
    for (int x = 0; x < image.width; ++x)
      for (int r = 0; r < factor; ++r) row.insert(row.end(), in + x * channels, in + (x + 1) * channels);
    for (int r = 0; r < factor; ++r) result.pixels.insert(result.pixels.end(), row.begin(), row.end());
  }
  return result;
}

}  // namespace darkroom::image
