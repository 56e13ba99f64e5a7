#pragma once
// The AUTOMATIC1111 web UI dialect (/sdapi/v1/*; docs/server.md, "A1111"): its field names,
// sampler display names and answer shapes, so that tools written for A1111 drive darkroom unchanged.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/image/image.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_error.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

struct A1111Request {
  engine::JobRequest job;
  std::string sampler_name;   // as the client spelled it (echoed in info), or "Euler" when absent
  nlohmann::json parameters;  // the request body as given, echoed back
  // override_settings.show_progress_every_n_steps: the live preview period for this job (absent: the
  // server's setting).
  std::optional<int> preview_every_n_steps;
};

// A1111's "show_progress_every_n_steps" setting: a live preview every N steps; 0 and -1 ("only after the
// batch") mean no live previews. Throws RequestError naming `field` below -1.
int check_a1111_preview_period(int steps, const std::string& field);

// A1111's cfg_scale when a request leaves it out, for models that recommend no guidance scale of their own.
inline constexpr double kA1111CfgScale = 7.0;

// POST /sdapi/v1/txt2img. Unknown fields are ignored: A1111 clients send dozens (hires fix, restore faces,
// scripts) that have no meaning here. Defaults are A1111's (steps 50, sampler "Euler"; cfg_scale is left
// out when absent, to be the model's recommendation or kA1111CfgScale once the model is known).
// sampler_name (or the older sampler_index) takes A1111 display names ("Euler a", "DPM++ 2M Karras", ...),
// their aliases ("k_euler_a") and darkroom's names; scheduler takes A1111 names ("Automatic", "Karras",
// "Uniform", ...). override_settings: CLIP_stop_at_last_layers -> clip_skip, sd_model_checkpoint -> model,
// show_progress_every_n_steps -> preview_every_n_steps.
// Throws RequestError naming the A1111 field for wrong types, unknown samplers and schedulers, n_iter != 1.
A1111Request parse_a1111_txt2img(const nlohmann::json& body, const RequestDefaults& defaults);

// validate_job with errors that name the A1111 field (cfg -> cfg_scale, batch -> batch_size, ...).
void validate_a1111_request(const A1111Request& request, const RequestDefaults& defaults, int latent_scale);

// 422 body: {"error": "RequestError", "detail": message, "errors": message, "field": field}, in the shape
// of A1111's own exception handler.
nlohmann::json a1111_error_json(const RequestError& error);
// Every failure in A1111's shape: a request error as above (FastAPI's 422); others
// {"error": code, "detail": message, "errors": message} with their status (a job's invalid request: 422).
ErrorReply a1111_error(const Failure& failure);

// {"images": [base64 PNG, each with its "parameters" text chunk], "parameters": the request,
//  "info": a JSON string {prompt, negative_prompt, seed, all_seeds, width, height, sampler_name, cfg_scale,
//  steps, batch_size, clip_skip, sd_model_name, infotexts, ...}}. A batch shares one seed (one noise
// generator draws the whole batch), so all_seeds repeats it.
nlohmann::json a1111_txt2img_response(const A1111Request& request,
                                      const std::vector<std::shared_ptr<const image::Image>>& images, int64_t seed);

// GET /sdapi/v1/progress.
struct A1111Progress {
  double progress = 0;      // 0..1 over the whole job
  double eta_relative = 0;  // seconds left
  bool interrupted = false;
  std::string job;  // A1111 puts a job label here; "" when idle
  int job_count = 0;
  int job_no = 0;
  int sampling_step = 0;
  int sampling_steps = 0;
  std::shared_ptr<const std::vector<uint8_t>> current_image;  // PNG of the newest preview; null: none
  std::string textinfo;
};
nlohmann::json a1111_progress_json(const A1111Progress& progress);

// GET /sdapi/v1/samplers: [{name, aliases, options}] for every sampler the parser takes by display name.
nlohmann::json a1111_samplers_json();

// GET /sdapi/v1/sd-models: [{title, model_name, hash, sha256, filename, config}].
struct A1111Model {
  std::string id;        // what a request names (title, sd_model_checkpoint)
  std::string filename;  // the file or folder on disk
};
nlohmann::json a1111_models_json(const std::vector<A1111Model>& models);

}  // namespace darkroom::server
