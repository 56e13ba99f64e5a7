#include "darkroom/server/request_json.hpp"

#include <algorithm>

#include "darkroom/image/probe.hpp"
#include "darkroom/preview/options.hpp"
#include "darkroom/server/base64.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using wire::FieldReader;
using wire::parse_named;

constexpr int kMaxDepth = 64;

// The parser's message quotes the bytes it stopped at, which may be invalid UTF-8 (and the whole rest of a
// long string): keep it short and ASCII so the error can be sent back as JSON.
std::string printable(std::string_view message) {
  constexpr std::size_t kMax = 200;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (const char c : message.substr(0, kMax)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return message.size() > kMax ? out + "..." : out;
}

// image::decode recognises the format by its magic bytes, not by a media type the client may have got wrong.
// Only the header is read here: the pixels are decoded by the engine's worker (engine::JobRequest), once
// the size has been checked against the request's.
engine::EncodedImage read_init_image(const std::string& text) {
  engine::EncodedImage image;
  try {
    image.bytes = base64::decode_data_url_or_base64(text);
  } catch (const std::invalid_argument& error) {
    throw field_error("init_image", error.what());
  }
  try {
    image.info = image::probe(image.bytes);
  } catch (const std::exception& error) {  // runtime_error for what is no image or a damaged header
    throw field_error("init_image", error.what());
  }
  return image;
}

preview::PreviewOptions parse_preview(const nlohmann::json& object) {
  FieldReader in(object, "preview");
  preview::PreviewOptions o;
  // The library's parsers already name "preview.<field>".
  try {
    if (auto v = in.string("method")) o.method = preview::parse_method(*v);
    if (auto v = in.string("source")) o.source = preview::parse_source(*v);
    if (auto v = in.string("delivery")) o.delivery = preview::parse_delivery(*v);
  } catch (const RequestError&) {
    throw;
  } catch (const std::invalid_argument& error) {
    throw as_request_error(error);
  }
  if (auto v = in.integer("every_n_steps")) o.every_n_steps = *v;
  if (auto v = in.integer("count")) o.count = *v;
  if (auto v = in.integer("min_interval_ms")) o.min_interval_ms = *v;
  if (auto v = in.integer("max_size")) o.max_size = *v;
  if (auto v = in.string("format")) {
    const auto format = image::parse_format(*v);
    if (!format)
      throw field_error("preview.format", "unknown value \"" + wire::excerpt(*v) + "\" (accepted: png | jpeg | webp)");
    o.format = *format;
  }
  if (auto v = in.integer("quality")) o.quality = *v;
  in.reject_unknown();
  return o;
}

// An object of two integers, both required: SDXL's {"width": W, "height": H} and {"x": X, "y": Y}.
std::optional<std::pair<int, int>> parse_int_pair(FieldReader& in, const char* key, const char* first,
                                                  const char* second) {
  const auto* value = in.find(key);
  if (!value) return std::nullopt;
  FieldReader pair(*value, in.path(key));
  const auto a = pair.integer(first);
  const auto b = pair.integer(second);
  pair.reject_unknown();
  if (!a || !b)
    throw field_error(in.path(key), std::string("must give both ") + first + " and " + second + ", as {\"" + first +
                                        "\": 1024, \"" + second + "\": 1024}");
  return std::pair{*a, *b};
}

std::optional<pipeline::ImageSize> parse_image_size(FieldReader& in, const char* key) {
  const auto size = parse_int_pair(in, key, "width", "height");
  return size ? std::optional(pipeline::ImageSize{size->first, size->second}) : std::nullopt;
}

StreamFormat parse_stream(const std::string& value) {
  if (value == "sse") return StreamFormat::sse;
  if (value == "msgpack") return StreamFormat::msgpack;
  throw field_error("stream", "unknown value \"" + wire::excerpt(value) + "\" (accepted: sse | msgpack)");
}

}  // namespace

nlohmann::json parse_json_body(std::string_view body) {
  const nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t event,
                                                           nlohmann::json&) {
    if (depth > kMaxDepth && (event == nlohmann::json::parse_event_t::object_start ||
                              event == nlohmann::json::parse_event_t::array_start))
      throw RequestError("", "request body nests deeper than " + std::to_string(kMaxDepth) + " levels");
    return true;
  };
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body, limit_depth);
  } catch (const nlohmann::json::exception& error) {
    // parse_error for syntax, out_of_range for a number beyond double (1e400). what() reads
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..."; the prefix helps nobody.
    std::string_view what = error.what();
    if (const auto pos = what.find("] "); pos != std::string_view::npos) what.remove_prefix(pos + 2);
    const auto* parse_error = dynamic_cast<const nlohmann::json::parse_error*>(&error);
    const std::string where = parse_error ? " (byte " + std::to_string(parse_error->byte) + ")" : "";
    throw RequestError("", "malformed JSON" + where + ": " + printable(what));
  }
  if (!json.is_object())
    throw RequestError("", std::string("the request body must be a JSON object, got ") + json.type_name());
  return json;
}

void check_model_id(std::string_view id) {
  const auto bad = [](std::string_view rule) { return field_error("model", rule); };
  if (id.empty()) throw bad("must not be empty");
  if (id.size() > 255) throw bad("is longer than 255 bytes");
  if (id.front() == '.') throw bad("is a model id, which must not start with '.'");
  if (id.find('/') != id.npos || id.find('\\') != id.npos || id.find("..") != id.npos)
    throw bad("is a model id (a name from GET /v1/models), not a path");
  if (std::any_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    throw bad("must not contain control characters");
}

NativeRequest parse_native_request(const nlohmann::json& body, const RequestDefaults& defaults,
                                   bool allow_stream_field) {
  FieldReader in(body, "");
  NativeRequest request;
  auto& job = request.job;
  auto& g = job.generation;

  const auto model = in.string("model");
  if (!model && defaults.model.empty()) throw field_error("model", "required (the server has no default model)");
  job.model = model.value_or(defaults.model);
  check_model_id(job.model);

  const auto prompt = in.string("prompt");
  if (!prompt) throw field_error("prompt", "required (may be \"\")");
  g.prompt = *prompt;
  if (auto v = in.string("negative_prompt")) g.negative_prompt = *v;
  if (auto v = in.integer("width")) g.width = *v;
  if (auto v = in.integer("height")) g.height = *v;
  if (auto v = in.integer("steps")) g.steps = *v;
  if (auto v = in.number("cfg")) g.cfg = *v;
  if (auto v = in.string("sampler")) g.sampler = parse_named("sampler", *v, sampling::parse_sampler);
  if (auto v = in.string("scheduler")) g.scheduler = parse_named("scheduler", *v, sampling::parse_sigma_schedule);
  if (auto v = in.string("spacing")) g.spacing = parse_named("spacing", *v, sampling::parse_spacing);
  if (auto v = in.int64("seed")) g.seed = *v;
  if (auto v = in.integer("batch")) g.batch = *v;
  if (auto v = in.integer("clip_skip")) g.clip_skip = *v;
  if (auto v = in.string("init_image")) job.init_image = read_init_image(*v);
  if (auto v = in.number("strength")) {
    if (!job.init_image) throw field_error("strength", "applies to img2img only: give init_image with it, or leave it out");
    g.strength = *v;
  }
  if (const auto* v = in.find("preview")) job.preview = parse_preview(*v);
  g.original_size = parse_image_size(in, "original_size");
  if (const auto crop = parse_int_pair(in, "crop_top_left", "x", "y")) g.crop_top_left = {crop->first, crop->second};
  g.target_size = parse_image_size(in, "target_size");

  if (auto v = in.string("stream")) {
    if (!allow_stream_field)
      throw field_error("stream", "only POST /v1/generate streams; other endpoints stream from their events URL");
    request.stream = parse_stream(*v);
  }
  if (auto v = in.boolean("cancel_on_disconnect")) request.cancel_on_disconnect = *v;
  if (auto v = in.boolean("animation")) request.animation = *v;
  job.timeout = parse_timeout_s(in, "timeout_s");
  in.reject_unknown();
  return request;
}

void validate_job(const engine::JobRequest& job, const pipeline::RequestLimits& limits, int latent_scale) {
  try {
    pipeline::validate(job.generation, limits, latent_scale);
    if (job.init_image) pipeline::validate_img2img(job.generation, job.init_image->info.width, job.init_image->info.height);
    preview::validate(job.preview);
  } catch (const std::invalid_argument& error) {
    throw as_request_error(error);
  }
  // sampling::make_schedule has no Karras variant of these; without this check the job would be accepted
  // and fail when it starts.
  const auto sampler = job.generation.sampler;
  if (job.generation.scheduler == sampling::SigmaSchedule::karras &&
      (sampler == sampling::SamplerKind::ddim || sampler == sampling::SamplerKind::lcm))
    throw field_error("scheduler", "karras is not available with sampler " +
                                       std::string(sampling::sampler_name(sampler)) + " (use discrete)");
}

void validate_job_as(const engine::JobRequest& job, const pipeline::RequestLimits& limits, int latent_scale,
                     const std::function<std::string(const std::string&)>& rename) {
  try {
    validate_job(job, limits, latent_scale);
  } catch (const RequestError& error) {
    const auto name = rename(error.field());
    throw name == error.field() ? error : with_field(error, name);
  }
}

void validate_for_model(const NativeRequest& request, const RequestDefaults& defaults, int latent_scale) {
  validate_job(request.job, defaults.limits, latent_scale);
}

}  // namespace darkroom::server
