#pragma once
// A job's events as the wire carries them: JSON for SSE data and WebSocket text frames, and the same map
// with raw image bytes for msgpack frames (docs/server.md, "Events").
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/engine/event.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/preview/options.hpp"

namespace darkroom::server {

struct EventEncoding {
  std::string job_id;
  preview::PreviewOptions preview;  // the job's: format, quality and delivery of preview images
  // false: JSON, images as base64 strings. true: for msgpack, images as json::binary_t (msgpack bin),
  // completed images included as PNG.
  bool binary = false;
  // Text chunks of the completed PNGs in binary mode, e.g. {"parameters", pipeline::infotext(...)}, so
  // streamed images carry their parameters as downloaded ones do.
  image::TextChunks png_text;
};

// {"type", "seq", "job_id", "time_s", ...the body's fields}. Preview images are encoded through the
// shared PreviewImage (once per format and quality, however many clients). Throws std::logic_error for a
// preview or completed event without its image, and what the image encoders throw.
nlohmann::json event_json(const engine::Event& event, const EventEncoding& encoding);

// What a stream sends in place of a terminal event it failed to encode (an image the encoder refused):
// an error event {code "encoding_failed"} with the same seq and time, so every stream still ends with a
// terminal event the client understands.
engine::Event encoding_failure(const engine::Event& terminal, const std::exception& error);

// The synthetic event sent when a resume cursor is older than the replay log: seq 0 (so SSE sends no id
// and the client's Last-Event-ID stays at its cursor), and no time_s, since it happened to no job.
nlohmann::json replay_truncated_json(std::string_view job_id, uint64_t after, uint64_t oldest_seq);

// URLs the events point to: "/v1/jobs/ID/preview" and "/v1/jobs/ID/images/N".
std::string preview_url(std::string_view job_id);
std::string image_url(std::string_view job_id, std::size_t index);

}  // namespace darkroom::server
