// The OpenAI Images dialect end to end: POST /v1/images/generations answered and streamed as OpenAI's
// API does, and its errors in OpenAI's shape, against a real server and the tiny model.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string>
#include <thread>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "darkroom/server/base64.hpp"
#include "darkroom/server/sse.hpp"
#include "server_fixture.hpp"
#include "support/wait.hpp"

namespace darkroom::server::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = boost::beast::http;
using darkroom::testing::wait_until;

constexpr auto kGenerations = "/v1/images/generations";

// "a red circle" is three CLIP tokens: usage counts them with the model's tokenizer.
json openai_request(json extra = json::object()) {
  json body{{"prompt", "a red circle"}, {"size", "64x64"}};
  body.update(extra);
  return body;
}

// Whether GET /metrics has this exact sample line, name and value: "darkroom_streams_connected 1".
bool has_metric_line(uint16_t port, const std::string& line) {
  return get(port, "/metrics").body.find("\n" + line + "\n") != std::string::npos;
}

int running_jobs(uint16_t port) { return get(port, "/health").json().at("running").get<int>(); }

image::Image decode_b64(const json& b64, image::Format format) {
  const auto bytes = base64::decode(b64.get<std::string>());
  switch (format) {
    case image::Format::png: return image::decode_png(bytes);
    case image::Format::jpeg: return image::decode_jpeg(bytes);
    case image::Format::webp: return image::decode_webp(bytes);
  }
  return {};
}

void expect_usage(const json& usage) {
  EXPECT_EQ(usage.at("input_tokens"), 3);
  EXPECT_EQ(usage.at("output_tokens"), 0);
  EXPECT_EQ(usage.at("total_tokens"), 3);
}

TEST(OpenAiImages, ReturnsNImagesOfTheRequestedSize) {
  TestServer server;
  const auto reply = post_json(server.port(), kGenerations, openai_request({{"n", 2}}));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/json");
  const auto body = reply.json();
  EXPECT_GT(body.at("created").get<int64_t>(), 1'700'000'000);
  EXPECT_EQ(body.at("output_format"), "png");
  EXPECT_EQ(body.at("size"), "64x64");
  EXPECT_EQ(body.at("quality"), "auto");
  EXPECT_EQ(body.at("background"), "auto");
  expect_usage(body.at("usage"));
  ASSERT_EQ(body.at("data").size(), 2u);
  for (const auto& item : body.at("data")) {
    const auto picture = decode_b64(item.at("b64_json"), image::Format::png);
    EXPECT_EQ(picture.width, 64);
    EXPECT_EQ(picture.height, 64);
    EXPECT_NE(base64::decode(item.at("b64_json").get<std::string>()).size(), 0u);
  }
}

TEST(OpenAiImages, OutputFormatsAreHonoured) {
  TestServer server;
  for (const auto format : {image::Format::jpeg, image::Format::webp}) {
    const std::string name(image::format_name(format));
    SCOPED_TRACE(name);
    const auto reply =
        post_json(server.port(), kGenerations, openai_request({{"output_format", name}, {"output_compression", 60}}));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    const auto body = reply.json();
    EXPECT_EQ(body.at("output_format"), name);
    ASSERT_EQ(body.at("data").size(), 1u);
    EXPECT_EQ(decode_b64(body.at("data")[0].at("b64_json"), format).width, 64);
  }
}

// Every partial image (indices 0..k-1, in output_format), then the completed image, each with every field
// of OpenAI's event shape.
TEST(OpenAiImages, StreamsPartialImagesThenTheCompletedImage) {
  TestServer server;
  for (int partials = 0; partials <= 3; ++partials) {
    SCOPED_TRACE("partial_images " + std::to_string(partials));
    const auto format = partials == 2 ? image::Format::jpeg : image::Format::png;
    const std::string format_name(image::format_name(format));
    const auto reply = post_json(server.port(), kGenerations,
                                 openai_request({{"stream", true}, {"partial_images", partials}, {"output_format", format_name}}));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.header("content-type"), "text/event-stream; charset=utf-8");
    EXPECT_FALSE(reply.header("x-darkroom-job-id").empty());
    SseParser parser;
    const auto events = parser.feed(reply.body);
    ASSERT_EQ(events.size(), static_cast<std::size_t>(partials + 1)) << reply.body.substr(0, 2000);
    for (int i = 0; i <= partials; ++i) {
      const bool partial = i < partials;
      const auto& event = events[i];
      const auto name = partial ? "image_generation.partial_image" : "image_generation.completed";
      EXPECT_EQ(event.event, name);
      EXPECT_EQ(event.id, "");
      const auto data = json::parse(event.data);
      EXPECT_EQ(data.at("type"), name);
      EXPECT_GT(data.at("created_at").get<int64_t>(), 1'700'000'000);
      EXPECT_EQ(data.at("size"), "64x64");
      EXPECT_EQ(data.at("quality"), "auto");
      EXPECT_EQ(data.at("background"), "auto");
      EXPECT_EQ(data.at("output_format"), format_name);
      const auto picture = decode_b64(data.at("b64_json"), format);
      EXPECT_GT(picture.width, 0);
      if (partial) {
        EXPECT_EQ(data.at("partial_image_index"), i);
      } else {
        EXPECT_EQ(picture.width, 64);
        expect_usage(data.at("usage"));
      }
    }
  }
}

struct BadInput {
  std::string name;
  std::string body;
  std::string param;  // "" = null
};

std::string with(const std::string& key, const json& value) { return openai_request({{key, value}}).dump(); }

TEST(OpenAiImages, ErrorsNameTheParamInOpenAisShape) {
  TestServer server;
  const std::vector<BadInput> bad{
      {"malformed JSON", R"({"prompt": )", ""},
      {"no prompt", R"({"size": "64x64"})", "prompt"},
      {"prompt not a string", with("prompt", 5), "prompt"},
      {"n too large", with("n", 11), "n"},
      {"n zero", with("n", 0), "n"},
      {"size not a multiple of 8", with("size", "65x64"), "size"},
      {"size beyond the limits", with("size", "4096x4096"), "size"},
      {"size nonsense", with("size", "big"), "size"},
      {"unknown output format", with("output_format", "gif"), "output_format"},
      {"compression above 100", with("output_compression", 101), "output_compression"},
      {"too many partial images", with("partial_images", 4), "partial_images"},
      {"url responses", with("response_format", "url"), "response_format"},
      {"unknown quality", with("quality", "ultra"), "quality"},
      {"unknown field", with("steps", 4), "steps"},
      {"unknown model", with("model", "sd9-turbo"), "model"},
      {"a path as model", with("model", "../etc/passwd"), "model"},
      {"unloadable model", with("model", "sd1_tiny_unconfigured"), "model"},
  };
  for (const auto& input : bad) {
    SCOPED_TRACE(input.name);
    const auto reply = request(server.port(), http::verb::post, kGenerations, input.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(reply.status, 400u) << reply.body;
    const auto error = reply.json().at("error");
    EXPECT_FALSE(error.at("message").get<std::string>().empty());
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("param"), input.param.empty() ? json(nullptr) : json(input.param)) << reply.body;
    EXPECT_TRUE(error.contains("code"));
  }
}

TEST(OpenAiImages, AFullQueueAnswers429InOpenAisShape) {
  auto options = tiny_server_options();
  options.engine.workers = 1;
  options.engine.max_queued = 1;
  TestServer server(options);
  auto native = tiny_request(200);
  const auto running = post_json(server.port(), "/v1/jobs", native).json().at("id").get<std::string>();
  const auto queued = post_json(server.port(), "/v1/jobs", native).json().at("id").get<std::string>();
  const auto refused = post_json(server.port(), kGenerations, openai_request());
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(refused.header("retry-after"), "5");
  EXPECT_EQ(refused.json().at("error").at("code"), "queue_full");
  EXPECT_EQ(refused.json().at("error").at("param"), nullptr);
  request(server.port(), http::verb::delete_, "/v1/jobs/" + queued);
  request(server.port(), http::verb::delete_, "/v1/jobs/" + running);
}

// A stream whose job ends without an image ends with OpenAI's "error" event, not a silent EOF.
TEST(OpenAiImages, AStreamCutShortEndsWithAnErrorEvent) {
  auto server = std::make_unique<TestServer>();
  const auto port = server->port();
  std::string body;
  // 256x256 keeps the tiny model busy for seconds (20 steps; attention over 1024 latent pixels).
  std::thread reader([&] { body = post_json(port, kGenerations, openai_request({{"stream", true}, {"size", "256x256"}})).body; });
  // The stop comes once the job runs and its stream has started, so that it is the stream the stop cuts short.
  const bool streaming =
      wait_until([&] { return running_jobs(port) == 1 && has_metric_line(port, "darkroom_streams_connected 1"); });
  server.reset();
  reader.join();
  ASSERT_TRUE(streaming) << "the job never ran with its stream connected; the stream read:\n" << body;
  SseParser parser;
  const auto events = parser.feed(body);
  ASSERT_FALSE(events.empty()) << body;
  EXPECT_EQ(events.back().event, "error");
  const auto data = json::parse(events.back().data);
  EXPECT_EQ(data.at("type"), "error");
  EXPECT_EQ(data.at("error").at("code"), "server_shutting_down");
  EXPECT_EQ(data.at("error").at("type"), "server_error");
  EXPECT_TRUE(data.at("error").contains("param"));
  EXPECT_FALSE(data.at("error").at("message").get<std::string>().empty());
}

// Nobody else knows the job of a request that waits for its images: when its client leaves, it is cancelled.
TEST(OpenAiImages, AClientThatLeavesCancelsItsJob) {
  TestServer server;
  const auto body = openai_request({{"size", "256x256"}}).dump();  // seconds of work
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
    const std::string head = "POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head + body));
    ASSERT_TRUE(wait_until([&] { return running_jobs(server.port()) == 1; })) << "the job never started";
  }  // the client closes the connection
  // 5 s, as before, and no longer: a job that finishes on its own leaves "running" 0 too, so a deadline past
  // the job's own run time would pass without any cancel.
  EXPECT_TRUE(wait_until([&] { return running_jobs(server.port()) == 0; }, 5s))
      << "the job still runs 5 s after its client left";
  EXPECT_EQ(running_jobs(server.port()), 0);
}

}  // namespace
}  // namespace darkroom::server::testing
