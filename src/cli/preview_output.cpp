#include "preview_output.hpp"

#include <cstdio>
#include <fstream>

#include "darkroom/image/development.hpp"
#include "darkroom/preview/preview_image.hpp"

namespace darkroom::cli {

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
  const auto bytes = image::encode_development(frames_, final_image, {.quality = options_.quality});
  std::ofstream out(*animation_path_, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(animation_path_->string() + ": cannot be written");
}

}  // namespace darkroom::cli
