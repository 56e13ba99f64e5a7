#pragma once
// The native dialect's event streams: SSE (named events, id = seq, retry, comment heartbeats), msgpack
// frames (images as bin, completed images as PNG with their parameters) and WebSocket frames (events as
// JSON text {"type": "event", "event": NAME, ...}, previews as binary frames in ComfyUI's framing). The
// events themselves are event_json's.
#include <memory>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

// A job's events as GET /v1/jobs/{id}/events and POST /v1/generate send them.
std::unique_ptr<StreamEncoder> native_stream_encoder(StreamFormat format, std::string job_id,
                                                     const engine::JobRequest& request);

// A job's events on the WebSocket. Previews: type 4 frames ([u32 4][u32 meta length][JSON meta][image])
// when the client sent feature_flags.supports_preview_metadata, else type 1 ([u32 1][u32 1 JPEG | 2 PNG]
// [image]; WebP previews go as JPEG, which type 1 can say).
std::unique_ptr<StreamEncoder> websocket_stream_encoder(std::string job_id, const engine::JobRequest& request,
                                                        bool preview_metadata);

}  // namespace darkroom::server
