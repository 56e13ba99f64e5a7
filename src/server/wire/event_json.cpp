#include "darkroom/server/event_json.hpp"

#include <stdexcept>
#include <type_traits>

#include "darkroom/image/encode.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/base64.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

// Image bytes as the encoding wants them: a msgpack bin (binary_t without subtype) or a base64 string.
json image_value(const std::vector<uint8_t>& bytes, bool binary) {
  return binary ? json::binary(bytes) : json(base64::encode(bytes));
}

void add_preview(json& out, const engine::Preview& p, const EventEncoding& encoding) {
  if (!p.image) throw std::logic_error("preview event without an image");
  const auto& options = encoding.preview;
  out["step"] = p.step;
  out["total"] = p.total;
  out["sigma"] = p.sigma;
  out["index"] = p.index;
  out["method"] = p.method;
  out["width"] = p.image->width();
  out["height"] = p.image->height();
  out["content_type"] = image::content_type(options.format);
  if (options.delivery == preview::Delivery::url) {
    out["url"] = preview_url(encoding.job_id);
  } else {
    out["image"] = image_value(*p.image->encoded(options.format, options.quality), encoding.binary);
  }
}

void add_completed(json& out, const engine::Completed& c, const EventEncoding& encoding) {
  out["seed"] = c.seed;
  out["timings"] = c.timings;
  json images = json::array();
  for (std::size_t i = 0; i < c.images.size(); ++i) {
    if (!c.images[i]) throw std::logic_error("completed event with a missing image");
    const auto& image = *c.images[i];
    json entry = {{"index", i},
                  {"url", image_url(encoding.job_id, i)},
                  {"width", image.width},
                  {"height", image.height},
                  {"content_type", image::content_type(image::Format::png)}};
    if (encoding.binary) entry["image"] = json::binary(image::encode_png(image, encoding.png_text));
    images.push_back(std::move(entry));
  }
  out["images"] = std::move(images);
}

}  // namespace

std::string preview_url(std::string_view job_id) { return "/v1/jobs/" + std::string(job_id) + "/preview"; }

std::string image_url(std::string_view job_id, std::size_t index) {
  return "/v1/jobs/" + std::string(job_id) + "/images/" + std::to_string(index);
}

json event_json(const engine::Event& event, const EventEncoding& encoding) {
  json out = {{"type", engine::event_name(event.type())},
              {"seq", event.seq},
              {"job_id", encoding.job_id},
              {"time_s", event.time_s}};
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, engine::Queued>) {
          out["position"] = body.position;
        } else if constexpr (std::is_same_v<T, engine::PhaseChanged>) {
          out["phase"] = body.phase;
        } else if constexpr (std::is_same_v<T, engine::Progress>) {
          out["step"] = body.step;
          out["total"] = body.total;
          out["sigma"] = body.sigma;
          out["elapsed_s"] = body.elapsed_s;
          out["eta_s"] = body.eta_s;
        } else if constexpr (std::is_same_v<T, engine::Preview>) {
          add_preview(out, body, encoding);
        } else if constexpr (std::is_same_v<T, engine::Notice>) {
          out["code"] = body.code;
          out["message"] = body.message;
        } else if constexpr (std::is_same_v<T, engine::Completed>) {
          add_completed(out, body, encoding);
        } else if constexpr (std::is_same_v<T, engine::Error>) {
          out["code"] = body.code;
          out["message"] = body.message;
        } else if constexpr (std::is_same_v<T, engine::Cancelled>) {
          out["reason"] = body.reason;
        } else {
          static_assert(std::is_same_v<T, engine::Started>, "every event type has its fields here");
        }
      },
      event.body);
  return out;
}

engine::Event encoding_failure(const engine::Event& terminal, const std::exception& error) {
  return {terminal.seq, terminal.time_s,
          engine::Error{"encoding_failed", std::string("the job's result could not be encoded: ") + error.what()}};
}

json replay_truncated_json(std::string_view job_id, uint64_t after, uint64_t oldest_seq) {
  return {{"type", "replay_truncated"},
          {"seq", 0},
          {"job_id", job_id},
          {"after", after},
          {"oldest_seq", oldest_seq},
          {"message", "events " + std::to_string(after + 1) + ".." + std::to_string(oldest_seq - 1) +
                          " are no longer retained; the stream continues from event " + std::to_string(oldest_seq)}};
}

}  // namespace darkroom::server
