#include "submission.hpp"

#include "darkroom/server/event_json.hpp"
#include "server_state.hpp"

namespace darkroom::server {

std::shared_ptr<engine::Job> submit_job(ServerState& state, engine::JobRequest request) {
  state.validate(request);
  return state.engine.submit(std::move(request));
}

std::shared_ptr<engine::Job> submit_native(ServerState& state, NativeRequest request) {
  auto job = submit_job(state, std::move(request.job));
  if (request.animation) state.animations.record(job);
  return job;
}

nlohmann::json submitted_json(const engine::Job& job) {
  const auto status_url = "/v1/jobs/" + job.id();
  return {{"id", job.id()},
          {"state", engine::state_name(job.state())},
          {"position", job.position()},
          {"model", job.request().model},
          {"status_url", status_url},
          {"events_url", status_url + "/events"},
          {"preview_url", preview_url(job.id())},
          {"cancel_url", status_url}};
}

nlohmann::json job_status_json(const engine::Job& job) {
  const auto& log = *job.events();
  auto status = submitted_json(job);
  status["progress"] = nullptr;
  if (const auto event = log.latest(engine::EventType::progress)) {
    const auto& p = *event->as<engine::Progress>();
    status["progress"] = {{"step", p.step}, {"total", p.total}, {"sigma", p.sigma}, {"elapsed_s", p.elapsed_s}, {"eta_s", p.eta_s}};
  }
  status["seed"] = nullptr;
  status["timings"] = nlohmann::json::object();
  status["images"] = nlohmann::json::array();
  status["error"] = nullptr;
  status["cancel_reason"] = nullptr;
  if (const auto event = log.latest(engine::EventType::completed)) {
    const auto& done = *event->as<engine::Completed>();
    status["seed"] = done.seed;
    status["timings"] = done.timings;
    for (std::size_t i = 0; i < done.images.size(); ++i) status["images"].push_back(image_url(job.id(), i));
  } else if (const auto failed = log.latest(engine::EventType::error)) {
    const auto& error = *failed->as<engine::Error>();
    status["error"] = {{"code", error.code}, {"message", error.message}};
  } else if (const auto cancelled = log.latest(engine::EventType::cancelled)) {
    status["cancel_reason"] = cancelled->as<engine::Cancelled>()->reason;
  }
  if (const auto preview = log.latest(engine::EventType::preview))
    status["preview"] = {{"step", preview->as<engine::Preview>()->step}, {"index", preview->as<engine::Preview>()->index}};
  status["last_seq"] = log.last_seq();
  return status;
}

}  // namespace darkroom::server
