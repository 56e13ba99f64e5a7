#include "darkroom/server/openai.hpp"

#include <gtest/gtest.h>

#include "darkroom/server/base64.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using testing::error_field;

const RequestDefaults kDefaults{"sd15", {}};

TEST(OpenAiRequest, MapsEveryFieldOntoTheJob) {
  const auto r = parse_openai_request(json::parse(R"({"prompt": "a fox", "model": "sdxl", "n": 2,
    "size": "512x768", "output_format": "jpeg", "output_compression": 70, "stream": true, "partial_images": 2,
    "quality": "high", "background": "opaque", "moderation": "low", "style": "natural", "user": "u-1",
    "response_format": "b64_json"})"),
                                      kDefaults);
  EXPECT_EQ(r.job.model, "sdxl");
  EXPECT_EQ(r.job.generation.prompt, "a fox");
  EXPECT_EQ(r.job.generation.batch, 2);
  EXPECT_EQ(r.job.generation.width, 512);
  EXPECT_EQ(r.job.generation.height, 768);
  EXPECT_FALSE(r.auto_size);
  EXPECT_EQ(r.output_format, image::Format::jpeg);
  EXPECT_EQ(r.output_compression, 70);
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.partial_images, 2);
  EXPECT_EQ(r.quality, "high");
  EXPECT_EQ(r.background, "opaque");
  // Partial images are evenly spread previews in the output format.
  EXPECT_EQ(r.job.preview.method, preview::Method::auto_);
  EXPECT_EQ(r.job.preview.count, 2);
  EXPECT_EQ(r.job.preview.format, image::Format::jpeg);
  EXPECT_EQ(r.job.preview.quality, 70);
}

TEST(OpenAiRequest, DefaultsToOnePngOfTheModelsSize) {
  for (const char* body : {R"({"prompt": "x"})", R"({"prompt": "x", "size": "auto", "partial_images": 3})"}) {
    const auto r = parse_openai_request(json::parse(body), kDefaults);
    EXPECT_EQ(r.job.model, "sd15");
    EXPECT_EQ(r.job.generation.batch, 1);
    EXPECT_TRUE(r.auto_size);
    EXPECT_EQ(r.output_format, image::Format::png);
    EXPECT_EQ(r.output_compression, 100);
    EXPECT_FALSE(r.stream);
    EXPECT_EQ(r.quality, "auto");
    EXPECT_EQ(r.background, "auto");
    EXPECT_EQ(r.job.preview.method, preview::Method::none);  // partial images only when streaming
  }
}

TEST(OpenAiRequest, OpenAisOwnModelNamesMeanTheDefaultModel) {
  for (const char* model : {"dall-e-2", "dall-e-3", "gpt-image-1"}) {
    const auto r = parse_openai_request(json{{"prompt", "x"}, {"model", model}}, kDefaults);
    EXPECT_EQ(r.job.model, "sd15") << model;
  }
  EXPECT_EQ(parse_openai_request(json{{"prompt", "x"}, {"model", "other"}}, kDefaults).job.model, "other");
  RequestDefaults no_default = kDefaults;
  no_default.model.clear();
  EXPECT_EQ(parse_openai_request(json{{"prompt", "x"}, {"model", "dall-e-3"}}, no_default).job.model, "dall-e-3");
}

TEST(OpenAiRequest, NamesTheParamOfEveryBadInput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "prompt"},
      {R"({"prompt": 5})", "prompt"},
      {R"({"prompt": "x", "model": "../m"})", "model"},
      {R"({"prompt": "x", "n": 0})", "n"},
      {R"({"prompt": "x", "n": 11})", "n"},
      {R"({"prompt": "x", "n": "2"})", "n"},
      {R"({"prompt": "x", "size": "512"})", "size"},
      {R"({"prompt": "x", "size": "500x512"})", "size"},
      {R"({"prompt": "x", "size": "512x99999999999"})", "size"},
      {R"({"prompt": "x", "size": "x512"})", "size"},
      {R"({"prompt": "x", "size": "+512x512"})", "size"},
      {R"({"prompt": "x", "size": "4096x512"})", "size"},
      {R"({"prompt": "x", "output_format": "gif"})", "output_format"},
      {R"({"prompt": "x", "output_compression": 101})", "output_compression"},
      {R"({"prompt": "x", "stream": "yes"})", "stream"},
      {R"({"prompt": "x", "partial_images": 4})", "partial_images"},
      {R"({"prompt": "x", "quality": "ultra"})", "quality"},
      {R"({"prompt": "x", "background": "green"})", "background"},
      {R"({"prompt": "x", "response_format": "url"})", "response_format"},
      {R"({"prompt": "x", "seed": 3})", "seed"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(error_field([&] { parse_openai_request(json::parse(c.first), kDefaults); }), c.second) << c.first;
}

TEST(OpenAiRequest, ValidationNamesTheOpenAiParam) {
  RequestDefaults tight = kDefaults;
  tight.limits.max_batch = 4;
  const auto validate = [&](const char* body, int latent_scale) {
    return error_field([&] { validate_openai_request(parse_openai_request(json::parse(body), tight), tight, latent_scale); });
  };
  EXPECT_EQ(validate(R"({"prompt": "x", "size": "520x512"})", 16), "size");
  EXPECT_EQ(validate(R"({"prompt": "x", "n": 5})", 8), "n");
  // Four 1024x1024 images are past the default budget (pixels and work): OpenAI has no steps, so both name n.
  const auto four_large = R"({"prompt": "x", "n": 4, "size": "1024x1024", "stream": true, "partial_images": 1})";
  EXPECT_EQ(validate(four_large, 8), "n");
  tight.limits.max_pixels = 0;
  EXPECT_EQ(validate(four_large, 8), "n");  // the work budget alone
  tight.limits.max_work = 0;
  EXPECT_EQ(validate(four_large, 8), "<no error>");
}

TEST(OpenAiError, HasOpenAisShape) {
  EXPECT_EQ(openai_error_json(field_error("n", "must be between 1 and 10")),
            json::parse(R"({"error": {"message": "n: must be between 1 and 10", "type": "invalid_request_error",
                            "param": "n", "code": null}})"));
  const json queue_full = openai_error_json("queue is full", "server_error", "", "queue_full");
  EXPECT_EQ(queue_full["error"]["param"], nullptr);
  EXPECT_EQ(queue_full["error"]["code"], "queue_full");
  EXPECT_EQ(openai_stream_error_json(queue_full), (json{{"type", "error"}, {"error", queue_full["error"]}}));
}

TEST(OpenAiResponse, CarriesTheImagesAndTheEchoedSettings) {
  auto r = parse_openai_request(json::parse(R"({"prompt": "x", "output_format": "webp", "quality": "low"})"), kDefaults);
  r.job.generation.width = 1024;  // "auto" resolved by the caller to the model's size
  r.job.generation.height = 1024;
  const std::vector<std::vector<uint8_t>> images = {{1, 2, 3}, {4, 5}};
  const json j = openai_response_json(r, images, 1700000000, 12);
  const json usage = {{"input_tokens", 12},
                      {"output_tokens", 0},
                      {"total_tokens", 12},
                      {"input_tokens_details", {{"text_tokens", 12}, {"image_tokens", 0}}}};
  EXPECT_EQ(j, (json{{"created", 1700000000},
                     {"data", {{{"b64_json", "AQID"}}, {{"b64_json", "BAU="}}}},
                     {"output_format", "webp"},
                     {"size", "1024x1024"},
                     {"quality", "low"},
                     {"background", "auto"},
                     {"usage", usage}}));

  const std::vector<uint8_t> image = {9, 9};
  EXPECT_EQ(openai_partial_image_json(r, image, 1700000001, 0),
            (json{{"type", "image_generation.partial_image"},
                  {"b64_json", "CQk="},
                  {"created_at", 1700000001},
                  {"size", "1024x1024"},
                  {"quality", "low"},
                  {"background", "auto"},
                  {"output_format", "webp"},
                  {"partial_image_index", 0}}));
  EXPECT_EQ(openai_completed_json(r, image, 1700000002, 12),
            (json{{"type", "image_generation.completed"},
                  {"b64_json", "CQk="},
                  {"created_at", 1700000002},
                  {"size", "1024x1024"},
                  {"quality", "low"},
                  {"background", "auto"},
                  {"output_format", "webp"},
                  {"usage", usage}}));
}

}  // namespace
}  // namespace darkroom::server
