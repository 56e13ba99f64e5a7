// The OpenAI Images dialect (notes/server_spec.md, "OpenAI dialect"): POST /v1/images/generations,
// answered with the images, or streamed as OpenAI's SSE events. Errors are in OpenAI's shape throughout,
// so the official SDKs raise their usual exceptions.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>

#include "chunked_response.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/openai.hpp"
#include "darkroom/server/sse.hpp"
#include "event_feed.hpp"
#include "job_result.hpp"
#include "job_streams.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;
using nlohmann::json;
using namespace boost::asio::experimental::awaitable_operators;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The request parsed, its model resolved, "auto" settled and every value checked: ready to submit.
OpenAiImageRequest prepare(ServerState& state, const Request& http_request) {
  auto request = parse_openai_request(parse_json_body(http_request.body()), state.defaults);
  request.job.model = state.resolve_model(request.job.model);
  const auto model = state.describe_model(request.job.model);
  // "size": "auto" (and no size): the resolution the model was trained at.
  if (request.auto_size) request.job.generation.width = request.job.generation.height = model.defaults.image_size;
  pipeline::use_model_defaults(request.job.generation, model.defaults);  // so the PNG's infotext says what ran
  validate_openai_request(request, state.defaults, model.latent_scale);
  return request;
}

// usage.input_tokens: the prompt's CLIP BPE tokens (no start/end tokens), from the tokenizer the engine
// loads for the model: read from its files once (a few hundred ms, on the event loop, once per model).
int prompt_tokens(ServerState& state, const engine::JobRequest& job) {
  auto& tokenizer = state.tokenizers[job.model];
  if (!tokenizer) {
    // As pipeline::StableDiffusion::load chooses: the model's own tokenizer, else --vocab.
    const auto source = io::open_model(state.models.path_of(job.model).value());
    const auto& vocab = state.options.engine.load.vocab;
    if (source.tokenizer) {
      tokenizer = std::make_shared<const text::ClipTokenizer>(
          text::ClipTokenizer::from_vocab_and_merges(source.tokenizer->vocab_json, source.tokenizer->merges_txt));
    } else if (vocab) {
      tokenizer = std::make_shared<const text::ClipTokenizer>(text::ClipTokenizer::from_bpe_file(*vocab));
    } else {
      throw io::ModelFileError(source.path, "carries no tokenizer");
    }
  }
  return static_cast<int>(tokenizer->encode(job.generation.prompt).size());
}

// A final image in the requested format. PNGs carry the A1111 "parameters" text chunk, as the native
// API's downloads do.
std::vector<uint8_t> encode_output(const OpenAiImageRequest& request, const image::Image& picture, int64_t seed) {
  if (request.output_format != image::Format::png)
    return image::encode(picture, request.output_format, request.output_compression);
  return image::encode_png(picture, {{"parameters", pipeline::infotext(request.job.generation, seed, request.job.model)}});
}

struct Failure {
  http::status status;
  json body;  // openai_error_json
};

// A job that ended without images. An invalid request is the client's error (400). A failed job is the
// server's (500, code = the engine's error code). A cancelled job was cancelled by someone else (DELETE
// /v1/jobs/{id}: 500 "cancelled") or by a shutdown (503 "server_shutting_down", worth a retry later);
// 499 would be wrong: the client did not close the request.
Failure failure_of(const engine::Event& event) {
  if (const auto* error = event.as<engine::Error>()) {
    if (error->code == "invalid_request")
      return {http::status::bad_request, openai_error_json(error->message, "invalid_request_error", "", error->code)};
    return {http::status::internal_server_error, openai_error_json(error->message, "server_error", "", error->code)};
  }
  const auto& reason = event.as<engine::Cancelled>()->reason;
  if (reason == "shutdown")
    return {http::status::service_unavailable,
            openai_error_json("the server is shutting down", "server_error", "", "server_shutting_down")};
  return {http::status::internal_server_error,
          openai_error_json("the generation was cancelled (" + reason + ")", "server_error", "", "cancelled")};
}

// One job event as OpenAI stream events ("" for events OpenAI has no counterpart for). Partial images
// are encoded as the final images will be.
std::string stream_chunk(const engine::Event& event, const OpenAiImageRequest& request, ServerState& state,
                         int64_t created) {
  if (const auto* preview = event.as<engine::Preview>()) {
    std::shared_ptr<const std::vector<uint8_t>> bytes;
    try {
      bytes = preview->image->encoded(request.output_format, request.output_compression);
    } catch (const std::exception&) {
      return {};  // a preview that cannot be encoded is skipped, as in the native stream
    }
    return sse_event("image_generation.partial_image", 0,
                     json_text(openai_partial_image_json(request, *bytes, created, preview->index)));
  }
  if (const auto* done = event.as<engine::Completed>()) {
    const int tokens = prompt_tokens(state, request.job);
    std::string chunk;
    for (const auto& picture : done->images)
      chunk += sse_event("image_generation.completed", 0,
                         json_text(openai_completed_json(request, encode_output(request, *picture, done->seed), created, tokens)));
    return chunk;
  }
  if (event.terminal()) return sse_event("error", 0, json_text(openai_stream_error_json(failure_of(event).body)));
  return {};
}

awaitable<void> pump(ChunkedResponse& out, EventFeed& feed, const OpenAiImageRequest& request, ServerState& state) {
  const int64_t created = unix_now();
  const std::string heartbeat = sse_comment("keep-alive");
  bool failed = false;
  while (!failed) {
    const auto event = co_await next_or_heartbeat(feed, out, heartbeat, state.options.heartbeat);
    if (!event) break;
    std::string chunk;
    try {
      chunk = stream_chunk(*event, request, state, created);
    } catch (const std::exception& e) {
      // The stream has started: the failure can only be told in-band, and it ends the stream.
      const auto error = openai_error_json(e.what(), "server_error", "", "internal");
      chunk = sse_event("error", 0, json_text(openai_stream_error_json(error)));
      failed = true;
    }
    if (!co_await out.write(chunk)) co_return;
  }
  if (feed.ended() || failed) co_await out.finish();
}

// The stream watches its job as the native POST /v1/generate does: a client that drops the connection
// leaves the job running for the grace period, so it can still be fetched by the id in X-Darkroom-Job-Id.
awaitable<void> stream_images(Exchange& ex, const OpenAiImageRequest& request, std::shared_ptr<engine::Job> job) {
  auto& state = ex.state;
  state.watchers.adopt(job, false);
  const auto watch = state.watchers.watch(job);
  EventFeed feed(job, 0, state.executor);
  ChunkedResponse out(ex);
  const std::string content_type = "text/event-stream; charset=utf-8";
  const std::vector<std::pair<std::string, std::string>> headers{{"X-Darkroom-Job-Id", job->id()}};
  if (!co_await out.start(content_type, headers)) co_return;
  const Metrics::OpenStream counted(state.metrics);
  co_await (pump(out, feed, request, state) || client_gone(ex));
}

awaitable<void> generate_images(Exchange& ex) {
  auto& state = ex.state;
  const auto request = prepare(state, ex.request);
  const auto job = state.engine.submit(request.job);
  if (request.stream) {
    co_await stream_images(ex, request, job);
    co_return;
  }
  const auto result = co_await await_result(ex, job);
  if (!result) co_return;  // the client left
  const auto* done = result->as<engine::Completed>();
  if (!done) {
    const auto failure = failure_of(*result);
    co_await ex.send_json(failure.status, failure.body);
    co_return;
  }
  std::vector<std::vector<uint8_t>> images;
  for (const auto& picture : done->images) images.push_back(encode_output(request, *picture, done->seed));
  const auto body = openai_response_json(request, images, unix_now(), prompt_tokens(state, request.job));
  co_await ex.send_json(http::status::ok, body);
}

// What the HTTP session would answer in the native shape, in OpenAI's.
awaitable<void> with_openai_errors(Exchange& ex, awaitable<void> (*handler)(Exchange&)) {
  std::optional<Response> failure;
  try {
    co_await handler(ex);
  } catch (const RequestError& e) {
    failure = ex.json_response(http::status::bad_request, openai_error_json(e));
  } catch (const engine::QueueFull& e) {
    ex.state.metrics.rejected_queue_full();
    failure = ex.json_response(http::status::too_many_requests,
                               openai_error_json("the queue is full (" + std::to_string(e.limit()) +
                                                     " jobs waiting); retry later",
                                                 "rate_limit_error", "", "queue_full"));
    failure->set(http::field::retry_after, std::to_string(ex.state.options.retry_after_s));
  } catch (const engine::EngineStopped&) {
    failure = ex.json_response(http::status::service_unavailable,
                               openai_error_json("the server is shutting down", "server_error", "", "server_shutting_down"));
  } catch (const std::exception& e) {
    failure = ex.json_response(http::status::internal_server_error, openai_error_json(e.what(), "server_error", "", "internal"));
  }
  if (!failure) co_return;
  if (ex.responded) {  // mid-stream: nothing can follow a started response
    ex.keep_alive = false;
    co_return;
  }
  co_await ex.send(std::move(*failure));
}

}  // namespace

void add_openai_routes(Router& router) {
  router.add(http::verb::post, "/v1/images/generations", [](Exchange& ex) { return with_openai_errors(ex, generate_images); });
}

}  // namespace darkroom::server
