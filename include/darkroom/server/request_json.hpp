#pragma once
// The native request body (POST /v1/jobs, POST /v1/generate, WebSocket "submit"): the library's own field
// names (pipeline::GenerationRequest, preview::PreviewOptions), strictly checked, so that a typo is a 400
// naming the field instead of a silently ignored setting. See docs/server.md, "The native API".
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/pipeline/request.hpp"
#include "darkroom/server/request_error.hpp"

namespace darkroom::server {

struct RequestDefaults {
  std::string model;  // the id used when a request names none; "" = a request must name one
  pipeline::RequestLimits limits;
};

enum class StreamFormat { sse, msgpack };

struct NativeRequest {
  engine::JobRequest job;              // job.model is an id (see check_model_id), not a path
  std::optional<StreamFormat> stream;  // the "stream" field; absent: the transport decides (Accept header)
  bool cancel_on_disconnect = false;   // false: a streamed job outlives its client for a grace period
  bool animation = false;              // keep the previews for GET /v1/jobs/{id}/animation
};

// Parses a request body. Throws RequestError with field "" and the parser's byte position for malformed
// JSON, for nesting deeper than 64 levels (no request needs it; it would let a body exhaust the stack of
// code that walks JSON recursively) and for a body that is not an object.
nlohmann::json parse_json_body(std::string_view body);

// Reads every field and checks its JSON type; JSON null counts as absent. Unknown fields, wrong types,
// unknown names (sampler, preview.method, ...), an invalid model id, a missing prompt and an init_image
// that is not base64 (or a data: URL) of a PNG, JPEG or WebP image all throw RequestError naming the field.
// allow_stream_field: only POST /v1/generate may carry "stream"; elsewhere it is an error.
// Ranges are not checked here: see validate_for_model.
NativeRequest parse_native_request(const nlohmann::json& body, const RequestDefaults& defaults,
                                   bool allow_stream_field);

// The range checks, once the model (and with it the latent scale, 8 for SD) is known:
// pipeline::validate and preview::validate with the server's limits, plus the sampler/scheduler pairs no
// schedule exists for; their errors become RequestError with the field they name (native names).
void validate_job(const engine::JobRequest& job, const pipeline::RequestLimits& limits, int latent_scale);
void validate_for_model(const NativeRequest& request, const RequestDefaults& defaults, int latent_scale);

// validate_job for a dialect that calls fields otherwise: an error's field goes through `rename` (native
// name -> the dialect's; the same name when it has no other).
void validate_job_as(const engine::JobRequest& job, const pipeline::RequestLimits& limits, int latent_scale,
                     const std::function<std::string(const std::string&)>& rename);

// A model id is a file or folder name under a models directory, never a path: throws RequestError (field
// "model") for an empty id, '/', '\\', "..", a leading '.', control characters (NUL included) and ids
// longer than 255 bytes.
void check_model_id(std::string_view id);

}  // namespace darkroom::server
