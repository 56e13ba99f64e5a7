#pragma once
// Submitting a job from any endpoint, and what a job looks like as JSON in the native API.
#include <memory>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

struct ServerState;

// Resolves the model id, validates the request against that model and the server's limits, submits.
// Throws RequestError (400), engine::QueueFull (429) or engine::EngineStopped (503); the HTTP session
// turns these into responses.
std::shared_ptr<engine::Job> submit_job(ServerState& state, engine::JobRequest request);
// submit_job for a native request (HTTP or WebSocket), with what the native request adds: recording the
// previews for an animation. The caller adopts a streamed job (watchers).
std::shared_ptr<engine::Job> submit_native(ServerState& state, NativeRequest request);

// POST /v1/jobs' answer: {id, state, position, status_url, events_url, preview_url, cancel_url}.
nlohmann::json submitted_json(const engine::Job& job);
// GET /v1/jobs/{id}: state, position, newest progress, seed, timings, image URLs, error, last_seq.
nlohmann::json job_status_json(const engine::Job& job);

}  // namespace darkroom::server
