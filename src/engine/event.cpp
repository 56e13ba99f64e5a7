#include "darkroom/engine/event.hpp"

#include "darkroom/preview/preview_image.hpp"

namespace darkroom::engine {
namespace {

// The variant's alternatives are declared in EventType order.
static_assert(std::variant_size_v<EventBody> == static_cast<std::size_t>(EventType::cancelled) + 1);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(EventType::preview), EventBody>, Preview>);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(EventType::cancelled), EventBody>, Cancelled>);

std::size_t image_bytes(const image::Image& image) { return sizeof(image) + image.pixels.capacity(); }

}  // namespace

std::string_view event_name(EventType type) {
  switch (type) {
    case EventType::queued:
      return "queued";
    case EventType::started:
      return "started";
    case EventType::phase:
      return "phase";
    case EventType::progress:
      return "progress";
    case EventType::preview:
      return "preview";
    case EventType::notice:
      return "notice";
    case EventType::completed:
      return "completed";
    case EventType::error:
      return "error";
    case EventType::cancelled:
      return "cancelled";
  }
  return "?";
}

EventType type_of(const EventBody& body) { return static_cast<EventType>(body.index()); }

bool supersedes(EventType type) { return type == EventType::preview || type == EventType::queued; }

bool Event::terminal() const {
  const auto t = type();
  return t == EventType::completed || t == EventType::error || t == EventType::cancelled;
}

std::size_t approx_bytes(const Event& event) {
  std::size_t bytes = sizeof(Event);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, PhaseChanged>) {
          bytes += body.phase.capacity();
        } else if constexpr (std::is_same_v<T, Preview>) {
          bytes += body.method.capacity();
          if (body.image) bytes += sizeof(preview::PreviewImage) + body.image->rgb().pixels.capacity();
        } else if constexpr (std::is_same_v<T, Notice> || std::is_same_v<T, Error>) {
          bytes += body.code.capacity() + body.message.capacity();
        } else if constexpr (std::is_same_v<T, Completed>) {
          for (const auto& image : body.images)
            if (image) bytes += image_bytes(*image);
          bytes += body.timings.size() * 64;  // map node + short key
        } else if constexpr (std::is_same_v<T, Cancelled>) {
          bytes += body.reason.capacity();
        }
      },
      event.body);
  return bytes;
}

}  // namespace darkroom::engine
