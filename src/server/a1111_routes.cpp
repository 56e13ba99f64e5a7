// The AUTOMATIC1111 web UI dialect (docs/server.md, "A1111"): txt2img answered with its images, live
// progress with preview images, interrupt, and the lists A1111 clients read at start-up.
#include <algorithm>
#include <cctype>
#include <limits>

#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/a1111.hpp"
#include "job_result.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;
using nlohmann::json;

// The settings A1111 keeps between requests, and its one current job.
struct A1111State {
  // A1111's API has no job ids: /sdapi/v1/progress and /interrupt act on the newest job submitted
  // through /sdapi/v1/txt2img.
  std::shared_ptr<engine::Job> job;
  // POST /sdapi/v1/options' sd_model_checkpoint: the model of later txt2img calls that name none
  // ("": the server's default model).
  std::string model;
  // show_progress_every_n_steps: A1111 shows a live preview every N steps, 10 by default; 0 or -1: none.
  int preview_every_n_steps = 10;
};

const std::string& a1111_model(const ServerState& state, const A1111State& a1111) {
  return a1111.model.empty() ? state.defaults.model : a1111.model;
}

// The request parsed, its model resolved and every value checked, with live previews: ready to submit.
A1111Request prepare(ServerState& state, const A1111State& a1111, const Request& http_request) {
  RequestDefaults defaults = state.defaults;
  defaults.model = a1111_model(state, a1111);
  auto request = parse_a1111_txt2img(parse_json_body(http_request.body()), defaults);
  try {
    request.job.model = state.resolve_model(request.job.model);
    const auto model = state.describe_model(request.job.model);
    auto model_defaults = model.defaults;
    if (!model_defaults.cfg) model_defaults.cfg = kA1111CfgScale;  // a model's own recommendation comes first
    pipeline::use_model_defaults(request.job.generation, model_defaults);
    validate_a1111_request(request, defaults, model.latent_scale);
  } catch (const RequestError& error) {
    throw error.field() == "model" ? with_field(error, "override_settings.sd_model_checkpoint") : error;
  }
  // A1111 makes its live previews with its cheap approximate decoder: here the model's auto preview
  // method. PNG, because /progress sends a PNG.
  const int every = request.preview_every_n_steps.value_or(a1111.preview_every_n_steps);
  auto& preview = request.job.preview;
  preview.method = every > 0 ? preview::Method::auto_ : preview::Method::none;
  preview.every_n_steps = std::max(every, 1);
  preview.format = image::Format::png;
  return request;
}

// An interrupted job answers 200 with no images: A1111 answers an interrupted txt2img normally, with
// what it had (we have no image for an unfinished job).
awaitable<void> txt2img(Exchange& ex, A1111State& a1111) {
  auto& state = ex.state;
  const auto request = prepare(state, a1111, ex.request);
  const auto job = state.engine.submit(request.job);
  a1111.job = job;
  const auto result = co_await await_result(ex, job);
  if (a1111.job == job) a1111.job.reset();  // progress is idle again; the images are let go
  if (!result) co_return;  // the client left
  const auto failure = job_failure(*result);
  if (failure && failure->kind != Failure::Kind::cancelled) {
    co_await ex.send_failure(*failure);
    co_return;
  }
  const auto* done = result->as<engine::Completed>();
  const auto body = done ? a1111_txt2img_response(request, done->images, done->seed)
                         : a1111_txt2img_response(request, {}, request.job.generation.seed);
  co_await ex.send_json(http::status::ok, body);
}

// FastAPI's bool query parameters: true/false, 1/0, yes/no, on/off, any case.
bool query_flag(const Exchange& ex, const std::string& key) {
  auto value = ex.query(key);
  if (!value) return false;
  std::transform(value->begin(), value->end(), value->begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* yes : {"true", "1", "yes", "on"})
    if (*value == yes) return true;
  for (const char* no : {"false", "0", "no", "off"})
    if (*value == no) return false;
  throw field_error(key, "must be true or false, got '" + *value + "'");
}

A1111Progress progress_of(const engine::Job& job, bool with_image) {
  A1111Progress p;
  if (job.finished()) return p;  // idle
  const auto& log = *job.events();
  p.job = "txt2img";
  p.job_count = 1;
  p.sampling_steps = job.request().generation.steps;
  // The preview is read before the progress: the engine appends while we read, and a step count older
  // than its image would report the picture of a step that has not happened.
  if (const auto event = log.latest(engine::EventType::preview); event && with_image) {
    const auto& options = job.request().preview;
    p.current_image = event->as<engine::Preview>()->image->encoded(options.format, options.quality);
  }
  if (const auto event = log.latest(engine::EventType::progress)) {
    const auto& progress = *event->as<engine::Progress>();
    p.sampling_step = progress.step;
    p.sampling_steps = progress.total;
    p.progress = static_cast<double>(progress.step) / std::max(progress.total, 1);
    p.eta_relative = progress.eta_s;
  }
  if (job.state() == engine::JobState::queued)
    p.textinfo = "Waiting in the queue (position " + std::to_string(job.position()) + ")";
  else if (const auto event = log.latest(engine::EventType::phase))
    p.textinfo = event->as<engine::PhaseChanged>()->phase;
  return p;
}

awaitable<void> get_progress(Exchange& ex, A1111State& a1111) {
  const bool skip_image = query_flag(ex, "skip_current_image");
  const auto& job = a1111.job;
  const auto body = a1111_progress_json(job ? progress_of(*job, !skip_image) : A1111Progress{});
  co_await ex.send_json(http::status::ok, body);
}

// /interrupt and /skip: A1111's skip moves on to the next image of a batch run, which here is one job.
awaitable<void> interrupt(Exchange& ex, A1111State& a1111) {
  if (a1111.job) a1111.job->cancel();
  co_await ex.send_json(http::status::ok, json::object());
}

awaitable<void> samplers(Exchange& ex, A1111State&) { co_await ex.send_json(http::status::ok, a1111_samplers_json()); }

awaitable<void> sd_models(Exchange& ex, A1111State&) {
  std::vector<A1111Model> models;
  for (const auto& model : ex.state.models.list()) models.push_back({model.id, model.path.filename().string()});
  co_await ex.send_json(http::status::ok, a1111_models_json(models));
}

awaitable<void> get_options(Exchange& ex, A1111State& a1111) {
  const json body{{"sd_model_checkpoint", a1111_model(ex.state, a1111)},
                  {"show_progress_every_n_steps", a1111.preview_every_n_steps}};
  co_await ex.send_json(http::status::ok, body);
}

// Only sd_model_checkpoint and show_progress_every_n_steps change anything; A1111 clients send many other
// settings, which are ignored.
awaitable<void> set_options(Exchange& ex, A1111State& a1111) {
  const auto body = parse_json_body(ex.request.body());
  auto preview_every = a1111.preview_every_n_steps;
  if (const auto it = body.find("show_progress_every_n_steps"); it != body.end()) {
    if (!it->is_number_integer())
      throw field_error("show_progress_every_n_steps", "must be an integer (steps between live previews)");
    const auto steps = std::clamp<int64_t>(it->get<int64_t>(), -2, std::numeric_limits<int>::max());
    preview_every = check_a1111_preview_period(static_cast<int>(steps), "show_progress_every_n_steps");
  }
  auto model = a1111.model;
  if (const auto it = body.find("sd_model_checkpoint"); it != body.end()) {
    if (!it->is_string()) throw field_error("sd_model_checkpoint", "must be a string (a model title from /sdapi/v1/sd-models)");
    try {
      model = ex.state.resolve_model(it->get<std::string>());
      ex.state.describe_model(model);  // a model whose files cannot be read is refused now, not at txt2img
    } catch (const RequestError& error) {
      throw with_field(error, "sd_model_checkpoint");
    }
  }
  // All or nothing: a request with one bad setting changes none.
  a1111.preview_every_n_steps = preview_every;
  a1111.model = std::move(model);
  co_await ex.send_json(http::status::ok, nullptr);
}

using A1111Handler = awaitable<void> (*)(Exchange&, A1111State&);

void add(Router& router, const std::shared_ptr<A1111State>& a1111, http::verb method, std::string path,
         A1111Handler handler) {
  router.add(method, std::move(path), [a1111, handler](Exchange& ex) { return handler(ex, *a1111); }, a1111_error);
}

}  // namespace

void add_a1111_routes(Router& router) {
  const auto a1111 = std::make_shared<A1111State>();
  add(router, a1111, http::verb::post, "/sdapi/v1/txt2img", txt2img);
  add(router, a1111, http::verb::get, "/sdapi/v1/progress", get_progress);
  add(router, a1111, http::verb::post, "/sdapi/v1/interrupt", interrupt);
  add(router, a1111, http::verb::post, "/sdapi/v1/skip", interrupt);
  add(router, a1111, http::verb::get, "/sdapi/v1/samplers", samplers);
  add(router, a1111, http::verb::get, "/sdapi/v1/sd-models", sd_models);
  add(router, a1111, http::verb::get, "/sdapi/v1/options", get_options);
  add(router, a1111, http::verb::post, "/sdapi/v1/options", set_options);
}

}  // namespace darkroom::server
