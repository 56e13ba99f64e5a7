// The DiffuGen dialect's pure half: its request bodies, its error bodies and its progress stream.
#include "darkroom/server/diffugen.hpp"

#include <gtest/gtest.h>

#include "darkroom/server/sse.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

TEST(DiffugenRequest, ReadsDiffugensFieldsAndNamesThemInErrors) {
  const auto r = parse_diffugen_request(json::parse(R"({"prompt": "a cat", "model": "sdxl", "width": 512, "height": 768,
      "steps": 30, "cfg_scale": 7.5, "sampling_method": "ddim_trailing", "negative_prompt": "blur", "seed": 5,
      "lora": "", "something_new": 1})"),
                                        DiffugenRoute::stable);
  EXPECT_EQ(r.job.model, "sdxl");
  EXPECT_EQ(r.job.generation.width, 512);
  EXPECT_EQ(r.job.generation.height, 768);
  EXPECT_EQ(*r.job.generation.cfg, 7.5);
  EXPECT_EQ(r.job.generation.sampler, sampling::SamplerKind::ddim);
  EXPECT_EQ(r.job.generation.spacing, sampling::Spacing::trailing);
  EXPECT_EQ(r.job.generation.seed, 5);
  const auto field_of = [](const char* body, DiffugenRoute route = DiffugenRoute::any) {
    try {
      const auto request = parse_diffugen_request(json::parse(body), route);
      validate_diffugen_request(request, {"m", {}}, 8);
    } catch (const RequestError& e) {
      return e.field();
    }
    return std::string("none");
  };
  EXPECT_EQ(field_of(R"({"model": "sd15"})"), "prompt");
  EXPECT_EQ(field_of(R"({"prompt": "x", "sampling_method": "heun"})"), "sampling_method");
  EXPECT_EQ(field_of(R"({"prompt": "x", "cfg_scale": "high"})"), "cfg_scale");
  EXPECT_EQ(field_of(R"({"prompt": "x", "steps": 0})"), "steps");
  EXPECT_EQ(field_of(R"({"prompt": "x", "width": 65})"), "width");
  EXPECT_EQ(field_of(R"({"prompt": "x", "lora": "my_lora"})"), "lora");
  EXPECT_EQ(field_of(R"({"prompt": "x", "model": "../etc"})"), "model");
  EXPECT_EQ(field_of(R"({"prompt": "x", "timeout_s": 0})"), "timeout_s");
  EXPECT_EQ(field_of(R"({"prompt": "x", "size": "64"})", DiffugenRoute::openwebui), "size");
  EXPECT_EQ(field_of(R"({"prompt": "x", "size": "65x64"})", DiffugenRoute::openwebui), "size");
  EXPECT_EQ(field_of(R"({"prompt": "x", "n": 11})", DiffugenRoute::openwebui), "n");
  EXPECT_EQ(field_of(R"({"prompt": "x", "size": "64x64", "n": 2})", DiffugenRoute::openwebui), "none");
}

TEST(DiffugenRequest, KnowsDiffugensModelNames) {
  EXPECT_EQ(diffugen_model_family("sd15"), "sd1");
  EXPECT_EQ(diffugen_model_family("stable-diffusion-xl"), "sdxl");
  EXPECT_EQ(diffugen_model_family("sd3"), "sd3");
  EXPECT_EQ(diffugen_model_family("flux-dev"), "flux");
  EXPECT_FALSE(diffugen_model_family("darkroom-shapes"));
}

TEST(DiffugenError, IsFastApisShape) {
  const auto bad = diffugen_error({Failure::Kind::invalid_request, "preview.count: too many", "preview.count", "", 0});
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(bad.body["detail"][0]["loc"], json({"body", "preview", "count"}));
  EXPECT_EQ(bad.body["detail"][0]["msg"], "preview.count: too many");
  const auto model = diffugen_error({Failure::Kind::invalid_request, "model: 'x' is unknown", "model", "", 0});
  EXPECT_EQ(model.status, 400u);
  EXPECT_EQ(model.body, json({{"detail", "model: 'x' is unknown"}}));
  const auto full = diffugen_error({Failure::Kind::queue_full, "the queue is full", "", "", 5});
  EXPECT_EQ(full.status, 429u);
  EXPECT_EQ(full.body["error"], "queue_full");
}

std::vector<json> data_of(const std::string& bytes, std::vector<std::string>* names = nullptr) {
  SseParser parser;
  std::vector<json> out;
  for (const auto& event : parser.feed(bytes)) {
    out.push_back(json::parse(event.data));
    if (names) names->push_back(event.event);
  }
  return out;
}

TEST(DiffugenStream, MeasuredProgressOnlyGrowsAndEndsWithDone) {
  const auto encoder = diffugen_stream_encoder("j1", 1000.0);
  std::string bytes;
  bytes += encoder->encode({1, 0.0, engine::Queued{1}}).bytes;
  bytes += encoder->encode({2, 0.5, engine::Started{}}).bytes;
  bytes += encoder->encode({3, 0.5, engine::PhaseChanged{"encoding_prompt"}}).bytes;
  bytes += encoder->encode({4, 0.6, engine::PhaseChanged{"denoising"}}).bytes;
  bytes += encoder->encode({5, 1.5, engine::Progress{1, 2, 1.0, 1.0, 3.0}}).bytes;  // 1 s done, 3 s to go: 25%
  bytes += encoder->encode({6, 2.5, engine::Progress{2, 2, 0.0, 2.0, 1.0}}).bytes;
  bytes += encoder->encode({7, 2.5, engine::PhaseChanged{"decoding"}}).bytes;
  EXPECT_TRUE(encoder->encode({8, 2.6, engine::Notice{"x", "y"}}).bytes.empty());
  bytes += encoder->encode({9, 3.0, engine::Completed{{nullptr}, 7, {}}}).bytes;
  std::vector<std::string> names;
  const auto events = data_of(bytes, &names);
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[0]["phase"], "initializing");
  EXPECT_EQ(events[0]["message"], "Waiting in the queue (position 1)");
  EXPECT_EQ(events[0]["timestamp"], 1000.0);
  EXPECT_EQ(events[2]["phase"], "preparing");
  EXPECT_EQ(events[4]["phase"], "generating");
  EXPECT_EQ(events[4]["step"], 1);
  EXPECT_EQ(events[4]["total_steps"], 2);
  EXPECT_EQ(events[4]["eta_seconds"], 3.0);
  EXPECT_DOUBLE_EQ(events[4]["progress"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(events[5]["progress"].get<double>(), 200.0 / 3);
  EXPECT_EQ(events[6]["phase"], "post_processing");
  EXPECT_FALSE(events[6].contains("step"));  // left out, not null
  EXPECT_EQ(events[7]["phase"], "complete");
  EXPECT_EQ(events[7]["progress"], 100.0);
  EXPECT_EQ(names[8], "done");
  EXPECT_EQ(events[8]["done"], true);
  EXPECT_EQ(events[8]["images"], json({"/v1/jobs/j1/images/0"}));
  double last = 0;
  for (const auto& event : events) {
    EXPECT_GE(event["progress"].get<double>(), last);
    last = event["progress"];
  }
  EXPECT_EQ(encoder->heartbeat(), ": heartbeat\n\n");
}

TEST(DiffugenStream, AFailedJobEndsWithAnErrorEvent) {
  const auto encoder = diffugen_stream_encoder("j1", 0);
  std::vector<std::string> names;
  const auto events = data_of(encoder->encode({5, 1.0, engine::Error{"timeout", "ran past 1 s"}}).bytes, &names);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(names[0], "error");
  EXPECT_EQ(events[0]["phase"], "error");
  EXPECT_EQ(events[0]["error"], "ran past 1 s");
  EXPECT_EQ(events[0]["message"], "ran past 1 s");
  EXPECT_EQ(events[0]["code"], "timeout");
}

}  // namespace
}  // namespace darkroom::server
