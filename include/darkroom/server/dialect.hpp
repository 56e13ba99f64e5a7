#pragma once
// The seam every dialect of the server fills (native, OpenAI, A1111, the WebSocket, ...): how it words a
// failure and how it encodes a job's event stream. Pure: no sockets. The transport (src/server) runs one
// error path (answer.hpp) and one streaming loop (event_stream.hpp) over these for every dialect, so a
// dialect is its wire/ file (parse its request into the native one, encode events, word errors) and its
// routes file (its endpoints and its own state).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/engine/event.hpp"

namespace darkroom::server {

// JSON text for the wire. Invalid UTF-8 (from a client's own bytes echoed in an error, or an exception's
// text) becomes U+FFFD instead of an exception, so an answer can always be sent.
inline std::string json_text(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What went wrong with a request or a job, in the server's terms.
struct Failure {
  enum class Kind {
    invalid_request,     // the client's request (field names the culprit, in the dialect's own words)
    unauthorized,        // no or a wrong API key
    not_found,           // a job or endpoint that does not exist
    method_not_allowed,  // an endpoint that takes other methods
    queue_full,          // retry after retry_after_s
    stopping,            // the server is shutting down
    timeout,             // the job ran past its time limit
    cancelled,           // someone cancelled the job
    job_failed,          // the job failed (code: the engine's error code)
    internal,            // a bug or an unexpected condition
  };
  Kind kind = Kind::internal;
  std::string message;  // for people; names the field for invalid_request
  std::string field;    // the field at fault; "" when the request as a whole is
  std::string code;     // a more specific code (the engine's), "" when the kind says it all
  int retry_after_s = 0;  // queue_full: Retry-After

  // code, else the kind's name ("invalid_request", "queue_full", ...).
  std::string code_or_kind() const;
};

std::string_view kind_name(Failure::Kind kind);
// The HTTP status most dialects give a kind (400, 401, 404, 405, 429, 503, 504, 409, 500, 500).
unsigned default_status(Failure::Kind kind);

// What a job's terminal event says went wrong: error (code "invalid_request" and "timeout" keep their kinds)
// or cancelled ("shutdown": stopping). nullopt for completed and for events that are not terminal.
std::optional<Failure> job_failure(const engine::Event& event);

// A failure as one dialect answers it.
struct ErrorReply {
  unsigned status = 500;
  nlohmann::json body;
};
using ErrorShape = ErrorReply (*)(const Failure&);

// The native shape: default_status, {"error": {"code", "message", "field"?}}.
ErrorReply native_error(const Failure& failure);

// FastAPI's validation detail, as the dialects of FastAPI servers (fal, DiffuGen) answer a bad field:
// [{"loc": ["body", each part of the dotted field], "msg": message, "type": "value_error"}].
nlohmann::json fastapi_validation_detail(const Failure& failure);

// One piece of a stream: the bytes of one or more events (HTTP streams concatenate them), or one
// WebSocket frame (binary: a binary frame, else text).
struct StreamChunk {
  std::string bytes;
  bool binary = false;
};

// Where a stream starts: the job, the client's resume cursor, and whether the job's log still holds
// every event after it (when not, the stream goes on from oldest_seq and should say so in-band).
struct StreamStart {
  std::string job_id;
  uint64_t after = 0;
  bool truncated = false;
  uint64_t oldest_seq = 0;
};

// One dialect's encoding of a job's event stream. The streaming loop calls opening() once, then encode()
// for each event in order (its terminal event last) and heartbeat() whenever the job is quiet.
// encode() may throw (an image the encoder refuses): a preview is then skipped; any other event is
// replaced by encoding_failure(event), encoded, and the stream ends there.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual std::string content_type() const = 0;
  virtual StreamChunk opening(const StreamStart&) { return {}; }
  // Bytes that keep an idle connection alive; "" when the transport has its own (WebSocket pings).
  virtual std::string heartbeat() const = 0;
  // The event on the wire; empty bytes: the dialect has no counterpart for it (skipped).
  virtual StreamChunk encode(const engine::Event& event) = 0;
};

}  // namespace darkroom::server
