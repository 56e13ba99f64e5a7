#include "darkroom/server/openai.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/base64.hpp"
#include "darkroom/server/sse.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using wire::FieldReader;

// Values OpenAI documents for gpt-image-1 and DALL-E; we generate the same way for each, but a value no
// OpenAI model takes is still a client error.
constexpr std::array kQualities{"auto", "low", "medium", "high", "standard", "hd"};
constexpr std::array kBackgrounds{"auto", "transparent", "opaque"};
constexpr std::array kModerations{"auto", "low"};
constexpr std::array kStyles{"vivid", "natural"};

template <std::size_t N>
std::string one_of(FieldReader& in, std::string_view key, const std::array<const char*, N>& accepted,
                   std::string fallback) {
  const auto value = in.string(key);
  if (!value) return fallback;
  std::string list;
  for (const char* name : accepted) {
    if (*value == name) return *value;
    list += (list.empty() ? "" : " | ") + std::string(name);
  }
  throw field_error(std::string(key), "unknown value \"" + wire::excerpt(*value) + "\" (accepted: " + list + ")");
}

int int_in(FieldReader& in, std::string_view key, int lo, int hi, int fallback) {
  const auto value = in.integer(key);
  if (!value) return fallback;
  if (*value < lo || *value > hi)
    throw field_error(std::string(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                            ", got " + std::to_string(*value));
  return *value;
}

// OpenAI's own image models: clients hard-code these names, and they mean "the model this server
// generates with" here.
bool openai_model_name(std::string_view model) { return model.starts_with("dall-e") || model.starts_with("gpt-image"); }

// "WxH" with sides that a latent of scale 8 can have; the model's own scale is checked by validate_job.
void parse_size(const std::string& size, int max_side, pipeline::GenerationRequest& g) {
  const auto bad = [&] {
    return field_error("size", "must be \"auto\" or \"WIDTHxHEIGHT\" with sides multiples of 8 from 8 to " +
                                   std::to_string(max_side) + ", got \"" + wire::excerpt(size) + "\"");
  };
  const auto x = size.find('x');
  if (x == std::string::npos) throw bad();
  const auto side = [&](std::string_view digits) {
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 8 ||
        value > max_side || value % 8 != 0)
      throw bad();
    return value;
  };
  g.width = side(std::string_view(size).substr(0, x));
  g.height = side(std::string_view(size).substr(x + 1));
}

std::string size_of(const OpenAiImageRequest& r) {
  return std::to_string(r.job.generation.width) + "x" + std::to_string(r.job.generation.height);
}

// The fields every image answer and stream event repeats.
json image_fields(const OpenAiImageRequest& r, std::span<const uint8_t> image) {
  return {{"b64_json", base64::encode(image)},
          {"size", size_of(r)},
          {"quality", r.quality},
          {"background", r.background},
          {"output_format", image::format_name(r.output_format)}};
}

}  // namespace

OpenAiImageRequest parse_openai_request(const json& body, const RequestDefaults& defaults) {
  FieldReader in(body, "");
  OpenAiImageRequest r;
  auto& g = r.job.generation;

  const auto prompt = in.string("prompt");
  if (!prompt) throw field_error("prompt", "required");
  g.prompt = *prompt;
  auto model = in.string("model");
  if (model && openai_model_name(*model) && !defaults.model.empty()) model.reset();
  if (!model && defaults.model.empty()) throw field_error("model", "required (the server has no default model)");
  r.job.model = model.value_or(defaults.model);
  check_model_id(r.job.model);

  g.batch = int_in(in, "n", 1, 10, 1);
  if (const auto size = in.string("size"); size && *size != "auto") {
    parse_size(*size, defaults.limits.max_side, g);
    r.auto_size = false;
  }
  if (const auto format = in.string("output_format")) {
    const auto parsed = image::parse_format(*format);
    if (!parsed)
      throw field_error("output_format", "unknown value \"" + wire::excerpt(*format) + "\" (accepted: png | jpeg | webp)");
    r.output_format = *parsed;
  }
  r.output_compression = int_in(in, "output_compression", 0, 100, 100);
  r.stream = in.boolean("stream").value_or(false);
  r.partial_images = int_in(in, "partial_images", 0, 3, 0);
  r.quality = one_of(in, "quality", kQualities, "auto");
  r.background = one_of(in, "background", kBackgrounds, "auto");
  one_of(in, "moderation", kModerations, "auto");
  one_of(in, "style", kStyles, "vivid");
  in.string("user");
  if (const auto format = in.string("response_format"); format && *format != "b64_json")
    throw field_error("response_format", *format == "url"
                                             ? "\"url\" is not supported: images are returned inline as b64_json"
                                             : "unknown value \"" + wire::excerpt(*format) + "\" (accepted: b64_json)");
  in.reject_unknown();

  // Partial images are previews: `count` of them, spread evenly over the steps, as OpenAI spreads its own.
  if (r.stream && r.partial_images > 0) {
    r.job.preview.method = preview::Method::auto_;
    r.job.preview.count = r.partial_images;
    r.job.preview.format = r.output_format;
    r.job.preview.quality = r.output_compression;
  }
  return r;
}

void validate_openai_request(const OpenAiImageRequest& request, const RequestDefaults& defaults, int latent_scale) {
  validate_job_as(request.job, defaults.limits, latent_scale, [](const std::string& field) -> std::string {
    if (field == "width" || field == "height") return "size";
    if (field == "batch" || field == "steps") return "n";  // steps: the work budget (OpenAI sets no steps)
    if (field == "preview.quality") return "output_compression";
    if (field.starts_with("preview.")) return "partial_images";
    return field;
  });
}

ErrorReply openai_error(const Failure& failure) {
  using Kind = Failure::Kind;
  switch (failure.kind) {
    case Kind::invalid_request:
    case Kind::not_found:
    case Kind::method_not_allowed:
      return {default_status(failure.kind), openai_error_json(failure.message, "invalid_request_error", failure.field, failure.code)};
    case Kind::unauthorized:
      return {401, openai_error_json(failure.message, "invalid_request_error", "", "invalid_api_key")};
    case Kind::queue_full:
      return {429, openai_error_json(failure.message, "rate_limit_error", "", "queue_full")};
    case Kind::stopping:
      return {503, openai_error_json(failure.message, "server_error", "", "server_shutting_down")};
    case Kind::timeout:
      return {504, openai_error_json(failure.message, "server_error", "", "timeout")};
    case Kind::cancelled:
    case Kind::job_failed:
    case Kind::internal:
      break;
  }
  return {500, openai_error_json(failure.message, "server_error", "", failure.code_or_kind())};
}

json openai_error_json(std::string_view message, std::string_view type, std::string_view param, std::string_view code) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

json openai_error_json(const RequestError& error) {
  return openai_error_json(error.what(), "invalid_request_error", error.field());
}

json openai_stream_error_json(const json& error_body) { return {{"type", "error"}, {"error", error_body.at("error")}}; }

json openai_usage_json(int input_tokens) {
  return {{"input_tokens", input_tokens},
          {"output_tokens", 0},
          {"total_tokens", input_tokens},
          {"input_tokens_details", {{"text_tokens", input_tokens}, {"image_tokens", 0}}}};
}

json openai_response_json(const OpenAiImageRequest& request, std::span<const std::vector<uint8_t>> images,
                          int64_t created, int input_tokens) {
  json data = json::array();
  for (const auto& image : images) data.push_back({{"b64_json", base64::encode(image)}});
  return {{"created", created},
          {"data", std::move(data)},
          {"output_format", image::format_name(request.output_format)},
          {"size", size_of(request)},
          {"quality", request.quality},
          {"background", request.background},
          {"usage", openai_usage_json(input_tokens)}};
}

json openai_partial_image_json(const OpenAiImageRequest& request, std::span<const uint8_t> image, int64_t created_at,
                               int partial_image_index) {
  json out = image_fields(request, image);
  out["type"] = "image_generation.partial_image";
  out["created_at"] = created_at;
  out["partial_image_index"] = partial_image_index;
  return out;
}

json openai_completed_json(const OpenAiImageRequest& request, std::span<const uint8_t> image, int64_t created_at,
                           int input_tokens) {
  json out = image_fields(request, image);
  out["type"] = "image_generation.completed";
  out["created_at"] = created_at;
  out["usage"] = openai_usage_json(input_tokens);
  return out;
}

std::vector<uint8_t> openai_output_image(const OpenAiImageRequest& request, const image::Image& picture, int64_t seed) {
  if (request.output_format != image::Format::png)
    return image::encode(picture, request.output_format, request.output_compression);
  return image::encode_png(picture, {{"parameters", pipeline::infotext(request.job.generation, seed, request.job.model)}});
}

namespace {

class OpenAiStreamEncoder final : public StreamEncoder {
 public:
  OpenAiStreamEncoder(const OpenAiImageRequest& request, int64_t created, int input_tokens)
      : request_(request), created_(created), input_tokens_(input_tokens) {}

  std::string content_type() const override { return "text/event-stream; charset=utf-8"; }
  std::string heartbeat() const override { return sse_comment("keep-alive"); }
  StreamChunk encode(const engine::Event& event) override {
    if (const auto* preview = event.as<engine::Preview>()) {
      if (!preview->image) throw std::logic_error("preview event without an image");
      const auto bytes = preview->image->encoded(request_.output_format, request_.output_compression);
      return {sse_event("image_generation.partial_image", 0,
                        json_text(openai_partial_image_json(request_, *bytes, created_, preview->index)))};
    }
    if (const auto* done = event.as<engine::Completed>()) {
      std::string chunk;
      for (const auto& picture : done->images) {
        if (!picture) throw std::logic_error("completed event with a missing image");
        const auto bytes = openai_output_image(request_, *picture, done->seed);
        chunk += sse_event("image_generation.completed", 0,
                           json_text(openai_completed_json(request_, bytes, created_, input_tokens_)));
      }
      return {chunk};
    }
    if (const auto failure = job_failure(event))
      return {sse_event("error", 0, json_text(openai_stream_error_json(openai_error(*failure).body)))};
    return {};
  }

 private:
  const OpenAiImageRequest& request_;
  int64_t created_;
  int input_tokens_;
};

}  // namespace

std::unique_ptr<StreamEncoder> openai_stream_encoder(const OpenAiImageRequest& request, int64_t created,
                                                     int input_tokens) {
  return std::make_unique<OpenAiStreamEncoder>(request, created, input_tokens);
}

}  // namespace darkroom::server
