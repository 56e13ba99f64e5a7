// The NovelAI image dialect (docs/server.md, "NovelAI"): POST /ai/generate-image-stream (msgpack frames or
// SSE of intermediate and final chunks) and POST /ai/generate-image (a zip of PNGs). Each of NovelAI's
// samples is a job of its own; the jobs queue together and are streamed one after another.
#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/server/novelai.hpp"
#include "darkroom/server/zip_archive.hpp"
#include "event_stream.hpp"
#include "job_result.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;

// gen_id: NovelAI's clients read an integer; one per request, shared by its samples.
struct NovelAiState {
  uint64_t next_gen_id = 1;
};

NovelAiRequest prepare(ServerState& state, const Request& http_request) {
  auto request = parse_novelai_request(parse_json_body(http_request.body()), state.defaults);
  request.job.model = state.resolve_model(request.job.model);
  const auto model = state.describe_model(request.job.model);
  pipeline::use_model_defaults(request.job.generation, model.defaults);
  validate_novelai_request(request, state.defaults, model.latent_scale);
  return request;
}

// All samples or none: a full queue part-way cancels the ones already queued.
std::vector<std::shared_ptr<engine::Job>> submit_samples(ServerState& state, const NovelAiRequest& request) {
  std::vector<std::shared_ptr<engine::Job>> jobs;
  try {
    for (int i = 0; i < request.n_samples; ++i) jobs.push_back(state.engine.submit(novelai_sample(request, i)));
  } catch (...) {
    for (const auto& job : jobs) job->cancel();
    throw;
  }
  return jobs;
}

// The stream's jobs outlive a client that leaves for the grace period, as every stream's do.
awaitable<void> generate_stream(Exchange& ex, NovelAiState& novelai) {
  auto& state = ex.state;
  const auto request = prepare(state, ex.request);
  const auto jobs = submit_samples(state, request);
  const uint64_t gen_id = novelai.next_gen_id++;
  std::vector<std::unique_ptr<StreamEncoder>> encoders;
  std::vector<StreamPart> parts;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    state.watchers.adopt(jobs[i], false);
    encoders.push_back(novelai_stream_encoder(request.stream, jobs[i]->request(), static_cast<int>(i), gen_id));
    parts.push_back({jobs[i], 0, encoders.back().get()});
  }
  std::vector<std::pair<std::string, std::string>> headers;
  co_await stream_response(ex, std::move(parts), std::move(headers));
}

// image_0.png, image_1.png, ...: each PNG with its parameters chunk.
awaitable<void> generate_zip(Exchange& ex, NovelAiState&) {
  auto& state = ex.state;
  const auto request = prepare(state, ex.request);
  const auto jobs = submit_samples(state, request);
  std::vector<ZipEntry> entries;
  for (const auto& job : jobs) {
    const auto result = co_await await_images(ex, job);
    if (!result) {  // answered (a failure) or the client left: the other samples are not wanted
      for (const auto& other : jobs) other->cancel();
      co_return;
    }
    const auto& done = *result->as<engine::Completed>();
    const auto& sample = job->request();
    const auto parameters = pipeline::infotext(sample.generation, done.seed, sample.model);
    entries.push_back({"image_" + std::to_string(entries.size()) + ".png",
                       image::encode_png(*done.images.at(0), {{"parameters", parameters}})});
  }
  auto zip = zip_archive(entries);
  const std::string content_type = "application/zip";
  co_await ex.send_bytes(http::status::ok, content_type, std::move(zip));
}

using NovelAiHandler = awaitable<void> (*)(Exchange&, NovelAiState&);

void add(Router& router, const std::shared_ptr<NovelAiState>& novelai, std::string path, NovelAiHandler handler) {
  router.add(http::verb::post, std::move(path), [novelai, handler](Exchange& ex) { return handler(ex, *novelai); },
             novelai_error);
}

}  // namespace

void add_novelai_routes(Router& router) {
  const auto novelai = std::make_shared<NovelAiState>();
  add(router, novelai, "/ai/generate-image-stream", generate_stream);
  add(router, novelai, "/ai/generate-image", generate_zip);
}

}  // namespace darkroom::server
