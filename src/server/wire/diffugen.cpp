#include "darkroom/server/diffugen.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "darkroom/sampling/schedule.hpp"
#include "darkroom/server/base64.hpp"
#include "darkroom/server/event_json.hpp"
#include "darkroom/server/sse.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using wire::FieldReader;

struct ModelName {
  std::string_view name;
  std::string_view family;
};
// DiffuGen's model names (diffugen_openapi.py, openwebui_integration.py) and what they are.
constexpr std::array kModelNames{
    ModelName{"sd15", "sd1"},        ModelName{"stable-diffusion-1.5", "sd1"}, ModelName{"revanimated", "sd1"},
    ModelName{"oia", "sd1"},         ModelName{"sdxl", "sdxl"},                ModelName{"stable-diffusion-xl", "sdxl"},
    ModelName{"sd3", "sd3"},         ModelName{"stable-diffusion-3", "sd3"},
};

// sd.cpp's sampling method names as DiffuGen passes them on; "ddim_trailing" is DDIM with trailing spacing.
void parse_sampling_method(const std::string& name, pipeline::GenerationRequest& g) {
  if (name == "ddim_trailing") {
    g.sampler = sampling::SamplerKind::ddim;
    g.spacing = sampling::Spacing::trailing;
    return;
  }
  try {
    g.sampler = sampling::parse_sampler(name);
  } catch (const std::invalid_argument&) {
    throw field_error("sampling_method", "unknown or unavailable sampling method \"" + wire::excerpt(name) +
                                             "\" (available: euler, euler_a, dpm++2m, ddim_trailing, lcm)");
  }
}

// "WxH" as OpenWebUI sends it.
void parse_size(const std::string& size, pipeline::GenerationRequest& g) {
  const auto bad = [&] { return field_error("size", "must be \"WIDTHxHEIGHT\", got \"" + wire::excerpt(size) + "\""); };
  const auto x = size.find('x');
  if (x == std::string::npos) throw bad();
  const auto side = [&](std::string_view digits) {
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 1) throw bad();
    return value;
  };
  g.width = side(std::string_view(size).substr(0, x));
  g.height = side(std::string_view(size).substr(x + 1));
}

std::string_view phase_of(std::string_view darkroom_phase) {
  if (darkroom_phase == "loading_model") return "loading_model";
  if (darkroom_phase == "encoding_prompt") return "preparing";
  if (darkroom_phase == "denoising") return "generating";
  if (darkroom_phase == "decoding") return "post_processing";
  return {};
}

std::string_view phase_message(std::string_view phase) {
  if (phase == "loading_model") return "Loading model...";
  if (phase == "preparing") return "Preparing generation parameters...";
  if (phase == "generating") return "Generating image...";
  if (phase == "post_processing") return "Post-processing image...";
  return "Initializing generation...";
}

class DiffugenStreamEncoder final : public StreamEncoder {
 public:
  DiffugenStreamEncoder(std::string job_id, double submitted_unix_s)
      : job_id_(std::move(job_id)), submitted_unix_s_(submitted_unix_s) {}

  std::string content_type() const override { return "text/event-stream; charset=utf-8"; }
  std::string heartbeat() const override { return sse_comment("heartbeat"); }

  StreamChunk encode(const engine::Event& event) override {
    const double timestamp = submitted_unix_s_ + event.time_s;
    if (const auto* queued = event.as<engine::Queued>()) {
      const auto message = queued->position > 0 ? "Waiting in the queue (position " + std::to_string(queued->position) + ")"
                                                 : std::string(phase_message("initializing"));
      return {progress_event("initializing", message, timestamp)};
    }
    if (event.as<engine::Started>()) return {progress_event("initializing", std::string(phase_message("initializing")), timestamp)};
    if (const auto* phase = event.as<engine::PhaseChanged>()) {
      const auto name = phase_of(phase->phase);
      if (name.empty()) return {};
      return {progress_event(name, std::string(phase_message(name)), timestamp)};
    }
    if (const auto* p = event.as<engine::Progress>()) {
      // The elapsed share of the whole, both measured; below 100 until the images are out.
      const double whole = p->elapsed_s + p->eta_s;
      if (whole > 0) progress_ = std::max(progress_, std::min(99.0, 100.0 * p->elapsed_s / whole));
      auto data = progress_json("generating", "Generating step " + std::to_string(p->step) + "/" + std::to_string(p->total),
                                timestamp);
      data["step"] = p->step;
      data["total_steps"] = p->total;
      data["eta_seconds"] = p->eta_s;
      return {sse_event("progress", 0, json_text(data))};
    }
    if (const auto* done = event.as<engine::Completed>()) {
      json urls = json::array();
      for (std::size_t i = 0; i < done->images.size(); ++i) urls.push_back(image_url(job_id_, i));
      progress_ = 100;
      const std::string first = urls.empty() ? std::string() : urls[0].get<std::string>();
      auto chunk = progress_event("complete", "Generation complete: " + first, timestamp);
      auto data = progress_json("complete", "Generation complete: " + first, timestamp);
      data["done"] = true;
      data["job_id"] = job_id_;
      data["images"] = urls;
      data["image_url"] = first;
      data["seed"] = done->seed;
      return {chunk + sse_event("done", 0, json_text(data))};
    }
    if (const auto failure = job_failure(event)) {
      auto data = progress_json("error", failure->message, timestamp);
      data["error"] = failure->message;
      data["code"] = failure->code_or_kind();
      return {sse_event("error", 0, json_text(data))};
    }
    return {};  // previews and notices: DiffuGen has neither
  }

 private:
  json progress_json(std::string_view phase, const std::string& message, double timestamp) const {
    return {{"phase", phase}, {"progress", progress_}, {"message", message}, {"timestamp", timestamp}};
  }
  std::string progress_event(std::string_view phase, const std::string& message, double timestamp) const {
    return sse_event("progress", 0, json_text(progress_json(phase, message, timestamp)));
  }

  std::string job_id_;
  double submitted_unix_s_;
  double progress_ = 0;
};

}  // namespace

std::optional<std::string> diffugen_model_family(std::string_view name) {
  if (name.starts_with("flux-")) return "flux";
  for (const auto& known : kModelNames)
    if (known.name == name) return std::string(known.family);
  return std::nullopt;
}

DiffugenRequest parse_diffugen_request(const json& body, DiffugenRoute route) {
  FieldReader in(body, "");
  DiffugenRequest r;
  r.route = route;
  auto& g = r.job.generation;
  const auto prompt = in.string("prompt");
  if (!prompt) throw field_error("prompt", "required");
  g.prompt = *prompt;
  r.job.model = in.string("model").value_or("");
  if (!r.job.model.empty() && !diffugen_model_family(r.job.model)) check_model_id(r.job.model);
  if (route == DiffugenRoute::openwebui) {
    if (const auto size = in.string("size")) parse_size(*size, g);
    if (const auto n = in.integer("n")) {
      if (*n < 1 || *n > 10) throw field_error("n", "must be between 1 and 10, got " + std::to_string(*n));
      g.batch = *n;
    }
    in.string("response_format");  // images are always URLs in the done event
    in.string("user");
  } else {
    if (auto v = in.integer("width")) g.width = *v;
    if (auto v = in.integer("height")) g.height = *v;
    r.return_base64 = in.boolean("return_base64").value_or(true);
  }
  if (auto v = in.integer("steps")) g.steps = *v;
  if (auto v = in.number("cfg_scale")) g.cfg = *v;
  if (auto v = in.string("sampling_method")) parse_sampling_method(*v, g);
  if (auto v = in.string("negative_prompt")) g.negative_prompt = *v;
  if (auto v = in.int64("seed")) g.seed = *v;
  r.job.timeout = wire::parse_timeout_s(in, "timeout_s");
  for (const char* local : {"lora", "output_dir"})
    if (const auto value = in.string(local); value && !value->empty())
      throw field_error(local, "names a file on DiffuGen's own disk; this server has no such option (leave it out)");
  return r;
}

void validate_diffugen_request(const DiffugenRequest& request, const RequestDefaults& defaults, int latent_scale) {
  const bool openwebui = request.route == DiffugenRoute::openwebui;
  validate_job_as(request.job, defaults.limits, latent_scale, [openwebui](const std::string& field) -> std::string {
    if (field == "cfg") return "cfg_scale";
    if (field == "sampler" || field == "scheduler" || field == "spacing") return "sampling_method";
    if (field == "batch") return "n";
    if ((field == "width" || field == "height") && openwebui) return "size";
    return field;
  });
}

ErrorReply diffugen_error(const Failure& failure) {
  using Kind = Failure::Kind;
  if (failure.kind == Kind::invalid_request && failure.field == "model") return {400, {{"detail", failure.message}}};
  if (failure.kind == Kind::invalid_request && failure.code.empty()) {
    return {422, {{"detail", fastapi_validation_detail(failure)}}};
  }
  return {default_status(failure.kind), {{"detail", failure.message}, {"error", failure.code_or_kind()}}};
}

std::unique_ptr<StreamEncoder> diffugen_stream_encoder(std::string job_id, double submitted_unix_s) {
  return std::make_unique<DiffugenStreamEncoder>(std::move(job_id), submitted_unix_s);
}

json diffugen_response_json(const DiffugenRequest& request, const std::string& job_id, std::size_t images, int64_t seed,
                            const std::vector<uint8_t>& png) {
  const auto& g = request.job.generation;
  json urls = json::array();
  for (std::size_t i = 0; i < images; ++i) urls.push_back(image_url(job_id, i));
  const std::string first = urls.empty() ? std::string() : urls[0].get<std::string>();
  json out{{"success", true},
           {"error", nullptr},
           {"job_id", job_id},
           {"image_url", first},
           {"image_path", first},
           {"images", urls},
           {"markdown_response", "![" + g.prompt + "](" + first + ")"},
           {"model", request.job.model},
           {"prompt", g.prompt},
           {"parameters",
            {{"width", g.width},
             {"height", g.height},
             {"steps", g.steps},
             {"cfg_scale", g.cfg ? json(*g.cfg) : json(nullptr)},
             {"seed", seed},
             {"sampling_method", sampling::sampler_name(g.sampler)},
             {"negative_prompt", g.negative_prompt.value_or("")}}}};
  if (request.return_base64) out["image_base64"] = base64::encode(png);
  return out;
}

}  // namespace darkroom::server
