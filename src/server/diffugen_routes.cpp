// The DiffuGen dialect (docs/server.md, "DiffuGen"): /generate[/stable|/flux][/stream] and
// /v1/images/generations/stream, streamed as DiffuGen's progress events or answered with the image.
#include <chrono>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/server/diffugen.hpp"
#include "event_stream.hpp"
#include "job_result.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Only Stable Diffusion models are served; a name or route that asks for another generator (FLUX, SD3) is
// refused naming the model.
[[noreturn]] void no_such_generator(const std::string& name, std::string_view family) {
  throw field_error("model", "'" + name + "' is a " + std::string(family == "flux" ? "FLUX" : "Stable Diffusion 3") +
                                 " model; this server serves Stable Diffusion 1.x, 2.x and XL models only");
}

// The model a request names: absent, the server's default; a model id of this server, that model; one of
// DiffuGen's names (sd15, sdxl, ...), the default model when it is of that family, else the first model of
// it. Throws RequestError (field "model").
std::string stable_diffusion_model(ServerState& state, const std::string& name) {
  if (name.empty()) return state.resolve_model(state.defaults.model);
  if (state.models.path_of(name)) return name;
  const auto named = diffugen_model_family(name);
  if (!named) return state.resolve_model(name);  // unknown: the error lists the models there are
  if (*named == "flux" || *named == "sd3") no_such_generator(name, *named);
  const auto family = *named == "sdxl" ? io::ModelFamily::sdxl : io::ModelFamily::sd1;
  const auto of_family = [&](const std::string& id) {
    try {
      return state.describe_model(id).family == family;
    } catch (const RequestError&) {
      return false;  // a model that cannot be read is no candidate
    }
  };
  if (!state.defaults.model.empty() && of_family(state.defaults.model)) return state.defaults.model;
  std::string ids;
  for (const auto& model : state.models.list()) {
    if (of_family(model.id)) return model.id;
    ids += (ids.empty() ? "" : ", ") + model.id;
  }
  throw field_error("model", "'" + name + "' asks for an " + std::string(io::family_name(family)) +
                                 " model, and this server has none; available: " + ids);
}

// The route must fit the model: /generate/flux serves FLUX models, which this server has none of.
std::string resolve_model(ServerState& state, const std::string& name, DiffugenRoute route) {
  const auto model = stable_diffusion_model(state, name);
  if (route != DiffugenRoute::flux) return model;
  const auto family = io::family_name(state.describe_model(model).family);
  throw field_error("model", "'" + model + "' is a Stable Diffusion model (" + std::string(family) +
                                 "); /generate/flux serves FLUX models, which this server does not have (use /generate/stable)");
}

// Parsed, its model resolved, the model's defaults applied and every value checked: ready to submit.
DiffugenRequest prepare(ServerState& state, DiffugenRoute route, const Request& http_request) {
  auto request = parse_diffugen_request(parse_json_body(http_request.body()), route);
  request.job.model = resolve_model(state, request.job.model, route);
  const auto model = state.describe_model(request.job.model);
  pipeline::use_model_defaults(request.job.generation, model.defaults);
  validate_diffugen_request(request, state.defaults, model.latent_scale);
  state.check_timeout(request.job);
  return request;
}

// A client that leaves a stream leaves its job for the grace period, as every stream does.
awaitable<void> generate_stream(Exchange& ex, DiffugenRoute route) {
  auto& state = ex.state;
  const auto request = prepare(state, route, ex.request);
  const auto job = state.engine.submit(request.job);
  state.watchers.adopt(job, false);
  const auto encoder = diffugen_stream_encoder(job->id(), unix_now_s());
  co_await stream_response(ex, job, 0, *encoder);
}

awaitable<void> generate(Exchange& ex, DiffugenRoute route) {
  auto& state = ex.state;
  const auto request = prepare(state, route, ex.request);
  const auto job = state.engine.submit(request.job);
  const auto result = co_await await_images(ex, job);
  if (!result) co_return;
  const auto* done = result->as<engine::Completed>();
  const auto& generation = request.job.generation;
  const auto png = image::encode_png(*done->images.at(0),
                                     {{"parameters", pipeline::infotext(generation, done->seed, request.job.model)}});
  const auto body = diffugen_response_json(request, job->id(), done->images.size(), done->seed, png);
  co_await ex.send_json(http::status::ok, body);
}

void add(Router& router, std::string path, DiffugenRoute route, awaitable<void> (*handler)(Exchange&, DiffugenRoute)) {
  router.add(http::verb::post, std::move(path), [route, handler](Exchange& ex) { return handler(ex, route); },
             diffugen_error);
}

}  // namespace

void add_diffugen_routes(Router& router) {
  add(router, "/generate", DiffugenRoute::any, generate);
  add(router, "/generate/stable", DiffugenRoute::stable, generate);
  add(router, "/generate/flux", DiffugenRoute::flux, generate);
  add(router, "/generate/stream", DiffugenRoute::any, generate_stream);
  add(router, "/generate/stable/stream", DiffugenRoute::stable, generate_stream);
  add(router, "/generate/flux/stream", DiffugenRoute::flux, generate_stream);
  add(router, "/v1/images/generations/stream", DiffugenRoute::openwebui, generate_stream);
}

}  // namespace darkroom::server
