#pragma once
// Where `darkroom generate` puts previews as they arrive: numbered files in --preview-dir, and frames of
// an animated WebP (--preview-anim) that ends on the final image.
#include <filesystem>
#include <optional>

#include "darkroom/engine/event.hpp"
#include "darkroom/image/image.hpp"
#include "darkroom/preview/options.hpp"

namespace darkroom::cli {

class PreviewOutput {
 public:
  PreviewOutput(std::optional<std::filesystem::path> dir, std::optional<std::filesystem::path> animation,
                const preview::PreviewOptions& options);
  void add(const engine::Preview& preview);
  // Appends the final image as the last frame and writes the animation, if one was asked for.
  void finish(const image::Image& final_image);

 private:
  std::optional<std::filesystem::path> dir_, animation_path_;
  preview::PreviewOptions options_;
  std::vector<image::Image> frames_;  // previews, encoded once the canvas (the final image size) is known
};

}  // namespace darkroom::cli
