#include "darkroom/server/native_stream.hpp"

#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/event_json.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/sse.hpp"

namespace darkroom::server {
namespace {

constexpr int kRetryMs = 3000;  // EventSource's reconnection delay

class SseEncoder final : public StreamEncoder {
 public:
  SseEncoder(std::string job_id, const engine::JobRequest& request)
      : encoding_{std::move(job_id), request.preview, false, {}} {}

  std::string content_type() const override { return "text/event-stream; charset=utf-8"; }
  StreamChunk opening(const StreamStart& start) override {
    auto bytes = sse_retry(kRetryMs);
    if (start.truncated)
      bytes += sse_event("replay_truncated", 0, json_text(replay_truncated_json(start.job_id, start.after, start.oldest_seq)));
    return {bytes};
  }
  std::string heartbeat() const override { return sse_comment("keep-alive"); }
  StreamChunk encode(const engine::Event& event) override {
    return {sse_event(engine::event_name(event.type()), event.seq, json_text(event_json(event, encoding_)))};
  }

 private:
  EventEncoding encoding_;
};

class MsgpackEncoder final : public StreamEncoder {
 public:
  MsgpackEncoder(std::string job_id, const engine::JobRequest& request)
      : request_(request), encoding_{std::move(job_id), request.preview, true, {}} {}

  std::string content_type() const override { return "application/vnd.msgpack"; }
  StreamChunk opening(const StreamStart& start) override {
    if (!start.truncated) return {};
    return {msgpack_frame(replay_truncated_json(start.job_id, start.after, start.oldest_seq))};
  }
  std::string heartbeat() const override { return msgpack_frame({{"type", "heartbeat"}}); }
  StreamChunk encode(const engine::Event& event) override {
    // Completed images carry the same "parameters" text chunk as the downloadable PNGs.
    if (const auto* done = event.as<engine::Completed>())
      encoding_.png_text = {{"parameters", pipeline::infotext(request_.generation, done->seed, request_.model)}};
    return {msgpack_frame(event_json(event, encoding_))};
  }

 private:
  const engine::JobRequest& request_;
  EventEncoding encoding_;
};

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

class WebSocketEncoder final : public StreamEncoder {
 public:
  WebSocketEncoder(std::string job_id, const engine::JobRequest& request, bool preview_metadata)
      : encoding_{std::move(job_id), request.preview, false, {}}, metadata_(preview_metadata) {}

  std::string content_type() const override { return {}; }
  StreamChunk opening(const StreamStart& start) override {
    if (!start.truncated) return {};
    return {text_frame(replay_truncated_json(start.job_id, start.after, start.oldest_seq))};
  }
  std::string heartbeat() const override { return {}; }  // WebSocket pings keep the connection alive
  StreamChunk encode(const engine::Event& event) override {
    if (const auto* preview = event.as<engine::Preview>()) return preview_frame(event, *preview);
    return {text_frame(event_json(event, encoding_))};
  }

 private:
  // {"type": "event", "event": NAME, ...}: "type" names the message kind on the socket.
  static std::string text_frame(nlohmann::json json) {
    json["event"] = json["type"];
    json["type"] = "event";
    return json_text(json);
  }

  StreamChunk preview_frame(const engine::Event& event, const engine::Preview& preview) const {
    if (!preview.image) throw std::logic_error("preview event without an image");
    auto format = encoding_.preview.format;
    std::string frame;
    if (metadata_) {
      const nlohmann::json meta{{"job_id", encoding_.job_id}, {"seq", event.seq},       {"step", preview.step},
                                {"total", preview.total},     {"index", preview.index}, {"sigma", preview.sigma},
                                {"method", preview.method},   {"content_type", image::content_type(format)}};
      const auto text = json_text(meta);
      put_u32(frame, 4);
      put_u32(frame, static_cast<uint32_t>(text.size()));
      frame += text;
    } else {
      if (format == image::Format::webp) format = image::Format::jpeg;
      put_u32(frame, 1);
      put_u32(frame, format == image::Format::png ? 2 : 1);
    }
    const auto bytes = preview.image->encoded(format, encoding_.preview.quality);
    frame.append(bytes->begin(), bytes->end());
    return {std::move(frame), true};
  }

  EventEncoding encoding_;
  bool metadata_;
};

}  // namespace

std::unique_ptr<StreamEncoder> native_stream_encoder(StreamFormat format, std::string job_id,
                                                     const engine::JobRequest& request) {
  if (format == StreamFormat::msgpack) return std::make_unique<MsgpackEncoder>(std::move(job_id), request);
  return std::make_unique<SseEncoder>(std::move(job_id), request);
}

std::unique_ptr<StreamEncoder> websocket_stream_encoder(std::string job_id, const engine::JobRequest& request,
                                                        bool preview_metadata) {
  return std::make_unique<WebSocketEncoder>(std::move(job_id), request, preview_metadata);
}

}  // namespace darkroom::server
