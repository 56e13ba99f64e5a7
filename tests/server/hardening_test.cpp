// What a hostile or careless client tries, over loopback against the real server: other web pages
// driving it (Origin, Host), malformed upgrades, HTTP/1.0 streams, a client that stops reading, jobs past
// the work budget, values that would only fail once queued, text a PNG cannot hold, and model errors that
// would show the server's paths.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <span>

#include "darkroom/image/png.hpp"
#include "darkroom/server/base64.hpp"
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

std::string error_code(const HttpReply& reply) { return reply.json().at("error").at("code").get<std::string>(); }

std::string metric_line(uint16_t port, const std::string& name) {
  const auto body = get(port, "/metrics").body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? "" : body.substr(at + 1, body.find('\n', at + 1) - at - 1);
}

// A request as raw bytes on one connection: the status line and headers of the answer, then its body.
std::string raw_request(uint16_t port, const std::string& head) { return raw_exchange(port, head + "\r\n"); }

const std::string kUpgrade =
    "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\n";

TEST(CrossSite, ForeignOriginsAreRefusedTheServersOwnAndCurlAreServed) {
  TestServer server;
  const auto port = server.port();
  const auto body = tiny_request(1).dump();
  // A page elsewhere posting a "simple" request (no preflight): refused, and no job is queued.
  const auto foreign = request(port, http::verb::post, "/v1/jobs", body,
                               {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign.status, 403u) << foreign.body;
  EXPECT_EQ(error_code(foreign), "forbidden_origin");
  EXPECT_NE(foreign.body.find("http://evil.example"), std::string::npos);
  EXPECT_NE(foreign.body.find("--cors-origin"), std::string::npos);
  EXPECT_EQ(metric_line(port, "darkroom_queue_depth"), "darkroom_queue_depth 0");
  EXPECT_EQ(request(port, http::verb::get, "/health", "", {{"Origin", "null"}}).status, 403u);
  // The server's own page (Origin = the Host it was sent to), and clients that send no Origin.
  EXPECT_EQ(request(port, http::verb::post, "/v1/jobs", body, {{"Origin", "http://127.0.0.1"}}).status, 202u);
  EXPECT_EQ(request(port, http::verb::post, "/v1/jobs", body, {{"Content-Type", "text/plain"}}).status, 202u);
  // A WebSocket from another origin gets no 101.
  const auto ws = raw_request(port, kUpgrade + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n");
  EXPECT_TRUE(ws.starts_with("HTTP/1.1 403")) << ws;
}

TEST(CrossSite, CorsOriginAllowsThatOriginOnly) {
  auto options = tiny_server_options();
  options.cors_origin = "https://my.app";
  TestServer server(options);
  const auto allowed = request(server.port(), http::verb::get, "/health", "", {{"Origin", "https://my.app"}});
  EXPECT_EQ(allowed.status, 200u);
  EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://my.app");
  EXPECT_EQ(request(server.port(), http::verb::get, "/health", "", {{"Origin", "https://other.app"}}).status, 403u);
}

TEST(CrossSite, ALoopbackServerAnswersOnlyLoopbackHostNames) {
  TestServer server;
  const auto port = server.port();
  // DNS rebinding: a page's own domain, resolved to 127.0.0.1, still names that domain in Host.
  const auto rebound = request(port, http::verb::get, "/health", "", {{"Host", "evil.example:" + std::to_string(port)}});
  EXPECT_EQ(rebound.status, 403u);
  EXPECT_EQ(error_code(rebound), "forbidden_host");
  for (const std::string host : {"localhost", "LOCALHOST:8080", "127.0.0.1:1", "127.1.2.3", "[::1]:80", "app.localhost"})
    EXPECT_EQ(request(port, http::verb::get, "/health", "", {{"Host", host}}).status, 200u) << host;
  // HTTP/1.1 requires Host; HTTP/1.0 does not.
  const auto no_host = raw_request(port, "GET /health HTTP/1.1\r\n");
  EXPECT_TRUE(no_host.starts_with("HTTP/1.1 400")) << no_host;
  EXPECT_NE(no_host.find("missing_host"), std::string::npos);
  EXPECT_TRUE(raw_request(port, "GET /health HTTP/1.0\r\n").starts_with("HTTP/1.0 200")) << "an HTTP/1.0 request";
}

TEST(WebSocketUpgrade, AKeyThatIsNot16BytesOfBase64IsRefused) {
  TestServer server;
  for (const std::string key : {"", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j!Q=="}) {
    const auto reply = raw_request(server.port(), kUpgrade + "Sec-WebSocket-Key: " + key + "\r\n");
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << key << ": " << reply;
    EXPECT_NE(reply.find("bad_websocket_key"), std::string::npos) << key;
  }
  const auto good = raw_request(server.port(), kUpgrade + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
  EXPECT_TRUE(good.starts_with("HTTP/1.1 101")) << good;
}

// 30 submits written before reading anything: every reply arrives (the client's own reads wait while it
// does not read its replies), then every job's terminal event; a malformed message is answered in words.
TEST(WebSocketSession, NoReplyIsDroppedWhenCommandsComeFasterThanTheyAreRead) {
  TestServer server;
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws(io);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  const timeval limit{60, 0};  // a lost reply fails the test instead of hanging it
  ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ws.handshake("127.0.0.1", "/v1/ws");
  constexpr int kJobs = 30;
  for (int i = 0; i < kJobs; ++i)
    ws.write(boost::asio::buffer(nlohmann::json{{"type", "submit"}, {"request_id", i}, {"request", tiny_request(1)}}.dump()));
  ws.write(boost::asio::buffer(std::string(R"({"type": 1, "request_id": "bad"})")));
  std::set<int> submitted;
  std::set<std::string> ended;
  nlohmann::json refusal;
  while (submitted.size() < kJobs || ended.size() < kJobs || refusal.is_null()) {
    boost::beast::flat_buffer buffer;
    ws.read(buffer);
    if (!ws.got_text()) continue;
    const auto message = nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()));
    if (message.at("type") == "submitted") submitted.insert(message.at("request_id").get<int>());
    if (message.at("type") == "event" && (message.at("event") == "completed" || message.at("event") == "error"))
      ended.insert(message.at("job_id").get<std::string>());
    if (message.at("type") == "error") refusal = message;
  }
  EXPECT_EQ(submitted.size(), std::size_t{kJobs});
  EXPECT_EQ(refusal.at("field"), "type");
  EXPECT_EQ(refusal.at("request_id"), "bad");
  EXPECT_EQ(refusal.at("message").get<std::string>().find("json.exception"), std::string::npos) << refusal.dump();
  ws.close(boost::beast::websocket::close_code::normal);
}

// HTTP/1.0 has no chunked coding: the stream is the SSE bytes themselves, ended by the close.
TEST(Streams, AnHttp10ClientGetsThePlainBytes) {
  TestServer server;
  const auto submitted = post_json(server.port(), "/v1/jobs", tiny_request(2));
  ASSERT_EQ(submitted.status, 202u) << submitted.body;
  const auto id = submitted.json().at("id").get<std::string>();
  const auto reply = raw_request(server.port(), "GET /v1/jobs/" + id + "/events HTTP/1.0\r\n");
  ASSERT_TRUE(reply.starts_with("HTTP/1.0 200")) << reply;
  const auto head_end = reply.find("\r\n\r\n");
  const auto head = reply.substr(0, head_end);
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
  SseParser parser;
  const auto events = parser.feed(reply.substr(head_end + 4));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "queued");
  EXPECT_EQ(events.back().event, "completed");
}

// A client that stops reading fills the socket buffers; past the write timeout the server drops it, and
// its job follows the disconnect policy (here: cancelled at once).
TEST(Streams, AClientThatStopsReadingIsDroppedAfterTheWriteTimeout) {
  auto options = tiny_server_options();
  options.write_timeout = 500ms;
  TestServer server(options);
  const auto port = server.port();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.open(boost::asio::ip::tcp::v4());
  socket.set_option(boost::asio::socket_base::receive_buffer_size(4096));
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  // Full-size lossless previews of a 192x192 job, every step: about a megabyte a second.
  auto body = tiny_request(1000);
  body["width"] = body["height"] = 192;
  body["preview"] = {{"method", "vae"}, {"format", "png"}};
  body["cancel_on_disconnect"] = true;
  const auto text = body.dump();
  const std::string head = "POST /v1/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           "Content-Length: " + std::to_string(text.size()) + "\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(head + text));
  ASSERT_TRUE(wait_until([&] { return metric_line(port, "darkroom_streams_connected") == "darkroom_streams_connected 1"; }));
  // Never read: the stream stalls and is dropped, and the job with it.
  EXPECT_TRUE(wait_until([&] { return metric_line(port, "darkroom_streams_connected") == "darkroom_streams_connected 0"; }, 60s))
      << "the stalled stream is still open";
  EXPECT_TRUE(wait_until([&] { return get(port, "/health").json().at("running") == 0; }, 10s));
}

TEST(WorkBudget, JobsPastItAreRefusedNamingTheLimit) {
  TestServer server;
  auto huge = tiny_request(1);
  huge["width"] = huge["height"] = 2048;
  huge["batch"] = 16;
  const auto pixels = post_json(server.port(), "/v1/jobs", huge);
  EXPECT_EQ(pixels.status, 400u) << pixels.body;
  EXPECT_EQ(pixels.json().at("error").at("field"), "batch");
  EXPECT_NE(pixels.body.find("max_pixels"), std::string::npos) << pixels.body;

  auto long_job = tiny_request(200);
  long_job["width"] = long_job["height"] = 1024;
  const auto work = post_json(server.port(), "/v1/jobs", long_job);
  EXPECT_EQ(work.status, 400u) << work.body;
  EXPECT_EQ(work.json().at("error").at("field"), "steps");
  EXPECT_NE(work.body.find("max_work"), std::string::npos) << work.body;

  const auto limits = get(server.port(), "/v1/capabilities").json().at("limits");
  EXPECT_EQ(limits.at("max_pixels"), 1024 * 1024);
  EXPECT_EQ(limits.at("max_work"), 128 * 128 * 50);
}

// Values that pass parsing but cannot run are refused when submitted, not accepted and failed later.
TEST(Validation, ValuesThatCannotRunAreRefusedAtSubmission) {
  TestServer server;
  const auto init = base64::encode(image::encode_png(image::Image{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3, 128)}));
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"prompt", "x"}, {"clip_skip", 12}}, "clip_skip"},  // the tiny model's text encoder has fewer layers
      {{{"prompt", "x"}, {"strength", 0.5}}, "strength"},   // without init_image
      {{{"prompt", "x"}, {"init_image", init}, {"width", 64}, {"height", 64}, {"steps", 2}, {"strength", 0.4}}, "strength"},
  };
  for (const auto& [body, field] : cases) {
    const auto reply = post_json(server.port(), "/v1/jobs", body);
    EXPECT_EQ(reply.status, 400u) << body.dump();
    EXPECT_EQ(reply.json().at("error").at("field"), field) << reply.body;
  }
}

// An init image is judged by its header before anything is decoded: a few bytes claiming 16384x16384
// cost nothing; damaged data behind a good header fails the job (decoded by its worker, off the loop).
TEST(Validation, InitImagesAreCheckedFromTheirHeaderAndDecodedByTheWorker) {
  TestServer server;
  auto png = image::encode_png(image::Image{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3, 128)});
  auto bomb = png;
  for (const int at : {16, 20}) {  // IHDR width and height, big-endian: 16384
    bomb[at] = 0, bomb[at + 1] = 0, bomb[at + 2] = 0x40, bomb[at + 3] = 0;
  }
  auto body = tiny_request(2);
  body["init_image"] = base64::encode(bomb);
  const auto started = std::chrono::steady_clock::now();
  const auto refused = post_json(server.port(), "/v1/jobs", body);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.json().at("error").at("field"), "init_image");
  EXPECT_NE(refused.body.find("16384x16384"), std::string::npos) << refused.body;

  body["init_image"] = base64::encode(std::span(png).first(png.size() / 2));
  const auto damaged = post_json(server.port(), "/v1/jobs", body);
  ASSERT_EQ(damaged.status, 202u) << damaged.body;
  const auto id = damaged.json().at("id").get<std::string>();
  nlohmann::json status;
  ASSERT_TRUE(wait_until([&] { return (status = get(server.port(), "/v1/jobs/" + id).json()).at("state") == "failed"; }))
      << status.dump();
  EXPECT_EQ(status.at("error").at("code"), "invalid_request");
  EXPECT_NE(status.at("error").at("message").get<std::string>().find("init_image"), std::string::npos) << status.dump();

  body["init_image"] = base64::encode(png);
  const auto good = post_json(server.port(), "/v1/jobs", body);
  ASSERT_EQ(good.status, 202u) << good.body;
  const auto good_id = good.json().at("id").get<std::string>();
  ASSERT_TRUE(wait_until([&] { return (status = get(server.port(), "/v1/jobs/" + good_id).json()).at("state") == "completed"; }))
      << status.dump();
}

// The server's file system stays its own: model errors name files relative to the models folder.
TEST(Validation, ModelErrorsShowNoServerPaths) {
  TestServer server;
  const auto models_dir = golden::checkpoints_dir().string();
  const auto caps = get(server.port(), "/v1/capabilities");
  EXPECT_NE(caps.body.find("sd1_tiny_unconfigured"), std::string::npos);
  EXPECT_EQ(caps.body.find(models_dir), std::string::npos) << caps.body;
  auto body = tiny_request(1);
  body["model"] = "sd1_tiny_unconfigured";  // listed, cannot be loaded without a model config
  const auto refused = post_json(server.port(), "/v1/jobs", body);
  EXPECT_EQ(refused.status, 400u);
  EXPECT_NE(refused.body.find("sd1_tiny_unconfigured.safetensors"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find(models_dir), std::string::npos) << refused.body;
  // A1111 switches only to models that can be read.
  const auto options = post_json(server.port(), "/sdapi/v1/options", {{"sd_model_checkpoint", "sd1_tiny_unconfigured"}});
  EXPECT_EQ(options.status, 422u) << options.body;
  EXPECT_EQ(options.body.find(models_dir), std::string::npos) << options.body;
}

// A NUL in a prompt, which no PNG text can hold: every image is still delivered, with U+FFFD in its text.
TEST(Results, APromptWithANulStillGivesImagesOnEveryTransport) {
  TestServer server;
  const auto port = server.port();
  auto body = tiny_request(1);
  body["prompt"] = std::string("a red\0circle", 12);
  body["negative_prompt"] = std::string("\0", 1);

  auto msgpack = body;
  msgpack["stream"] = "msgpack";
  const auto frames = post_json(port, "/v1/generate", msgpack);
  ASSERT_EQ(frames.status, 200u);
  MsgpackFrameReader reader;
  const auto maps = reader.feed(frames.body);
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(maps.back().at("type"), "completed") << maps.back().dump();
  const auto id = maps.back().at("job_id").get<std::string>();

  const auto png = get(port, "/v1/jobs/" + id + "/images/0");
  ASSERT_EQ(png.status, 200u) << png.body;
  const auto file = std::filesystem::temp_directory_path() / ("darkroom-nul-" + id + ".png");
  std::ofstream(file, std::ios::binary) << png.body;
  const auto text = image::read_png_text(file);
  std::filesystem::remove(file);
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(text.front().second.starts_with("a red\xEF\xBF\xBD" "circle")) << text.front().second;

  auto sse = body;
  sse["stream"] = "sse";
  SseParser parser;
  const auto events = parser.feed(post_json(port, "/v1/generate", sse).body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "completed");

  const nlohmann::json openai{{"prompt", body["prompt"]}, {"size", "64x64"}};
  const auto images = post_json(port, "/v1/images/generations", openai);
  EXPECT_EQ(images.status, 200u) << images.body.substr(0, 300);
  const nlohmann::json a1111{{"prompt", body["prompt"]}, {"width", 64}, {"height", 64}, {"steps", 1}};
  const auto txt2img = post_json(port, "/sdapi/v1/txt2img", a1111);
  EXPECT_EQ(txt2img.status, 200u) << txt2img.body.substr(0, 300);
}

}  // namespace
}  // namespace darkroom::server::testing
