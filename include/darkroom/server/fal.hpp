#pragma once
// The fal dialect (docs/server.md, "fal"; the seed ../shared/seeds/001_*): fal's two hosts as two prefixes,
// /fal/run/{owner}/{app} (https://fal.run: run, stream) and /fal/queue/{owner}/{app} (https://queue.fal.run:
// submit, status, status stream, result, cancel), with {app} a darkroom model id. Input as fal's SDXL apps
// take it; results, statuses and errors in fal's shapes, as @fal-ai/client reads them.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

struct FalRequest {
  engine::JobRequest job;
  bool sync_mode = false;  // images as data URIs in the result, instead of links to the server
  image::Format output_format = image::Format::jpeg;
  int preview_every = 5;  // stream: a preview every N steps (0: none), as the seed's app
};

// prompt (required), negative_prompt, image_size (square_hd, square, portrait_4_3, portrait_16_9,
// landscape_4_3, landscape_16_9, or {width, height}; absent: the model's own size), width and height (the
// seed's app), num_inference_steps, guidance_scale, seed, num_images, output_format (jpeg, png), sync_mode,
// preview_every; enable_safety_checker and other fields are accepted and ignored, as fal's apps ignore what
// they do not know. model: the {app} of the URL. Throws RequestError naming fal's field.
FalRequest parse_fal_request(const nlohmann::json& body, const std::string& model);

// validate_job with fal's field names (image_size, num_inference_steps, guidance_scale, num_images).
void validate_fal_request(const FalRequest& request, const RequestDefaults& defaults, int latent_scale);

// fal's errors: a request error 422 {"detail": [{"loc": ["body", field...], "msg", "type"}], "message"} (the
// client's ValidationError); anything else {"detail", "message", "error_type"} with its status.
ErrorReply fal_error(const Failure& failure);

// "data:TYPE;base64,..."
std::string data_uri(std::string_view content_type, const std::vector<uint8_t>& bytes);

// An image of the result: where it is (a data URI or a link) and its size.
struct FalImage {
  std::string url;
  int width = 0;
  int height = 0;
};
// The result (fal.run's answer, the queue's result, the stream's last event): {"images": [{url, width,
// height, content_type}], "image" (the first, as the seed's stream sends it), "seed", "timings":
// {"inference"}, "prompt", "has_nsfw_concepts"}.
nlohmann::json fal_result_json(const FalRequest& request, const std::vector<FalImage>& images,
                               const engine::Completed& done);

// The result's images: data URIs (sync_mode) in the output format, else link(index).
std::vector<FalImage> fal_images(const FalRequest& request, const engine::Completed& done,
                                 const std::function<std::string(std::size_t)>& link);

// POST .../stream: data-only JSON SSE. Each preview {"image": {"url": data URI (JPEG), "content_type",
// "width", "height"}, "step", "total_steps"}; the last event the whole result; a job that ends without
// images {"error": {"code", "message"}, "detail"}. The request must outlive the encoder.
std::unique_ptr<StreamEncoder> fal_stream_encoder(const FalRequest& request,
                                                  std::function<std::string(std::size_t)> link);

// URLs of a queued request.
struct FalQueueUrls {
  std::string request_id, status, response, cancel;
};

// A request's status as fal's queue reports it, built from its job's events in order: IN_QUEUE with
// queue_position (0: next), IN_PROGRESS, COMPLETED with metrics.inference_time, and for a job that
// failed or was cancelled COMPLETED with "error" and "error_type" (fal's clients poll until COMPLETED).
// logs: each phase and step as {"message", "level", "source", "timestamp" (ISO 8601)}.
class FalStatus {
 public:
  FalStatus(FalQueueUrls urls, double submitted_unix_s, bool logs);
  // Takes the next event; true when the status it reports changed (a new status, position or log line).
  bool add(const engine::Event& event);
  nlohmann::json json() const;
  bool completed() const { return status_ == "COMPLETED"; }

 private:
  FalQueueUrls urls_;
  double submitted_unix_s_;
  bool with_logs_;
  std::string status_ = "IN_QUEUE";
  int queue_position_ = 0;
  nlohmann::json logs_ = nlohmann::json::array();
  double inference_s_ = 0;
  nlohmann::json error_;
  std::string error_type_;
};

// GET .../status/stream: each change of status as a data-only JSON event, the last one COMPLETED;
// ": heartbeat" comments while nothing changes.
std::unique_ptr<StreamEncoder> fal_status_stream_encoder(FalQueueUrls urls, double submitted_unix_s, bool logs);

}  // namespace darkroom::server
