// Bad input, each answered with a 4xx that names what is wrong, over a real socket. The parsers' own unit
// tests (tests/server/wire) cover more cases; these check the answers a client actually gets.
#include <gtest/gtest.h>

#include <functional>

#include "server_fixture.hpp"

namespace darkroom::server::testing {
namespace {

namespace http = boost::beast::http;

struct BadRequest {
  std::string name;
  std::string target;
  std::string body;  // sent as is
  unsigned status;
  std::string field;  // the field the error must name ("" = the request as a whole)
};

std::string with(const std::string& key, const nlohmann::json& value) {
  auto body = tiny_request();
  body[key] = value;
  return body.dump();
}

std::vector<BadRequest> bad_requests() {
  auto no_prompt = tiny_request();
  no_prompt.erase("prompt");
  return {
      {"malformed JSON", "/v1/jobs", R"({"prompt": "a",)", 400, ""},
      {"not an object", "/v1/jobs", "[1, 2]", 400, ""},
      {"unknown field", "/v1/jobs", with("stpes", 4), 400, "stpes"},
      {"no prompt", "/v1/jobs", no_prompt.dump(), 400, "prompt"},
      {"zero steps", "/v1/jobs", with("steps", 0), 400, "steps"},
      {"too many steps", "/v1/jobs", with("steps", 1000000), 400, "steps"},
      {"steps as text", "/v1/jobs", with("steps", "ten"), 400, "steps"},
      {"width not a multiple of 8", "/v1/jobs", with("width", 63), 400, "width"},
      {"absurd height", "/v1/jobs", with("height", 1 << 20), 400, "height"},
      {"zero batch", "/v1/jobs", with("batch", 0), 400, "batch"},
      {"cfg as text", "/v1/jobs", with("cfg", "high"), 400, "cfg"},
      {"fractional seed", "/v1/jobs", with("seed", 1.5), 400, "seed"},
      {"unknown sampler", "/v1/jobs", with("sampler", "heun"), 400, "sampler"},
      {"unknown scheduler", "/v1/jobs", with("scheduler", "cosine"), 400, "scheduler"},
      {"unknown preview method", "/v1/jobs", with("preview", {{"method", "magic"}}), 400, "preview.method"},
      {"negative preview count", "/v1/jobs", with("preview", {{"method", "auto"}, {"count", -1}}), 400, "preview.count"},
      {"unknown preview field", "/v1/jobs", with("preview", {{"methd", "auto"}}), 400, "preview.methd"},
      {"init image not base64", "/v1/jobs", with("init_image", "!!!"), 400, "init_image"},
      {"a path as model", "/v1/jobs", with("model", "../../etc/passwd"), 400, "model"},
      {"an absolute path as model", "/v1/jobs", with("model", "/tmp/x"), 400, "model"},
      {"unknown model", "/v1/jobs", with("model", "nope"), 400, "model"},
      {"unsupported model", "/v1/jobs", with("model", "sd1_tiny_unconfigured"), 400, "model"},
      {"stream field outside generate", "/v1/jobs", with("stream", "sse"), 400, "stream"},
      {"unknown stream format", "/v1/generate", with("stream", "xml"), 400, "stream"},
  };
}

TEST(BadRequests, EachGets4xxNamingTheField) {
  TestServer server;
  for (const auto& bad : bad_requests()) {
    SCOPED_TRACE(bad.name);
    const auto reply = request(server.port(), http::verb::post, bad.target, bad.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(reply.status, bad.status) << reply.body;
    const auto error = nlohmann::json::parse(reply.body).at("error");
    EXPECT_EQ(error.value("field", ""), bad.field) << reply.body;
    EXPECT_FALSE(error.at("message").get<std::string>().empty());
    if (!bad.field.empty())
      EXPECT_NE(error.at("message").get<std::string>().find(bad.field), std::string::npos) << reply.body;
  }
  // The server is still serving after all of that.
  EXPECT_EQ(get(server.port(), "/health").status, 200u);
}

// Every dialect answers a malformed body and a bad field in its own error shape, naming the field in its
// own words.
TEST(BadRequests, EachDialectAnswersInItsOwnShape) {
  TestServer server;
  using Named = std::function<std::string(const nlohmann::json&)>;  // the field an answer names ("": the whole)
  struct Case {
    std::string target, body;
    unsigned status;
    Named named;
    std::string field;
  };
  const Named openai = [](const nlohmann::json& j) {
    const auto& param = j.at("error").at("param");
    return param.is_null() ? std::string() : param.get<std::string>();
  };
  const Named a1111 = [](const nlohmann::json& j) { return j.at("field").get<std::string>(); };
  const Named fastapi = [](const nlohmann::json& j) {
    std::string field;
    for (const auto& part : j.at("detail").at(0).at("loc"))
      if (part != "body") field += (field.empty() ? "" : ".") + part.get<std::string>();
    return field;
  };
  const Named novelai = [](const nlohmann::json& j) {
    const auto message = j.at("message").get<std::string>();
    return message.substr(0, message.find(':'));
  };
  const std::vector<Case> cases{
      {"/v1/images/generations", "{", 400, openai, ""},
      {"/v1/images/generations", R"({"prompt": "x", "n": 0})", 400, openai, "n"},
      {"/sdapi/v1/txt2img", R"({"prompt": "x", "steps": 0})", 422, a1111, "steps"},
      {"/generate/stream", "[1]", 422, fastapi, ""},
      {"/generate/stream", R"({"prompt": "x", "steps": 0})", 422, fastapi, "steps"},
      {"/v1/images/generations/stream", R"({"prompt": "x", "size": "big"})", 422, fastapi, "size"},
      {"/ai/generate-image-stream", R"({"input": "x", "parameters": {"steps": 0}})", 400, novelai, "parameters.steps"},
      {"/ai/generate-image", R"({"input": "x", "parameters": {"sampler": "k_lms"}})", 400, novelai, "parameters.sampler"},
      {"/fal/run/me/sd1_tiny", "{", 422, fastapi, ""},
      {"/fal/run/me/sd1_tiny/stream", R"({"prompt": "x", "num_inference_steps": 0})", 422, fastapi, "num_inference_steps"},
      {"/fal/queue/me/sd1_tiny", R"({"prompt": "x", "image_size": "huge"})", 422, fastapi, "image_size"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.target + " " + bad.body);
    const auto reply = request(server.port(), http::verb::post, bad.target, bad.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(reply.status, bad.status) << reply.body;
    EXPECT_EQ(bad.named(reply.json()), bad.field) << reply.body;
  }
  EXPECT_EQ(get(server.port(), "/health").status, 200u);
}

TEST(BadRequests, UnknownRoutesAndMethods) {
  TestServer server;
  EXPECT_EQ(get(server.port(), "/v2/nothing").status, 404u);
  const auto wrong_method = request(server.port(), http::verb::put, "/v1/jobs");
  EXPECT_EQ(wrong_method.status, 405u);
  EXPECT_EQ(wrong_method.header("allow"), "POST");
  EXPECT_EQ(get(server.port(), "/v1/jobs/unknown-id").status, 404u);
  EXPECT_EQ(get(server.port(), "/v1/jobs/unknown-id/events").status, 404u);
}

TEST(BadRequests, OversizedBodiesAndMalformedHttp) {
  auto options = tiny_server_options();
  options.max_body_bytes = 1024;
  TestServer server(options);
  const auto big = request(server.port(), http::verb::post, "/v1/jobs", std::string(4096, 'x'),
                           {{"Content-Type", "application/json"}});
  EXPECT_EQ(big.status, 413u);
  EXPECT_EQ(big.json().at("error").at("code"), "payload_too_large");
  const auto garbage = raw_exchange(server.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(garbage.starts_with("HTTP/1.1 400")) << garbage;
  EXPECT_EQ(get(server.port(), "/health").status, 200u);
}

}  // namespace
}  // namespace darkroom::server::testing
