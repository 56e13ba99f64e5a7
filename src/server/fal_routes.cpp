// The fal dialect (docs/server.md, "fal"): /fal/run/{owner}/{app}[/stream] for https://fal.run and
// /fal/queue/{owner}/{app}[/requests/{id}[/status[/stream]|/cancel]] for https://queue.fal.run. {app} is a
// darkroom model id; a queued request's id is its job's id.
#include <chrono>
#include <map>

#include "darkroom/server/event_json.hpp"
#include "darkroom/server/fal.hpp"
#include "answer.hpp"
#include "event_stream.hpp"
#include "job_result.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;
using Kind = Failure::Kind;

// What the queue keeps of each request: how its result is to be written. Forgotten with the job.
struct FalState {
  std::map<std::string, FalRequest> requests;
};

// The server as the client reached it: links in results and queue URLs point there.
std::string base_url(const Exchange& ex) {
  const auto host = ex.request[http::field::host];
  const auto proto = ex.request["X-Forwarded-Proto"];
  return (proto == "https" ? "https://" : "http://") + std::string(host);
}

double submitted_unix_s(const engine::Job& job) {
  const auto age = std::chrono::steady_clock::now() - job.submitted_at();
  const auto submitted = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
  return std::chrono::duration<double>(submitted.time_since_epoch()).count();
}

FalRequest prepare(ServerState& state, const Exchange& ex) {
  auto request = parse_fal_request(parse_json_body(ex.request.body()), ex.params.at("app"));
  try {
    request.job.model = state.resolve_model(request.job.model);
  } catch (const RequestError& error) {  // the model is the URL's {app}, not a body field
    throw FailureError({Kind::not_found, "application " + std::string(error.what()), "", "app_not_found", 0});
  }
  const auto model = state.describe_model(request.job.model);
  pipeline::use_model_defaults(request.job.generation, model.defaults);
  validate_fal_request(request, state.defaults, model.latent_scale);
  return request;
}

std::function<std::string(std::size_t)> image_links(const Exchange& ex, const engine::Job& job, image::Format format) {
  return [base = base_url(ex), id = job.id(), format](std::size_t index) {
    return base + image_url(id, index) + "?format=" + std::string(image::format_name(format));
  };
}

void send_result_headers(Response& response, const engine::Job& job) { response.set("x-fal-request-id", job.id()); }

awaitable<void> run(Exchange& ex, FalState&) {
  auto& state = ex.state;
  const auto request = prepare(state, ex);
  const auto job = state.engine.submit(request.job);
  const auto result = co_await await_images(ex, job);
  if (!result) co_return;
  const auto images = fal_images(request, *result->as<engine::Completed>(), image_links(ex, *job, request.output_format));
  auto response = ex.json_response(http::status::ok, fal_result_json(request, images, *result->as<engine::Completed>()));
  send_result_headers(response, *job);
  co_await ex.send(std::move(response));
}

// The stream's job outlives a client that leaves for the grace period, as every stream's does.
awaitable<void> stream(Exchange& ex, FalState&) {
  auto& state = ex.state;
  const auto request = prepare(state, ex);
  const auto job = state.engine.submit(request.job);
  state.watchers.adopt(job, false);
  const auto encoder = fal_stream_encoder(request, image_links(ex, *job, request.output_format));
  std::vector<StreamPart> parts(1);
  parts[0] = StreamPart{job, 0, encoder.get()};
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("x-fal-request-id", job->id());
  co_await stream_response(ex, std::move(parts), std::move(headers));
}

FalQueueUrls queue_urls(const Exchange& ex, const std::string& id) {
  const auto app = base_url(ex) + "/fal/queue/" + ex.params.at("owner") + "/" + ex.params.at("app");
  const auto response = app + "/requests/" + id;
  return {id, response + "/status", response, response + "/cancel"};
}

// Queued requests run to the end whether or not anyone polls them, as fal's do.
awaitable<void> submit(Exchange& ex, FalState& fal) {
  auto& state = ex.state;
  std::erase_if(fal.requests, [&](const auto& entry) { return !state.engine.find(entry.first); });
  const auto request = prepare(state, ex);
  const auto job = state.engine.submit(request.job);
  fal.requests.emplace(job->id(), request);
  FalStatus status(queue_urls(ex, job->id()), submitted_unix_s(*job), false);
  for (const auto& event : job->events()->events_after(0)) status.add(event);
  co_await ex.send_json(http::status::ok, status.json());
}

// The job of .../requests/{id}; nullptr after fal's 404 has been sent.
awaitable<std::shared_ptr<engine::Job>> find_request(Exchange& ex, FalState& fal) {
  const auto& id = ex.params.at("id");
  auto job = fal.requests.contains(id) ? ex.state.engine.find(id) : nullptr;
  if (!job) {
    const Failure failure{Kind::not_found, "request '" + id + "' not found (unknown, or finished longer ago than the job TTL)",
                          "", "NOT_FOUND", 0};
    co_await ex.send_failure(failure);
  }
  co_return job;
}

bool with_logs(const Exchange& ex) {
  const auto logs = ex.query("logs");
  return logs && (*logs == "1" || *logs == "true");
}

awaitable<void> status(Exchange& ex, FalState& fal) {
  const auto job = co_await find_request(ex, fal);
  if (!job) co_return;
  FalStatus status(queue_urls(ex, job->id()), submitted_unix_s(*job), with_logs(ex));
  for (const auto& event : job->events()->events_after(0)) status.add(event);
  co_await ex.send_json(http::status::ok, status.json());
}

awaitable<void> status_stream(Exchange& ex, FalState& fal) {
  const auto job = co_await find_request(ex, fal);
  if (!job) co_return;
  const auto encoder = fal_status_stream_encoder(queue_urls(ex, job->id()), submitted_unix_s(*job), with_logs(ex));
  co_await stream_response(ex, job, 0, *encoder);
}

awaitable<void> result(Exchange& ex, FalState& fal) {
  const auto job = co_await find_request(ex, fal);
  if (!job) co_return;
  const auto terminal = job->events()->events_after(0);
  const auto last = terminal.empty() || !terminal.back().terminal() ? std::nullopt : std::optional(terminal.back());
  if (!last) {
    const Failure failure{Kind::invalid_request, "request '" + job->id() + "' is still " +
                                                     (job->state() == engine::JobState::queued ? "in the queue" : "in progress"),
                          "", "not_completed", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  if (const auto failure = job_failure(*last)) {
    co_await ex.send_failure(*failure);
    co_return;
  }
  const auto& request = fal.requests.at(job->id());
  const auto& done = *last->as<engine::Completed>();
  const auto images = fal_images(request, done, image_links(ex, *job, request.output_format));
  auto response = ex.json_response(http::status::ok, fal_result_json(request, images, done));
  send_result_headers(response, *job);
  co_await ex.send(std::move(response));
}

awaitable<void> cancel(Exchange& ex, FalState& fal) {
  const auto job = co_await find_request(ex, fal);
  if (!job) co_return;
  if (job->finished()) {
    const nlohmann::json body{{"status", "ALREADY_COMPLETED"}};
    co_await ex.send_json(http::status::bad_request, body);
    co_return;
  }
  job->cancel();
  const nlohmann::json body{{"status", "CANCELLATION_REQUESTED"}};
  co_await ex.send_json(http::status::accepted, body);
}

using FalHandler = awaitable<void> (*)(Exchange&, FalState&);

void add(Router& router, const std::shared_ptr<FalState>& fal, http::verb method, std::string path, FalHandler handler) {
  router.add(method, std::move(path), [fal, handler](Exchange& ex) { return handler(ex, *fal); }, fal_error);
}

}  // namespace

void add_fal_routes(Router& router) {
  const auto fal = std::make_shared<FalState>();
  const std::string queue = "/fal/queue/{owner}/{app}";
  add(router, fal, http::verb::post, "/fal/run/{owner}/{app}", run);
  add(router, fal, http::verb::post, "/fal/run/{owner}/{app}/stream", stream);
  add(router, fal, http::verb::post, queue, submit);
  add(router, fal, http::verb::get, queue + "/requests/{id}/status", status);
  add(router, fal, http::verb::get, queue + "/requests/{id}/status/stream", status_stream);
  add(router, fal, http::verb::get, queue + "/requests/{id}", result);
  add(router, fal, http::verb::put, queue + "/requests/{id}/cancel", cancel);
}

}  // namespace darkroom::server
