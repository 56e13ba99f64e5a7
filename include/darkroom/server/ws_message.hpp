#pragma once
// The client's control messages on the WebSocket (GET /v1/ws): one JSON text frame each, parsed here
// without the socket so that the parsing is unit-tested and fuzzed like the request bodies.
//
//   {"type": "submit", "request": {...native request...}, "request_id": "any"}
//   {"type": "subscribe", "job_id": "...", "after": N}       after: absent or null = from the start
//   {"type": "unsubscribe", "job_id": "..."}
//   {"type": "cancel", "job_id": "..."}
//   {"type": "feature_flags", "data": {"supports_preview_metadata": true}}
//
// Every message may carry "request_id", echoed in the replies to it (errors included).
//
// Unknown fields: at the top level of a message they are errors, as in the native request body, because
// a misspelt optional field would otherwise be silently dropped ("aftr" would replay from the start, a
// "requestid" would never be echoed); the error suggests the near miss. Inside feature_flags' "data" they
// are ignored: a flag set announces what the client supports, and clients (ComfyUI's frontend) announce
// flags this server has no use for.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/server/request_error.hpp"

namespace darkroom::server {

struct WsMessage {
  enum class Type { submit, subscribe, unsubscribe, cancel, feature_flags };
  Type type;
  nlohmann::json request_id;      // echoed in replies; null when absent. A string or a number (JSON-RPC's
                                  // rule for ids); objects, arrays and booleans are refused.
  nlohmann::json request;         // submit: the native request object (parsed later by parse_native_request)
  std::string job_id;             // subscribe, unsubscribe, cancel
  uint64_t after = 0;             // subscribe: resume cursor
  bool preview_metadata = false;  // feature_flags: data.supports_preview_metadata
};

// Parses one text frame. Throws RequestError naming the field ("type", "job_id", "after", "request",
// "data", "data.supports_preview_metadata", "request_id", an unknown field's name, or "" for malformed JSON
// and a frame that is not a JSON object) with a message in plain words, never a library's exception text.
// JSON null counts as absent. The submitted request is only checked to be an object here.
WsMessage parse_ws_message(std::string_view text);

// The request_id of a frame that failed to parse, if it can still be read (so the error reply can echo
// it); null otherwise. Never throws.
nlohmann::json ws_request_id(std::string_view text);

}  // namespace darkroom::server
