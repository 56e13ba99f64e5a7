#pragma once
// The OpenAI Images dialect: POST /v1/images/generations, streamed or not (docs/server.md,
// "OpenAI Images"). Field names mirror OpenAI's exactly, so the official SDKs work unchanged.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/image/encode.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_error.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

struct OpenAiImageRequest {
  engine::JobRequest job;  // n -> generation.batch; size -> width/height; partial_images -> preview
  bool auto_size = true;   // size absent or "auto": the caller sets width/height to the model's default
  image::Format output_format = image::Format::png;
  int output_compression = 100;  // quality of JPEG/WebP outputs (and previews)
  bool stream = false;
  int partial_images = 0;  // previews streamed before the final image (stream only)
  std::string quality = "auto";     // echoed; every value generates the same way
  std::string background = "auto";  // echoed; images are always opaque
};

// Throws RequestError naming the OpenAI field (param): prompt (required), model, n 1..10, size "WxH" (each
// side a multiple of 8 within limits.max_side) or "auto", output_format png|jpeg|webp, output_compression
// 0..100, stream, partial_images 0..3, quality, background, moderation, style, user (accepted, unused),
// response_format (b64_json only: "url" is an error, images are returned inline) and unknown fields.
OpenAiImageRequest parse_openai_request(const nlohmann::json& body, const RequestDefaults& defaults);

// validate_job for this dialect: errors name the OpenAI field that set the value (width -> size,
// batch -> n, prompt -> prompt, ...).
void validate_openai_request(const OpenAiImageRequest& request, const RequestDefaults& defaults, int latent_scale);

// A failure in OpenAI's shape: 400 invalid_request_error (param: the field), 401 invalid_api_key, 429
// rate_limit_error (queue_full), 503 server_error server_shutting_down; a job that failed or was
// cancelled by someone else is a 500 server_error with the engine's code ("cancelled"): 499 would say
// the client closed the request, which it did not.
ErrorReply openai_error(const Failure& failure);

// {"error": {"message", "type", "param", "code"}}; an empty param or code is null.
nlohmann::json openai_error_json(std::string_view message, std::string_view type = "invalid_request_error",
                                 std::string_view param = "", std::string_view code = "");
nlohmann::json openai_error_json(const RequestError& error);
// The SSE "error" event's data: {"type": "error", "error": {...}} from an openai_error_json body.
nlohmann::json openai_stream_error_json(const nlohmann::json& error_body);

// input_tokens: the prompt's token count (the caller's tokenizer); images produce no tokens here.
nlohmann::json openai_usage_json(int input_tokens);
// The non-streamed answer: {"created", "data": [{"b64_json"}...], "output_format", "size", "quality",
// "background", "usage"}. images: the encoded outputs, in output_format.
nlohmann::json openai_response_json(const OpenAiImageRequest& request, std::span<const std::vector<uint8_t>> images,
                                    int64_t created, int input_tokens);
// Data of the SSE events "image_generation.partial_image" (index from 0) and "image_generation.completed".
nlohmann::json openai_partial_image_json(const OpenAiImageRequest& request, std::span<const uint8_t> image,
                                         int64_t created_at, int partial_image_index);
nlohmann::json openai_completed_json(const OpenAiImageRequest& request, std::span<const uint8_t> image,
                                     int64_t created_at, int input_tokens);

// A final image in the requested format; PNGs carry the A1111 "parameters" text chunk, as the native
// API's downloads do.
std::vector<uint8_t> openai_output_image(const OpenAiImageRequest& request, const image::Image& picture, int64_t seed);

// The stream of a "stream": true request: image_generation.partial_image for each preview (encoded as
// the final images will be), image_generation.completed for each image, an "error" event for a job that
// ended without images; other events have no OpenAI counterpart. The request must outlive the encoder.
std::unique_ptr<StreamEncoder> openai_stream_encoder(const OpenAiImageRequest& request, int64_t created,
                                                     int input_tokens);

}  // namespace darkroom::server
