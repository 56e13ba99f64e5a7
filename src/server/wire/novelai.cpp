#include "darkroom/server/novelai.hpp"

#include <array>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/base64.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/sse.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using wire::FieldReader;

// NovelAI's image models: clients hard-code them, and here they mean the server's default model.
bool novelai_model_name(std::string_view model) {
  constexpr std::array kPrefixes{"nai-diffusion", "safe-diffusion", "furry-diffusion"};
  for (const std::string_view prefix : kPrefixes)
    if (model.starts_with(prefix)) return true;
  return false;
}

void parse_sampler(const std::string& name, pipeline::GenerationRequest& g) {
  if (name == "k_euler") g.sampler = sampling::SamplerKind::euler;
  else if (name == "k_euler_ancestral") g.sampler = sampling::SamplerKind::euler_a;
  else if (name == "k_dpmpp_2m") g.sampler = sampling::SamplerKind::dpmpp_2m;
  else if (name == "ddim" || name == "ddim_v3") g.sampler = sampling::SamplerKind::ddim;
  else
    throw field_error("parameters.sampler", "\"" + wire::excerpt(name) +
                                                "\" is not available (available: k_euler, k_euler_ancestral, k_dpmpp_2m, ddim)");
}

void parse_noise_schedule(const std::string& name, pipeline::GenerationRequest& g) {
  if (name == "native") g.scheduler = sampling::SigmaSchedule::discrete;
  else if (name == "karras") g.scheduler = sampling::SigmaSchedule::karras;
  else
    throw field_error("parameters.noise_schedule",
                      "\"" + wire::excerpt(name) + "\" is not available (available: native, karras)");
}

// v4_prompt.caption.base_caption, when the body has one.
std::optional<std::string> base_caption(FieldReader& in, std::string_view key) {
  const auto* v4 = in.find(key);
  if (!v4) return std::nullopt;
  const std::string field = in.path(key);
  FieldReader prompt(*v4, field);
  const auto* caption = prompt.find("caption");
  if (!caption) return std::nullopt;
  FieldReader text(*caption, field + ".caption");
  return text.string("base_caption");
}

class NovelAiStreamEncoder final : public StreamEncoder {
 public:
  NovelAiStreamEncoder(StreamFormat format, const engine::JobRequest& request, int samp_ix, uint64_t gen_id)
      : format_(format), request_(request), samp_ix_(samp_ix), gen_id_(gen_id) {}

  std::string content_type() const override {
    return format_ == StreamFormat::msgpack ? "application/vnd.msgpack" : "text/event-stream; charset=utf-8";
  }
  std::string heartbeat() const override { return format_ == StreamFormat::msgpack ? "" : sse_comment("heartbeat"); }

  StreamChunk encode(const engine::Event& event) override {
    if (const auto* preview = event.as<engine::Preview>()) {
      if (!preview->image) throw std::logic_error("preview event without an image");
      const auto& options = request_.preview;
      auto chunk = header("intermediate", preview->step - 1, preview->sigma);
      chunk["image"] = image(*preview->image->encoded(options.format, options.quality));
      return frame("intermediate", chunk);
    }
    if (const auto* done = event.as<engine::Completed>()) {
      if (done->images.empty() || !done->images[0]) throw std::logic_error("completed event without its image");
      auto chunk = header("final", request_.generation.steps - 1, 0.0);
      const auto parameters = pipeline::infotext(request_.generation, done->seed, request_.model);
      chunk["image"] = image(image::encode_png(*done->images[0], {{"parameters", parameters}}));
      chunk["seed"] = done->seed;
      return frame("final", chunk);
    }
    if (const auto failure = job_failure(event)) {
      json chunk{{"event_type", "error"}, {"samp_ix", samp_ix_}, {"gen_id", gen_id_},
                 {"message", failure->message}, {"code", failure->code_or_kind()}};
      return frame("error", chunk);
    }
    return {};
  }

 private:
  json header(std::string_view type, int step_ix, double sigma) const {
    return {{"event_type", type}, {"samp_ix", samp_ix_}, {"step_ix", step_ix}, {"gen_id", gen_id_},
            {"sigma", sigma},     {"steps", request_.generation.steps}};
  }
  json image(const std::vector<uint8_t>& bytes) const {
    return format_ == StreamFormat::msgpack ? json::binary(bytes) : json(base64::encode(bytes));
  }
  StreamChunk frame(std::string_view name, const json& chunk) const {
    if (format_ == StreamFormat::msgpack) return {msgpack_frame(chunk)};
    return {sse_event(name, 0, json_text(chunk))};
  }

  StreamFormat format_;
  const engine::JobRequest& request_;
  int samp_ix_;
  uint64_t gen_id_;
};

}  // namespace

NovelAiRequest parse_novelai_request(const json& body, const RequestDefaults& defaults) {
  FieldReader in(body, "");
  NovelAiRequest r;
  auto& g = r.job.generation;
  auto model = in.string("model");
  if (model && novelai_model_name(*model) && !defaults.model.empty()) model.reset();
  if (!model && defaults.model.empty()) throw field_error("model", "required (the server has no default model)");
  r.job.model = model.value_or(defaults.model);
  check_model_id(r.job.model);
  if (const auto action = in.string("action"); action && *action != "generate")
    throw field_error("action", "\"" + wire::excerpt(*action) + "\" is not supported (only \"generate\")");

  const auto input = in.string("input");
  static const json kNoParameters = json::object();
  const auto* given = in.find("parameters");
  FieldReader p(given ? *given : kNoParameters, "parameters");
  if (auto v = p.integer("width")) g.width = *v;
  if (auto v = p.integer("height")) g.height = *v;
  if (auto v = p.integer("steps")) g.steps = *v;
  if (auto v = p.number("scale")) g.cfg = *v;
  if (auto v = p.string("sampler")) parse_sampler(*v, g);
  if (auto v = p.string("noise_schedule")) parse_noise_schedule(*v, g);
  if (auto v = p.int64("seed")) g.seed = *v;
  if (auto v = p.integer("n_samples")) {
    if (*v < 1 || *v > 8) throw field_error("parameters.n_samples", "must be between 1 and 8, got " + std::to_string(*v));
    r.n_samples = *v;
  }
  const auto caption = base_caption(p, "v4_prompt");
  if (!input && !caption) throw field_error("input", "required (the prompt; or parameters.v4_prompt.caption.base_caption)");
  g.prompt = input ? *input : *caption;
  if (auto v = p.string("negative_prompt")) g.negative_prompt = *v;
  else if (auto negative = base_caption(p, "v4_negative_prompt")) g.negative_prompt = *negative;
  if (auto v = p.string("stream")) {
    if (*v == "msgpack") r.stream = StreamFormat::msgpack;
    else if (*v == "sse") r.stream = StreamFormat::sse;
    else throw field_error("parameters.stream", "must be \"msgpack\" or \"sse\", got \"" + wire::excerpt(*v) + "\"");
  }
  // An intermediate on every step, as JPEG (what NovelAI streams), from the model's cheapest decoder.
  r.job.preview.method = preview::Method::auto_;
  r.job.preview.every_n_steps = 1;
  r.job.preview.format = image::Format::jpeg;
  return r;
}

void validate_novelai_request(const NovelAiRequest& request, const RequestDefaults& defaults, int latent_scale) {
  validate_job_as(request.job, defaults.limits, latent_scale, [](const std::string& field) -> std::string {
    if (field == "prompt") return "input";
    if (field == "cfg") return "parameters.scale";
    if (field == "scheduler" || field == "spacing") return "parameters.noise_schedule";
    if (field == "width" || field == "height" || field == "steps" || field == "seed" || field == "sampler" ||
        field == "negative_prompt")
      return "parameters." + field;
    return field;
  });
}

engine::JobRequest novelai_sample(const NovelAiRequest& request, int samp_ix) {
  auto job = request.job;
  if (job.generation.seed >= 0) job.generation.seed += samp_ix;
  return job;
}

ErrorReply novelai_error(const Failure& failure) {
  const unsigned status = default_status(failure.kind);
  return {status, {{"statusCode", status}, {"message", failure.message}}};
}

std::unique_ptr<StreamEncoder> novelai_stream_encoder(StreamFormat format, const engine::JobRequest& request,
                                                      int samp_ix, uint64_t gen_id) {
  return std::make_unique<NovelAiStreamEncoder>(format, request, samp_ix, gen_id);
}

}  // namespace darkroom::server
