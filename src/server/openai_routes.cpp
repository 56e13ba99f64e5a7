// The OpenAI Images dialect (docs/server.md, "OpenAI Images"): POST /v1/images/generations, answered with
// the images or streamed as OpenAI's SSE events, and GET /v1/models. Errors are in OpenAI's shape
// throughout, so the official SDKs raise their usual exceptions.
#include <chrono>
#include <filesystem>

#include "darkroom/server/openai.hpp"
#include "darkroom/text/clip_tokenizer.hpp"
#include "event_stream.hpp"
#include "job_result.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;
using nlohmann::json;

// Prompt tokenizers for the usage counts, loaded on first use, by model id.
using Tokenizers = std::map<std::string, std::shared_ptr<const text::ClipTokenizer>>;

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
int prompt_tokens(ServerState& state, Tokenizers& tokenizers, const engine::JobRequest& job) {
  auto& tokenizer = tokenizers[job.model];
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

// A streamed request's job is watched as the native POST /v1/generate's is: a client that drops the
// connection leaves the job running for the grace period, so it can still be fetched by the id in
// X-Darkroom-Job-Id.
awaitable<void> generate_images(Exchange& ex, Tokenizers& tokenizers) {
  auto& state = ex.state;
  const auto request = prepare(state, ex.request);
  const int tokens = prompt_tokens(state, tokenizers, request.job);
  const auto job = state.engine.submit(request.job);
  if (request.stream) {
    state.watchers.adopt(job, false);
    const auto encoder = openai_stream_encoder(request, unix_now(), tokens);
    co_await stream_response(ex, job, 0, *encoder);
    co_return;
  }
  const auto result = co_await await_images(ex, job);
  if (!result) co_return;
  const auto* done = result->as<engine::Completed>();
  std::vector<std::vector<uint8_t>> images;
  for (const auto& picture : done->images) images.push_back(openai_output_image(request, *picture, done->seed));
  const auto body = openai_response_json(request, images, unix_now(), tokens);
  co_await ex.send_json(http::status::ok, body);
}

awaitable<void> list_models(Exchange& ex) {
  auto data = json::array();
  for (const auto& model : ex.state.models.list()) {
    std::error_code ec;
    const auto modified = std::filesystem::last_write_time(model.path, ec);
    const auto created = ec ? 0
                            : std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::file_clock::to_sys(modified).time_since_epoch())
                                  .count();
    data.push_back({{"id", model.id}, {"object", "model"}, {"created", created}, {"owned_by", "darkroom"}});
  }
  const json body{{"object", "list"}, {"data", data}};
  co_await ex.send_json(http::status::ok, body);
}

}  // namespace

void add_openai_routes(Router& router) {
  const auto tokenizers = std::make_shared<Tokenizers>();
  router.add(http::verb::post, "/v1/images/generations",
             [tokenizers](Exchange& ex) { return generate_images(ex, *tokenizers); }, openai_error);
  router.add(http::verb::get, "/v1/models", list_models, openai_error);
}

}  // namespace darkroom::server
