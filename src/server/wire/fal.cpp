#include "darkroom/server/fal.hpp"

#include <array>
#include <cmath>
#include <ctime>

#include "darkroom/image/encode.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/base64.hpp"
#include "darkroom/server/sse.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using wire::FieldReader;

struct SizePreset {
  std::string_view name;
  int width, height;
};
// fal's ImageSize presets.
constexpr std::array kSizes{SizePreset{"square_hd", 1024, 1024},    SizePreset{"square", 512, 512},
                            SizePreset{"portrait_4_3", 768, 1024},  SizePreset{"portrait_16_9", 576, 1024},
                            SizePreset{"landscape_4_3", 1024, 768}, SizePreset{"landscape_16_9", 1024, 576}};

void parse_image_size(const json& value, pipeline::GenerationRequest& g) {
  if (value.is_string()) {
    const auto name = value.get<std::string>();
    std::string names;
    for (const auto& preset : kSizes) {
      if (preset.name == name) {
        g.width = preset.width;
        g.height = preset.height;
        return;
      }
      names += (names.empty() ? "" : ", ") + std::string(preset.name);
    }
    throw field_error("image_size", "unknown size \"" + wire::excerpt(name) + "\" (" + names + ", or {width, height})");
  }
  FieldReader size(value, "image_size");
  const auto width = size.integer("width");
  const auto height = size.integer("height");
  if (!width || !height) throw field_error("image_size", "needs both width and height");
  g.width = *width;
  g.height = *height;
}

double inference_seconds(const engine::Completed& done) {
  const auto total = done.timings.find("total");
  const auto queued = done.timings.find("queued");
  if (total == done.timings.end()) return 0;
  return total->second - (queued == done.timings.end() ? 0 : queued->second);
}

std::string iso8601(double unix_s) {
  const auto seconds = static_cast<std::time_t>(std::floor(unix_s));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>((unix_s - std::floor(unix_s)) * 1000));
  return std::string(text) + millis;
}

json error_json(const Failure& failure) { return {{"code", failure.code_or_kind()}, {"message", failure.message}}; }

class FalStreamEncoder final : public StreamEncoder {
 public:
  FalStreamEncoder(const FalRequest& request, std::function<std::string(std::size_t)> link)
      : request_(request), link_(std::move(link)) {}

  std::string content_type() const override { return "text/event-stream; charset=utf-8"; }
  std::string heartbeat() const override { return sse_comment("heartbeat"); }
  StreamChunk encode(const engine::Event& event) override {
    if (const auto* preview = event.as<engine::Preview>()) {
      if (!preview->image) throw std::logic_error("preview event without an image");
      const auto& options = request_.job.preview;
      const auto bytes = preview->image->encoded(options.format, options.quality);
      const auto type = image::content_type(options.format);
      const json data{{"image", {{"url", data_uri(type, *bytes)}, {"content_type", type},
                                 {"width", preview->image->width()}, {"height", preview->image->height()}}},
                      {"step", preview->step},
                      {"total_steps", preview->total}};
      return {sse_event("", 0, json_text(data))};
    }
    if (const auto* done = event.as<engine::Completed>())
      return {sse_event("", 0, json_text(fal_result_json(request_, fal_images(request_, *done, link_), *done)))};
    if (const auto failure = job_failure(event))
      return {sse_event("", 0, json_text({{"error", error_json(*failure)}, {"detail", failure->message}}))};
    return {};
  }

 private:
  const FalRequest& request_;
  std::function<std::string(std::size_t)> link_;
};

class FalStatusStreamEncoder final : public StreamEncoder {
 public:
  FalStatusStreamEncoder(FalQueueUrls urls, double submitted_unix_s, bool logs)
      : status_(std::move(urls), submitted_unix_s, logs) {}

  std::string content_type() const override { return "text/event-stream; charset=utf-8"; }
  std::string heartbeat() const override { return sse_comment("heartbeat"); }
  StreamChunk encode(const engine::Event& event) override {
    if (!status_.add(event)) return {};
    return {sse_event("", 0, json_text(status_.json()))};
  }

 private:
  FalStatus status_;
};

}  // namespace

FalRequest parse_fal_request(const json& body, const std::string& model) {
  FieldReader in(body, "");
  FalRequest r;
  r.job.model = model;
  check_model_id(model);
  auto& g = r.job.generation;
  const auto prompt = in.string("prompt");
  if (!prompt) throw field_error("prompt", "required");
  g.prompt = *prompt;
  if (auto v = in.string("negative_prompt")) g.negative_prompt = *v;
  if (const auto* size = in.find("image_size")) parse_image_size(*size, g);
  if (auto v = in.integer("width")) g.width = *v;
  if (auto v = in.integer("height")) g.height = *v;
  if (auto v = in.integer("num_inference_steps")) g.steps = *v;
  if (auto v = in.number("guidance_scale")) g.cfg = *v;
  if (auto v = in.int64("seed")) g.seed = *v;
  if (auto v = in.integer("num_images")) g.batch = *v;
  if (auto v = in.string("output_format")) {
    if (*v == "jpeg") r.output_format = image::Format::jpeg;
    else if (*v == "png") r.output_format = image::Format::png;
    else throw field_error("output_format", "must be \"jpeg\" or \"png\", got \"" + wire::excerpt(*v) + "\"");
  }
  r.sync_mode = in.boolean("sync_mode").value_or(false);
  in.boolean("enable_safety_checker");  // accepted: darkroom has no safety checker, has_nsfw_concepts is false
  if (auto v = in.integer("preview_every")) {
    if (*v < 0) throw field_error("preview_every", "must be 0 (no previews) or more, got " + std::to_string(*v));
    r.preview_every = *v;
  }
  // The seed's previews: JPEG at quality 70, from the model's cheapest decoder (tiny AE when loaded).
  if (r.preview_every > 0) {
    r.job.preview.method = preview::Method::auto_;
    r.job.preview.every_n_steps = r.preview_every;
    r.job.preview.format = image::Format::jpeg;
    r.job.preview.quality = 70;
  }
  return r;
}

void validate_fal_request(const FalRequest& request, const RequestDefaults& defaults, int latent_scale) {
  validate_job_as(request.job, defaults.limits, latent_scale, [](const std::string& field) -> std::string {
    if (field == "steps") return "num_inference_steps";
    if (field == "cfg") return "guidance_scale";
    if (field == "batch") return "num_images";
    if (field == "preview.every_n_steps") return "preview_every";
    return field;
  });
}

ErrorReply fal_error(const Failure& failure) {
  if (failure.kind == Failure::Kind::invalid_request && failure.code.empty()) {
    return {422, {{"detail", fastapi_validation_detail(failure)}, {"message", failure.message}}};
  }
  return {default_status(failure.kind),
          {{"detail", failure.message}, {"message", failure.message}, {"error_type", failure.code_or_kind()}}};
}

std::string data_uri(std::string_view content_type, const std::vector<uint8_t>& bytes) {
  return "data:" + std::string(content_type) + ";base64," + base64::encode(bytes);
}

std::vector<FalImage> fal_images(const FalRequest& request, const engine::Completed& done,
                                 const std::function<std::string(std::size_t)>& link) {
  std::vector<FalImage> images;
  for (std::size_t i = 0; i < done.images.size(); ++i) {
    if (!done.images[i]) throw std::logic_error("completed event with a missing image");
    const auto& picture = *done.images[i];
    const auto url = request.sync_mode
                         ? data_uri(image::content_type(request.output_format), image::encode(picture, request.output_format, 90))
                         : link(i);
    images.push_back({url, picture.width, picture.height});
  }
  return images;
}

json fal_result_json(const FalRequest& request, const std::vector<FalImage>& images, const engine::Completed& done) {
  const auto type = image::content_type(request.output_format);
  json list = json::array();
  json nsfw = json::array();
  for (const auto& image : images) {
    list.push_back({{"url", image.url}, {"width", image.width}, {"height", image.height}, {"content_type", type}});
    nsfw.push_back(false);
  }
  json out{{"images", list},
           {"seed", done.seed},
           {"timings", {{"inference", inference_seconds(done)}}},
           {"prompt", request.job.generation.prompt},
           {"has_nsfw_concepts", nsfw}};
  if (!list.empty()) out["image"] = list[0];
  return out;
}

std::unique_ptr<StreamEncoder> fal_stream_encoder(const FalRequest& request,
                                                  std::function<std::string(std::size_t)> link) {
  return std::make_unique<FalStreamEncoder>(request, std::move(link));
}

FalStatus::FalStatus(FalQueueUrls urls, double submitted_unix_s, bool logs)
    : urls_(std::move(urls)), submitted_unix_s_(submitted_unix_s), with_logs_(logs) {}

bool FalStatus::add(const engine::Event& event) {
  const auto log = [&](const std::string& message) {
    logs_.push_back({{"message", message}, {"level", "INFO"}, {"source", "USER"},
                     {"timestamp", iso8601(submitted_unix_s_ + event.time_s)}});
    return with_logs_;
  };
  if (const auto* queued = event.as<engine::Queued>()) {
    queue_position_ = std::max(0, queued->position - 1);
    return status_ == "IN_QUEUE";
  }
  if (event.as<engine::Started>()) {
    status_ = "IN_PROGRESS";
    log("started");
    return true;
  }
  if (const auto* phase = event.as<engine::PhaseChanged>()) return log(phase->phase);
  if (const auto* progress = event.as<engine::Progress>())
    return log("step " + std::to_string(progress->step) + "/" + std::to_string(progress->total));
  if (const auto* done = event.as<engine::Completed>()) {
    status_ = "COMPLETED";
    inference_s_ = inference_seconds(*done);
    log("completed");
    return true;
  }
  if (const auto failure = job_failure(event)) {
    status_ = "COMPLETED";
    error_ = failure->message;
    log(failure->message);
    error_type_ = failure->code_or_kind();
    return true;
  }
  return false;
}

nlohmann::json FalStatus::json() const {
  nlohmann::json out{{"status", status_}, {"request_id", urls_.request_id}, {"response_url", urls_.response},
                     {"status_url", urls_.status}, {"cancel_url", urls_.cancel},
                     {"logs", with_logs_ ? logs_ : nlohmann::json(nullptr)}};
  if (status_ == "IN_QUEUE") out["queue_position"] = queue_position_;
  if (status_ == "COMPLETED") out["metrics"] = {{"inference_time", inference_s_}};
  if (!error_.is_null()) {
    out["error"] = error_;
    out["error_type"] = error_type_;
  }
  return out;
}

std::unique_ptr<StreamEncoder> fal_status_stream_encoder(FalQueueUrls urls, double submitted_unix_s, bool logs) {
  return std::make_unique<FalStatusStreamEncoder>(std::move(urls), submitted_unix_s, logs);
}

}  // namespace darkroom::server
