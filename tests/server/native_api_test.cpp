// The native API end to end over loopback: submit, watch (SSE and msgpack), status, preview, results,
// cancel, queue limits, auth, CORS, metrics and shutdown, against a real server and the tiny model.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "darkroom/image/png.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/sse.hpp"
#include "server_fixture.hpp"
#include "support/golden.hpp"
#include "support/wait.hpp"

namespace darkroom::server::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
using darkroom::testing::wait_until;

std::vector<SseEvent> sse_events(const std::string& body) {
  SseParser parser;
  return parser.feed(body);
}

std::string submit(uint16_t port, const nlohmann::json& body) {
  const auto reply = post_json(port, "/v1/jobs", body);
  EXPECT_EQ(reply.status, 202u) << reply.body;
  return reply.json().at("id").get<std::string>();
}

// Whether GET /metrics has this exact sample line, name and value: "darkroom_streams_connected 1".
bool has_metric_line(uint16_t port, const std::string& line) {
  return get(port, "/metrics").body.find("\n" + line + "\n") != std::string::npos;
}

// GET /v1/jobs/{id} says it is running, and with `with_progress`, that it has done a step.
bool job_running(uint16_t port, const std::string& id, bool with_progress = false) {
  const auto status = get(port, "/v1/jobs/" + id).json();
  return status.at("state") == "running" && (!with_progress || !status.at("progress").is_null());
}

TEST(NativeApi, HealthAndCapabilities) {
  TestServer server;
  EXPECT_EQ(get(server.port(), "/health").json().at("status"), "ok");
  const auto caps = get(server.port(), "/v1/capabilities").json();
  EXPECT_EQ(caps.at("default_model"), "sd1_tiny");
  std::map<std::string, nlohmann::json> models;
  for (const auto& model : caps.at("models")) models[model.at("id")] = model;
  ASSERT_TRUE(models.contains("sd1_tiny"));
  EXPECT_EQ(models["sd1_tiny"].at("family"), "SD1.x");
  EXPECT_EQ(models["sd1_tiny"].at("preview_methods"), nlohmann::json({"none", "auto", "latent2rgb", "vae"}));
  EXPECT_EQ(models["sd1_tiny"].at("auto_preview"), "latent2rgb");
  ASSERT_TRUE(models.contains("sdxl_tiny"));
  EXPECT_EQ(models["sdxl_tiny"].at("family"), "SDXL");
  EXPECT_EQ(models["sdxl_tiny"].at("auto_preview"), "latent2rgb");
  ASSERT_TRUE(models.contains("sd1_tiny_unconfigured"));
  EXPECT_TRUE(models["sd1_tiny_unconfigured"].contains("error"));  // listed, with why it cannot be used
  EXPECT_NE(std::find(caps.at("samplers").begin(), caps.at("samplers").end(), "dpm++2m"), caps.at("samplers").end());
  const auto openai = get(server.port(), "/v1/models").json();
  EXPECT_EQ(openai.at("object"), "list");
  EXPECT_EQ(openai.at("data").size(), 3u);
}

// A model's description (family, defaults, limits) is read once and kept while its files stay as they
// were: a config edited while the server runs is read again, and requests get what it now says.
TEST(NativeApi, AModelConfigEditedWhileServingIsReadAgain) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("darkroom-edited-model-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::create_symlink(fs::canonical(golden::checkpoint("sd1_tiny")), dir / "sd1_tiny.safetensors");
  const auto config = dir / "sd1_tiny.json";
  const auto write_config = [&](const std::string& extra) {
    std::ofstream(config) << R"({"format": "darkroom.model", "version": 1, "text_encoder": {"heads": 4}, "unet": {"heads": 8})"
                          << extra << "}";
  };
  write_config("");
  auto options = tiny_server_options();
  options.models_dirs = {dir};
  {
    TestServer server(options);
    const auto defaults = [&] { return get(server.port(), "/v1/capabilities").json().at("models").at(0).at("defaults"); };
    EXPECT_EQ(defaults().at("cfg"), 7.5);
    write_config(R"(, "guidance_scale": 3, "image_size": 64)");
    // Later than the first version even on a file system with a coarse clock.
    fs::last_write_time(config, fs::last_write_time(config) + std::chrono::seconds(5));
    EXPECT_EQ(defaults().at("cfg"), 3.0);
    EXPECT_EQ(defaults().at("width"), 64);
  }
  fs::remove_all(dir);
}

TEST(NativeApi, SubmitWatchOverSseAndFetchTheResult) {
  TestServer server;
  auto body = tiny_request(6);
  body["preview"] = {{"method", "latent2rgb"}, {"every_n_steps", 2}};
  const auto reply = post_json(server.port(), "/v1/jobs", body);
  ASSERT_EQ(reply.status, 202u) << reply.body;
  const auto submitted = reply.json();
  const auto id = submitted.at("id").get<std::string>();
  EXPECT_EQ(reply.header("location"), "/v1/jobs/" + id);
  EXPECT_EQ(submitted.at("events_url"), "/v1/jobs/" + id + "/events");

  const auto stream = get(server.port(), submitted.at("events_url"));
  EXPECT_EQ(stream.status, 200u);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(stream.header("cache-control"), "no-cache");
  EXPECT_EQ(stream.header("x-accel-buffering"), "no");
  EXPECT_EQ(stream.header("content-encoding"), "");
  EXPECT_TRUE(stream.body.starts_with("retry: "));
  const auto events = sse_events(stream.body);
  ASSERT_FALSE(events.empty());
  int progress = 0, previews = 0;
  uint64_t last_id = 0;
  for (const auto& event : events) {
    const auto id_number = std::stoull(event.id);
    EXPECT_GT(id_number, last_id);
    last_id = id_number;
    const auto data = nlohmann::json::parse(event.data);
    EXPECT_EQ(data.at("type"), event.event);
    EXPECT_EQ(data.at("seq"), id_number);
    if (event.event == "progress") EXPECT_EQ(data.at("step"), ++progress);
    if (event.event == "preview") {
      ++previews;
      EXPECT_EQ(data.at("content_type"), "image/jpeg");
      EXPECT_FALSE(data.at("image").get<std::string>().empty());
    }
  }
  EXPECT_EQ(events.front().event, "queued");
  EXPECT_EQ(events.back().event, "completed");
  EXPECT_EQ(progress, 6);
  // Steps 2, 4, 6, less those superseded before this reader connected (the newest always stays).
  EXPECT_GE(previews, 1);
  EXPECT_LE(previews, 3);

  const auto status = get(server.port(), "/v1/jobs/" + id).json();
  EXPECT_EQ(status.at("state"), "completed");
  EXPECT_EQ(status.at("progress").at("step"), 6);
  EXPECT_EQ(status.at("seed"), 42);
  ASSERT_EQ(status.at("images").size(), 1u);
  const auto png = get(server.port(), status.at("images")[0]);
  EXPECT_EQ(png.header("content-type"), "image/png");
  const auto image = image::decode_png({reinterpret_cast<const uint8_t*>(png.body.data()), png.body.size()});
  EXPECT_EQ(image.width, 64);
  EXPECT_NE(png.body.find("parameters"), std::string::npos);  // the A1111 infotext chunk
  EXPECT_TRUE(get(server.port(), status.at("images")[0].get<std::string>() + "?format=webp").body.starts_with("RIFF"));
  EXPECT_EQ(get(server.port(), "/v1/jobs/" + id + "/images/1").status, 404u);

  const auto preview = get(server.port(), "/v1/jobs/" + id + "/preview");
  EXPECT_EQ(preview.status, 200u);
  EXPECT_EQ(preview.header("content-type"), "image/jpeg");
  EXPECT_EQ(preview.header("x-darkroom-preview-step"), "6");
}

// The embedded model as `darkroom serve` serves it by default, beside checkpoints that need --vocab: it keeps
// its own tokenizer, a request that names no size, spacing or cfg gets the model's (64x64, trailing, its
// recommended guidance scale) in every dialect, and auto previews use its fitted table.
TEST(NativeApi, ServesTheEmbeddedModelAtItsOwnSize) {
  auto options = tiny_server_options();
  options.models_dirs.push_back(DARKROOM_MODELS_DIR);
  options.default_model = "darkroom-shapes";
  TestServer server(options);
  const auto caps = get(server.port(), "/v1/capabilities").json();
  for (const auto& model : caps.at("models")) {
    if (model.at("id") == "darkroom-shapes") {
      EXPECT_EQ(model.at("auto_preview"), "latent2rgb");
      EXPECT_EQ(model.at("defaults"), nlohmann::json({{"width", 64}, {"height", 64}, {"cfg", 2.0}, {"spacing", "trailing"}}));
    }
    if (model.at("id") == "sd1_tiny")
      EXPECT_EQ(model.at("defaults"), nlohmann::json({{"width", 512}, {"height", 512}, {"cfg", 7.5}, {"spacing", nullptr}}));
  }
  const nlohmann::json body{{"prompt", "a red circle"}, {"steps", 4}, {"seed", 1}, {"preview", {{"method", "auto"}}}};
  const auto reply = post_json(server.port(), "/v1/jobs", body);
  ASSERT_EQ(reply.status, 202u) << reply.body;
  const auto id = reply.json().at("id").get<std::string>();
  const auto events = sse_events(get(server.port(), "/v1/jobs/" + id + "/events").body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "completed") << events.back().data;
  const auto png = get(server.port(), "/v1/jobs/" + id + "/images/0");
  const auto image = image::decode_png({reinterpret_cast<const uint8_t*>(png.body.data()), png.body.size()});
  EXPECT_EQ(image.width, 64);
  EXPECT_EQ(image.height, 64);
  EXPECT_NE(png.body.find("Spacing: trailing, CFG scale: 2,"), std::string::npos);

  // A1111's cfg_scale 7 is for models that recommend none.
  const auto a1111 = post_json(server.port(), "/sdapi/v1/txt2img", {{"prompt", "a red circle"}, {"steps", 2}});
  ASSERT_EQ(a1111.status, 200u) << a1111.body;
  EXPECT_EQ(nlohmann::json::parse(a1111.json().at("info").get<std::string>()).at("cfg_scale"), 2.0);

  // OpenAI usage counts tokens with the model's own tokenizer too: "lighthouse" is one CLIP token (the
  // --vocab) but several of the embedded model's, which learned only the scene captions' words.
  const nlohmann::json openai{{"prompt", "a lighthouse"}, {"model", "darkroom-shapes"}};
  const auto generated = post_json(server.port(), "/v1/images/generations", openai);
  ASSERT_EQ(generated.status, 200u) << generated.body;
  EXPECT_GT(generated.json().at("usage").at("input_tokens").get<int>(), 2);
}

TEST(NativeApi, ResumeFromACursor) {
  TestServer server;
  const auto id = submit(server.port(), tiny_request(5));
  const auto all = sse_events(get(server.port(), "/v1/jobs/" + id + "/events").body);
  ASSERT_GT(all.size(), 6u);
  const auto resumed = sse_events(get(server.port(), "/v1/jobs/" + id + "/events", {{"Last-Event-ID", all[3].id}}).body);
  ASSERT_EQ(resumed.size(), all.size() - 4);
  for (std::size_t i = 0; i < resumed.size(); ++i) EXPECT_EQ(resumed[i], all[i + 4]);
  const auto by_query = sse_events(get(server.port(), "/v1/jobs/" + id + "/events?after=" + all[3].id).body);
  EXPECT_EQ(by_query, resumed);
  const auto bad = get(server.port(), "/v1/jobs/" + id + "/events?after=abc");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.json().at("error").at("field"), "after");
}

TEST(NativeApi, GenerateStreamsMsgpackFrames) {
  TestServer server;
  auto body = tiny_request(3);
  body["preview"] = {{"method", "latent2rgb"}};
  const auto reply = post_json(server.port(), "/v1/generate", body, {{"Accept", "application/vnd.msgpack"}});
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "application/vnd.msgpack");
  MsgpackFrameReader reader;
  std::vector<nlohmann::json> frames;
  for (auto& frame : reader.feed(reply.body))
    if (frame.at("type") != "heartbeat") frames.push_back(std::move(frame));  // a slow host idles past 1 s
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.front().at("type"), "queued");
  EXPECT_EQ(frames.back().at("type"), "completed");
  EXPECT_TRUE(frames.back().at("images").at(0).at("image").is_binary());
  int previews = 0;
  for (const auto& frame : frames) {
    EXPECT_EQ(frame.at("job_id"), reply.header("x-darkroom-job-id"));
    if (frame.at("type") != "preview") continue;
    ++previews;
    EXPECT_TRUE(frame.at("image").is_binary());
  }
  EXPECT_GE(previews, 1);  // one per step, less any superseded while the stream was behind
}

// timeout_s on the request, --job-timeout on the server: a job past its time ends with error "timeout".
TEST(NativeApi, AJobPastItsTimeoutEndsWithATimeoutError) {
  auto options = tiny_server_options();
  options.engine.job_timeout = std::chrono::seconds(60);
  TestServer server(options);
  auto body = tiny_request(1000);
  body["timeout_s"] = 0.5;
  const auto events = sse_events(post_json(server.port(), "/v1/generate", body).body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  const auto error = nlohmann::json::parse(events.back().data);
  EXPECT_EQ(error.at("code"), "timeout");

  body["timeout_s"] = 61;
  const auto refused = post_json(server.port(), "/v1/jobs", body);
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.json().at("error").at("field"), "timeout_s");
  body["timeout_s"] = -1;
  EXPECT_EQ(post_json(server.port(), "/v1/jobs", body).json().at("error").at("field"), "timeout_s");
}

TEST(NativeApi, CancelARunningJob) {
  TestServer server;
  const auto id = submit(server.port(), tiny_request(1000));
  ASSERT_TRUE(wait_until([&] { return job_running(server.port(), id, true); }))
      << "the job never ran a step: " << get(server.port(), "/v1/jobs/" + id).body;
  const auto cancel = request(server.port(), http::verb::delete_, "/v1/jobs/" + id);
  EXPECT_EQ(cancel.status, 202u);
  const auto events = sse_events(get(server.port(), "/v1/jobs/" + id + "/events").body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "cancelled");
  EXPECT_EQ(get(server.port(), "/v1/jobs/" + id).json().at("state"), "cancelled");
  EXPECT_EQ(request(server.port(), http::verb::delete_, "/v1/jobs/" + id).status, 200u);  // already over
  EXPECT_EQ(request(server.port(), http::verb::delete_, "/v1/jobs/nope").status, 404u);
}

TEST(NativeApi, AFullQueueAnswers429WithRetryAfter) {
  auto options = tiny_server_options();
  options.engine.workers = 1;
  options.engine.max_queued = 1;
  TestServer server(options);
  const auto running = submit(server.port(), tiny_request(1000));
  const auto queued = submit(server.port(), tiny_request(4));
  const auto refused = post_json(server.port(), "/v1/jobs", tiny_request(4));
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(refused.header("retry-after"), "5");
  EXPECT_EQ(refused.json().at("error").at("code"), "queue_full");
  EXPECT_EQ(get(server.port(), "/v1/jobs/" + queued).json().at("position"), 1);
  request(server.port(), http::verb::delete_, "/v1/jobs/" + queued);
  request(server.port(), http::verb::delete_, "/v1/jobs/" + running);
  const auto metrics = get(server.port(), "/metrics").body;
  EXPECT_NE(metrics.find("darkroom_queue_full_total 1"), std::string::npos) << metrics;
}

TEST(NativeApi, ApiKeyAndCors) {
  auto options = tiny_server_options();
  options.api_key = "sesame";
  options.cors_origin = "*";
  TestServer server(options);
  const auto denied = get(server.port(), "/v1/capabilities");
  EXPECT_EQ(denied.status, 401u);
  EXPECT_EQ(denied.header("www-authenticate"), "Bearer");
  EXPECT_EQ(get(server.port(), "/v1/capabilities", {{"Authorization", "Bearer sesame"}}).status, 200u);
  EXPECT_EQ(get(server.port(), "/v1/capabilities?access_token=sesame").status, 200u);
  EXPECT_EQ(get(server.port(), "/v1/capabilities", {{"Authorization", "Bearer wrong"}}).status, 401u);
  const auto health = get(server.port(), "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.header("access-control-allow-origin"), "*");
  const auto preflight = request(server.port(), http::verb::options, "/v1/jobs");
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_NE(preflight.header("access-control-allow-headers").find("Last-Event-ID"), std::string::npos);
}

TEST(NativeApi, NoCorsHeadersUnlessConfigured) {
  TestServer server;
  EXPECT_EQ(get(server.port(), "/health").header("access-control-allow-origin"), "");
}

TEST(NativeApi, MetricsCountStepsAndStreams) {
  TestServer server;
  const auto id = submit(server.port(), tiny_request(3));
  get(server.port(), "/v1/jobs/" + id + "/events");
  const auto metrics = get(server.port(), "/metrics");
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const auto* line : {"darkroom_step_seconds_count 3", "darkroom_streams_total 1", "darkroom_streams_connected 0",
                           "darkroom_jobs{state=\"finished\"} 1", "darkroom_queue_depth 0"})
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;
}

TEST(NativeApi, StopEndsOpenStreamsWithATerminalEvent) {
  auto server = std::make_unique<TestServer>();
  const auto port = server->port();
  const auto id = submit(port, tiny_request(1000));
  std::string body;
  std::thread reader([&] { body = get(port, "/v1/jobs/" + id + "/events").body; });
  const bool streaming =
      wait_until([&] { return has_metric_line(port, "darkroom_streams_connected 1") && job_running(port, id); });
  server.reset();  // stop(): the job is cancelled and the stream gets its terminal event before the end
  reader.join();
  ASSERT_TRUE(streaming) << "the job never ran with its stream connected; the stream read:\n" << body;
  const auto events = sse_events(body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "cancelled");
  EXPECT_EQ(nlohmann::json::parse(events.back().data).at("reason"), "shutdown");
}

}  // namespace
}  // namespace darkroom::server::testing
