#pragma once
// The DiffuGen dialect (docs/server.md, "DiffuGen"; the seed ../shared/seeds/003_*): POST /generate[/stable|
// /flux][/stream] and the OpenWebUI-style POST /v1/images/generations/stream, with DiffuGen's bodies, its
// SSE progress events and its FastAPI error bodies. DiffuGen estimated its progress from phase weights;
// here every number is measured: the percentage is the elapsed share of elapsed + ETA, the ETA the
// engine's (remaining steps at the measured step time plus the model's measured decode time).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

// Which DiffuGen route a request came in on: its generator family.
enum class DiffugenRoute {
  any,     // /generate, /generate/stream: by the model's name ("flux-*": FLUX, else Stable Diffusion)
  stable,  // /generate/stable[/stream]
  flux,    // /generate/flux[/stream]
  openwebui,  // /v1/images/generations/stream: OpenAI-style body ("size": "WxH", "n")
};

struct DiffugenRequest {
  engine::JobRequest job;  // job.model: as the client named it ("" when absent), resolved by the routes
  DiffugenRoute route = DiffugenRoute::any;
  bool return_base64 = true;  // the non-streamed answer carries the image as base64
};

// Parses a body of the route. prompt is required; model (a darkroom model id or one of DiffuGen's names),
// width, height, steps, cfg_scale, sampling_method (sd.cpp's names: euler, euler_a, dpm++2m, lcm,
// ddim_trailing; darkroom's names too), negative_prompt, seed, timeout_s (darkroom's), return_base64;
// the OpenWebUI route takes size "WxH" and n (1..10) instead of width and height. lora and output_dir
// name things on DiffuGen's own disk and are refused when given (empty counts as absent). Other fields are ignored, as DiffuGen's
// pydantic models ignore them. Throws RequestError naming DiffuGen's field.
DiffugenRequest parse_diffugen_request(const nlohmann::json& body, DiffugenRoute route);

// What one of DiffuGen's model names means: "sd1" (sd15, stable-diffusion-1.5, revanimated, oia), "sdxl"
// (sdxl, stable-diffusion-xl), "sd3" (sd3, stable-diffusion-3), "flux" (flux-schnell, flux-dev, any
// "flux-*"); nullopt for other names.
std::optional<std::string> diffugen_model_family(std::string_view name);

// validate_job with DiffuGen's field names (cfg -> cfg_scale, sampler -> sampling_method, width/height
// -> size on the OpenWebUI route, batch -> n).
void validate_diffugen_request(const DiffugenRequest& request, const RequestDefaults& defaults, int latent_scale);

// FastAPI's bodies: a request error 422 {"detail": [{"loc": ["body", field...], "msg", "type"}]}, a model
// the route cannot serve 400 {"detail": message} (as DiffuGen refuses an invalid model), anything else
// {"detail": message, "error": code} with its status.
ErrorReply diffugen_error(const Failure& failure);

// The SSE stream: "progress" events (phase initializing, loading_model, preparing, generating,
// post_processing, complete; progress 0..100 only growing; message; step, total_steps and eta_seconds on
// the generating steps; timestamp in Unix seconds, from submitted_unix_s plus the event's time), then
// "done" ({"done": true, "phase": "complete", "progress": 100, "images": [URLs], ...}) or "error"
// ({"error", "code", "phase": "error", "progress", "message"}); ": heartbeat" comments while idle.
std::unique_ptr<StreamEncoder> diffugen_stream_encoder(std::string job_id, double submitted_unix_s);

// The non-streamed answer of /generate*: {"success": true, "error": null, "image_url", "image_path",
// "images", "markdown_response", "model", "prompt", "parameters": {...}, "image_base64"?}.
// png: the first image as PNG.
nlohmann::json diffugen_response_json(const DiffugenRequest& request, const std::string& job_id, std::size_t images,
                                      int64_t seed, const std::vector<uint8_t>& png);

}  // namespace darkroom::server
