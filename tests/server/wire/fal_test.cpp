// The fal dialect's pure half: its input, results, statuses and errors.
#include "darkroom/server/fal.hpp"

#include <gtest/gtest.h>

#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/sse.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

TEST(FalRequest, ReadsFalsSdxlInput) {
  const auto r = parse_fal_request(json::parse(R"({"prompt": "a cat", "negative_prompt": "blur", "image_size":
      "landscape_4_3", "num_inference_steps": 25, "guidance_scale": 5, "seed": 3, "num_images": 2,
      "output_format": "png", "sync_mode": true, "enable_safety_checker": true, "loras": []})"),
                                   "sdxl_tiny");
  EXPECT_EQ(r.job.model, "sdxl_tiny");
  EXPECT_EQ(r.job.generation.width, 1024);
  EXPECT_EQ(r.job.generation.height, 768);
  EXPECT_EQ(r.job.generation.steps, 25);
  EXPECT_EQ(*r.job.generation.cfg, 5);
  EXPECT_EQ(r.job.generation.batch, 2);
  EXPECT_EQ(r.output_format, image::Format::png);
  EXPECT_TRUE(r.sync_mode);
  EXPECT_EQ(r.job.preview.every_n_steps, 5);  // the seed's period
  EXPECT_EQ(r.job.preview.format, image::Format::jpeg);
  const auto sized = parse_fal_request(json::parse(R"({"prompt": "x", "image_size": {"width": 64, "height": 96}, "preview_every": 0})"), "m");
  EXPECT_EQ(sized.job.generation.width, 64);
  EXPECT_EQ(sized.job.generation.height, 96);
  EXPECT_EQ(sized.job.preview.method, preview::Method::none);
}

TEST(FalRequest, ErrorsNameFalsFields) {
  const auto field_of = [](const char* body) {
    try {
      validate_fal_request(parse_fal_request(json::parse(body), "m"), {"m", {}}, 8);
    } catch (const RequestError& e) {
      return e.field();
    }
    return std::string("none");
  };
  EXPECT_EQ(field_of(R"({})"), "prompt");
  EXPECT_EQ(field_of(R"({"prompt": "x", "image_size": "huge"})"), "image_size");
  EXPECT_EQ(field_of(R"({"prompt": "x", "image_size": {"width": 64}})"), "image_size");
  EXPECT_EQ(field_of(R"({"prompt": "x", "num_inference_steps": 0})"), "num_inference_steps");
  EXPECT_EQ(field_of(R"({"prompt": "x", "guidance_scale": "a lot"})"), "guidance_scale");
  EXPECT_EQ(field_of(R"({"prompt": "x", "num_images": 0})"), "num_images");
  EXPECT_EQ(field_of(R"({"prompt": "x", "output_format": "gif"})"), "output_format");
  EXPECT_EQ(field_of(R"({"prompt": "x", "preview_every": -1})"), "preview_every");
  EXPECT_EQ(field_of(R"({"prompt": "x", "image_size": "square"})"), "none");
  const auto error = fal_error({Failure::Kind::invalid_request, "num_images: too many", "num_images", "", 0});
  EXPECT_EQ(error.status, 422u);
  EXPECT_EQ(error.body["detail"][0]["loc"], json({"body", "num_images"}));
  EXPECT_EQ(error.body["message"], "num_images: too many");
  const auto full = fal_error({Failure::Kind::queue_full, "full", "", "", 5});
  EXPECT_EQ(full.status, 429u);
  EXPECT_EQ(full.body["error_type"], "queue_full");
}

TEST(FalStream, PreviewsAsDataUrisThenTheResultLast) {
  FalRequest request = parse_fal_request(json::parse(R"({"prompt": "a cat"})"), "m");
  const auto encoder = fal_stream_encoder(request, [](std::size_t i) { return "http://h/img/" + std::to_string(i); });
  const engine::Event preview{4, 0.5, engine::Preview{5, 10, 2.0, 0, std::make_shared<const preview::PreviewImage>(testing::gradient(16, 8)), "taesd"}};
  engine::Completed done{{std::make_shared<const image::Image>(testing::gradient(16, 8))}, 9, {{"queued", 0.5}, {"total", 2.5}}};
  SseParser parser;
  const auto events = parser.feed(encoder->encode(preview).bytes + encoder->encode({9, 3.0, done}).bytes);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "message");  // data-only
  const auto first = json::parse(events[0].data);
  EXPECT_TRUE(first["image"]["url"].get<std::string>().starts_with("data:image/jpeg;base64,/9j/"));
  EXPECT_EQ(first["image"]["content_type"], "image/jpeg");
  EXPECT_EQ(first["step"], 5);
  const auto result = json::parse(events[1].data);
  EXPECT_EQ(result["images"][0], json({{"url", "http://h/img/0"}, {"width", 16}, {"height", 8}, {"content_type", "image/jpeg"}}));
  EXPECT_EQ(result["image"], result["images"][0]);
  EXPECT_EQ(result["seed"], 9);
  EXPECT_EQ(result["timings"]["inference"], 2.0);
  EXPECT_EQ(result["has_nsfw_concepts"], json({false}));
  EXPECT_EQ(result["prompt"], "a cat");
  const auto failed = parser.feed(encoder->encode({9, 3.0, engine::Error{"timeout", "too slow"}}).bytes);
  EXPECT_EQ(json::parse(failed.at(0).data)["error"]["code"], "timeout");
}

TEST(FalStatus, GoesFromQueueToCompletedWithLogsAndErrors) {
  FalStatus status({"r1", "S", "R", "C"}, 0, true);
  EXPECT_TRUE(status.add({1, 0, engine::Queued{3}}));
  EXPECT_EQ(status.json()["status"], "IN_QUEUE");
  EXPECT_EQ(status.json()["queue_position"], 2);
  EXPECT_TRUE(status.add({2, 1, engine::Started{}}));
  EXPECT_TRUE(status.add({3, 1.5, engine::Progress{1, 2, 1.0, 0.5, 0.5}}));
  EXPECT_EQ(status.json()["status"], "IN_PROGRESS");
  EXPECT_EQ(status.json()["logs"][1]["message"], "step 1/2");
  EXPECT_EQ(status.json()["logs"][1]["timestamp"], "1970-01-01T00:00:01.500Z");
  EXPECT_FALSE(status.completed());
  EXPECT_TRUE(status.add({4, 2, engine::Cancelled{"requested"}}));
  EXPECT_TRUE(status.completed());
  const auto done = status.json();
  EXPECT_EQ(done["status"], "COMPLETED");
  EXPECT_EQ(done["error_type"], "cancelled");
  EXPECT_EQ(done["response_url"], "R");
  EXPECT_TRUE(done.contains("metrics"));

  FalStatus quiet({"r1", "S", "R", "C"}, 0, false);
  EXPECT_FALSE(quiet.add({1, 0, engine::PhaseChanged{"denoising"}}));  // no logs asked: nothing changed
  EXPECT_TRUE(quiet.json()["logs"].is_null());
}

}  // namespace
}  // namespace darkroom::server
