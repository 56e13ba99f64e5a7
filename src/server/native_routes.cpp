// The native API (docs/server.md): jobs, their event streams, previews and results; capabilities, health
// and metrics.
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

#include "darkroom/image/encode.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/sampling/schedule.hpp"
#include "darkroom/server/request_error.hpp"
#include "darkroom/server/native_stream.hpp"
#include "event_stream.hpp"
#include "routes.hpp"
#include "server_state.hpp"
#include "submission.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;
using Kind = Failure::Kind;

std::optional<uint64_t> parse_seq(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The resume cursor: Last-Event-ID, else ?after=N, else 0 (from the job's first event).
uint64_t resume_cursor(const Exchange& exchange) {
  const auto header = exchange.request["Last-Event-ID"];
  if (!header.empty()) {
    if (auto seq = parse_seq(std::string_view(header.data(), header.size()))) return *seq;
    throw field_error("after", "Last-Event-ID must be an event sequence number, got '" + std::string(header) + "'");
  }
  if (const auto after = exchange.query("after")) {
    if (auto seq = parse_seq(*after)) return *seq;
    throw field_error("after", "must be an event sequence number (0 or more), got '" + *after + "'");
  }
  return 0;
}

// msgpack when the Accept header names application/vnd.msgpack (or the legacy application/x-msgpack),
// unless the request body chose with its "stream" field; SSE otherwise.
StreamFormat negotiate_stream(const Request& request, std::optional<StreamFormat> chosen) {
  if (chosen) return *chosen;
  const auto accept = request[http::field::accept];
  const bool msgpack = accept.find("application/vnd.msgpack") != std::string_view::npos ||
                       accept.find("application/x-msgpack") != std::string_view::npos;
  return msgpack ? StreamFormat::msgpack : StreamFormat::sse;
}

awaitable<void> stream_job(Exchange& ex, std::shared_ptr<engine::Job> job, uint64_t after, StreamFormat format) {
  const auto encoder = native_stream_encoder(format, job->id(), job->request());
  co_await stream_response(ex, job, after, *encoder);
}

// The job named by the {id} segment; nullptr after a 404 has been sent.
awaitable<std::shared_ptr<engine::Job>> find_job(Exchange& ex) {
  auto job = ex.state.engine.find(ex.params.at("id"));
  if (!job) {
    const Failure failure{Kind::not_found, "no job '" + ex.params.at("id") + "' (unknown, or finished longer ago than the job TTL)",
                          "id", "", 0};
    co_await ex.send_failure(failure);
  }
  co_return job;
}

awaitable<void> post_job(Exchange& ex) {
  const auto body = parse_json_body(ex.request.body());
  auto request = parse_native_request(body, ex.state.defaults, false);
  const auto job = submit_native(ex.state, std::move(request));
  Response response{http::status::accepted, ex.request.version()};
  response.set(http::field::location, "/v1/jobs/" + job->id());
  response.set(http::field::content_type, "application/json");
  response.body() = json_text(submitted_json(*job));
  co_await ex.send(std::move(response));
}

awaitable<void> generate(Exchange& ex) {
  const auto body = parse_json_body(ex.request.body());
  auto request = parse_native_request(body, ex.state.defaults, true);
  const auto format = negotiate_stream(ex.request, request.stream);
  const bool cancel_on_disconnect = request.cancel_on_disconnect;
  const auto job = submit_native(ex.state, std::move(request));
  ex.state.watchers.adopt(job, cancel_on_disconnect);
  co_await stream_job(ex, job, 0, format);
}

awaitable<void> get_job(Exchange& ex) {
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  const auto status = job_status_json(*job);
  co_await ex.send_json(http::status::ok, status);
}

awaitable<void> get_events(Exchange& ex) {
  const auto after = resume_cursor(ex);
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  const auto format = negotiate_stream(ex.request, std::nullopt);
  co_await stream_job(ex, job, after, format);
}

awaitable<void> cancel_job(Exchange& ex) {
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  const bool was_running = !job->finished();
  job->cancel();
  const nlohmann::json body{{"id", job->id()}, {"state", engine::state_name(job->state())}};
  co_await ex.send_json(was_running ? http::status::accepted : http::status::ok, body);
}

awaitable<void> get_preview(Exchange& ex) {
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  const auto event = job->events()->latest(engine::EventType::preview);
  if (!event) {
    const Failure failure{Kind::not_found, "job '" + job->id() + "' has no preview yet", "", "no_preview", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  const auto& preview = *event->as<engine::Preview>();
  const auto& options = job->request().preview;
  const auto bytes = preview.image->encoded(options.format, options.quality);
  Response response{http::status::ok, ex.request.version()};
  response.set(http::field::content_type, image::content_type(options.format));
  response.set(http::field::cache_control, "no-store");
  response.set("X-Darkroom-Preview-Step", std::to_string(preview.step));
  response.set("X-Darkroom-Preview-Index", std::to_string(preview.index));
  response.body().assign(bytes->begin(), bytes->end());
  co_await ex.send(std::move(response));
}

awaitable<void> get_image(Exchange& ex) {
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  const auto& n = ex.params.at("n");
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
  const auto event = job->events()->latest(engine::EventType::completed);
  const auto* done = event ? event->as<engine::Completed>() : nullptr;
  if (ec != std::errc() || end != n.data() + n.size() || !done || index >= done->images.size()) {
    std::string message = "job '" + job->id() + "' has no images (state " + std::string(engine::state_name(job->state())) + ")";
    if (done) message = "job '" + job->id() + "' has images 0.." + std::to_string(done->images.size() - 1) + ", not '" + n + "'";
    const Failure failure{Kind::not_found, message, "n", "", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  auto format = image::Format::png;
  if (const auto name = ex.query("format")) {
    const auto parsed = image::parse_format(*name);
    if (!parsed) throw field_error("format", "must be png, jpeg or webp, got '" + *name + "'");
    format = *parsed;
  }
  const auto& picture = *done->images[index];
  std::vector<uint8_t> bytes;
  if (format == image::Format::png) {
    const auto parameters = pipeline::infotext(job->request().generation, done->seed, job->request().model);
    bytes = image::encode_png(picture, {{"parameters", parameters}});
  } else {
    bytes = image::encode(picture, format, 90);
  }
  std::string body(bytes.begin(), bytes.end());
  co_await ex.send_bytes(http::status::ok, image::content_type(format), std::move(body));
}

awaitable<void> get_animation(Exchange& ex) {
  const auto job = co_await find_job(ex);
  if (!job) co_return;
  std::string message;
  if (!ex.state.animations.recorded(job->id()))
    message = "job '" + job->id() + "' was not submitted with \"animation\": true";
  else if (!job->events()->latest(engine::EventType::completed))
    message = "job '" + job->id() + "' has not completed (state " + std::string(engine::state_name(job->state())) +
              "): its animation ends on the final image";
  if (!message.empty()) {
    const Failure failure{Kind::not_found, message, "", "no_animation", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  const auto webp = co_await ex.state.animations.webp(job);
  std::string body(webp->begin(), webp->end());
  co_await ex.send_bytes(http::status::ok, "image/webp", std::move(body));
}

nlohmann::json names(auto values, auto name_of) {
  auto out = nlohmann::json::array();
  for (const auto value : values) out.push_back(name_of(value));
  return out;
}

awaitable<void> capabilities(Exchange& ex) {
  auto& state = ex.state;
  auto models = nlohmann::json::array();
  for (const auto& model : state.models.list()) {
    nlohmann::json entry{{"id", model.id}, {"default", model.id == state.defaults.model}};
    try {
      const auto description = state.describe_model(model.id);
      const auto caps = state.engine.capabilities(description.family, description.latent_channels,
                                                  description.latent2rgb_table);
      auto methods = nlohmann::json::array({"none", "auto"});
      for (const auto method : {preview::Method::latent2rgb, preview::Method::taesd, preview::Method::vae})
        if (caps.available(method)) methods.push_back(preview::method_name(method));
      entry["family"] = io::family_name(description.family);
      entry["latent_channels"] = description.latent_channels;
      entry["preview_methods"] = methods;
      entry["auto_preview"] = preview::method_name(caps.auto_method);
      // What a request that leaves these out gets on this model (spacing null: the sampler's own).
      pipeline::GenerationRequest unset;
      pipeline::use_model_defaults(unset, description.defaults);
      entry["defaults"] = {{"width", unset.width},
                           {"height", unset.height},
                           {"cfg", *unset.cfg},
                           {"spacing", unset.spacing ? nlohmann::json(sampling::spacing_name(*unset.spacing)) : nlohmann::json()}};
    } catch (const std::exception& e) {
      entry["error"] = e.what();  // listed, so an operator sees why it cannot be used (no server paths)
    }
    models.push_back(std::move(entry));
  }
  const auto& limits = state.options.engine.limits;
  const nlohmann::json body{{"models", models},
                         {"default_model", state.defaults.model},
                         {"samplers", names(sampling::kSamplerKinds, sampling::sampler_name)},
                         {"schedulers", names(sampling::kSigmaSchedules, sampling::sigma_schedule_name)},
                         {"spacings", names(sampling::kSpacings, sampling::spacing_name)},
                         {"preview_methods", {"none", "auto", "latent2rgb", "taesd", "vae"}},
                         {"preview_formats", {"jpeg", "webp", "png"}},
                         {"stream_formats", {"sse", "msgpack"}},
                         {"limits",
                          {{"max_side", limits.max_side},
                           {"max_steps", limits.max_steps},
                           {"max_batch", limits.max_batch},
                           {"max_prompt_bytes", limits.max_prompt_bytes},
                           {"max_pixels", limits.max_pixels},
                           {"max_work", limits.max_work},
                           {"max_body_bytes", state.options.max_body_bytes}}}};
  co_await ex.send_json(http::status::ok, body);
}

awaitable<void> health(Exchange& ex) {
  const auto stats = ex.state.engine.stats();
  const nlohmann::json body{{"status", ex.state.stopping ? "stopping" : "ok"}, {"queued", stats.queued}, {"running", stats.running}};
  co_await ex.send_json(ex.state.stopping ? http::status::service_unavailable : http::status::ok, body);
}

awaitable<void> metrics(Exchange& ex) {
  auto text = ex.state.metrics.render(ex.state.engine.stats());
  co_await ex.send_bytes(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(text));
}

}  // namespace

void add_native_routes(Router& router) {
  router.add(http::verb::post, "/v1/jobs", post_job);
  router.add(http::verb::post, "/v1/generate", generate);
  router.add(http::verb::get, "/v1/jobs/{id}", get_job);
  router.add(http::verb::delete_, "/v1/jobs/{id}", cancel_job);
  router.add(http::verb::get, "/v1/jobs/{id}/events", get_events);
  router.add(http::verb::get, "/v1/jobs/{id}/preview", get_preview);
  router.add(http::verb::get, "/v1/jobs/{id}/images/{n}", get_image);
  router.add(http::verb::get, "/v1/jobs/{id}/animation", get_animation);
  router.add(http::verb::get, "/v1/capabilities", capabilities);
  router.add_open(http::verb::get, "/health", health);
  router.add(http::verb::get, "/metrics", metrics);
}

}  // namespace darkroom::server
