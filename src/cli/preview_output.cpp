#include "preview_output.hpp"

#include <cstdio>
#include <fstream>

#include "darkroom/image/resize.hpp"
#include "darkroom/preview/preview_image.hpp"

namespace darkroom::cli {
namespace {

constexpr int kFrameMs = 150;
constexpr int kFinalFrameMs = 1500;

// Previews are often smaller than the image (latent2rgb is 1/8 size, max_size caps the rest): enlarge by
// the whole factor that fits the canvas, so every frame of the animation has the canvas size.
image::Image to_canvas(const image::Image& frame, int width, int height) {
  image::Image out = frame;
  if (out.width > width || out.height > height) out = image::resize_to_fit(out, std::max(width, height));
  const int factor = std::min(width / out.width, height / out.height);
  if (factor > 1) out = image::upscale_nearest(out, factor);
  if (out.width == width && out.height == height) return out;
  // Pad the remainder (only for sizes that are not a multiple of the preview's) with black.
  image::Image canvas{width, height, out.channels, std::vector<uint8_t>(std::size_t(width) * height * out.channels)};
  for (int y = 0; y < out.height && y < height; ++y)
    std::copy_n(&out.pixels[std::size_t(y) * out.width * out.channels], std::min(out.width, width) * out.channels,
                &canvas.pixels[std::size_t(y) * width * out.channels]);
  return canvas;
}

}  // namespace

PreviewOutput::PreviewOutput(std::optional<std::filesystem::path> dir, std::optional<std::filesystem::path> animation,
                             const preview::PreviewOptions& options)
    : dir_(std::move(dir)), animation_path_(std::move(animation)), options_(options) {
  if (dir_) std::filesystem::create_directories(*dir_);
}

void PreviewOutput::add(const engine::Preview& preview) {
  if (dir_) {
    char name[64];
    std::snprintf(name, sizeof name, "preview-%03d-step-%03d", preview.index, preview.step);
    const auto path = *dir_ / (std::string(name) + std::string(image::file_extension(options_.format)));
    const auto bytes = preview.image->encoded(options_.format, options_.quality);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }
  if (animation_path_) frames_.push_back(preview.image->rgb());
}

void PreviewOutput::finish(const image::Image& final_image) {
  if (!animation_path_) return;
  image::WebpAnimation animation(final_image.width, final_image.height, options_.quality);
  for (const auto& frame : frames_) animation.add_frame(to_canvas(frame, final_image.width, final_image.height), kFrameMs);
  animation.add_frame(final_image, kFinalFrameMs);
  const auto bytes = animation.finish();
  std::ofstream out(*animation_path_, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(animation_path_->string() + ": cannot be written");
}

}  // namespace darkroom::cli
