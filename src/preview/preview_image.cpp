#include "darkroom/preview/preview_image.hpp"

#include <stdexcept>

namespace darkroom::preview {

PreviewImage::PreviewImage(image::Image rgb, Encoder encoder) : rgb_(std::move(rgb)), encoder_(std::move(encoder)) {
  if (!encoder_) throw std::invalid_argument("PreviewImage: no encoder");
}

std::shared_ptr<const std::vector<uint8_t>> PreviewImage::encoded(image::Format format, int quality) const {
  std::shared_ptr<Encoding> entry;
  {
    std::lock_guard lock(mutex_);
    auto& slot = encodings_[{format, format == image::Format::png ? 0 : quality}];
    if (!slot) slot = std::make_shared<Encoding>();
    entry = slot;
  }
  // Callers of the same encoding wait here for the first one; if it throws, the next caller runs it again.
  std::call_once(entry->once, [&] {
    entry->bytes = std::make_shared<const std::vector<uint8_t>>(encoder_(rgb_, format, quality));
  });
  return entry->bytes;
}

}  // namespace darkroom::preview
