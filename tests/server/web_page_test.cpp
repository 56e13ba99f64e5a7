// The page's files as the server serves them (headers, the API key rule), and the development animation
// of a job that asked for one. The page's behaviour in a browser is tests/web.
#include <gtest/gtest.h>

#include <string>

#include "darkroom/image/webp.hpp"
#include "server_fixture.hpp"
#include "support/wait.hpp"

namespace darkroom::server::testing {
namespace {

using namespace std::chrono_literals;
using darkroom::testing::wait_until;

TEST(WebPage, TheRootIsThePageAndItsFilesAreUnderWeb) {
  TestServer server;
  const auto page = get(server.port(), "/");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("data-testid=\"prompt\""), std::string::npos);
  EXPECT_NE(page.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  for (const auto* file : {"app.js", "api.js", "form.js", "watch.js", "results.js"}) {
    const auto script = get(server.port(), std::string("/web/") + file);
    EXPECT_EQ(script.status, 200u) << file;
    EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8") << file;
  }
  EXPECT_EQ(get(server.port(), "/web/style.css").header("content-type"), "text/css; charset=utf-8");
  const auto missing = get(server.port(), "/web/nothing.js");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.json().at("error").at("field"), "file");
  EXPECT_EQ(get(server.port(), "/web/").status, 404u);
}

// The page needs no key to load (it asks for one); the API behind it still does.
TEST(WebPage, ThePageIsServedWithoutTheApiKey) {
  auto options = tiny_server_options();
  options.api_key = "sesame";
  TestServer server(options);
  EXPECT_EQ(get(server.port(), "/").status, 200u);
  EXPECT_EQ(get(server.port(), "/web/app.js").status, 200u);
  EXPECT_EQ(get(server.port(), "/v1/capabilities").status, 401u);
}

TEST(WebPage, AJobThatAsksForItsAnimationGetsAnAnimatedWebp) {
  TestServer server;
  auto body = tiny_request(6);
  body["preview"] = {{"method", "latent2rgb"}};
  body["animation"] = true;
  const auto submitted = post_json(server.port(), "/v1/jobs", body);
  ASSERT_EQ(submitted.status, 202u) << submitted.body;
  const auto id = submitted.json().at("id").get<std::string>();
  const auto before = get(server.port(), "/v1/jobs/" + id + "/animation");
  if (before.status != 200u) EXPECT_EQ(before.json().at("error").at("code"), "no_animation");  // not completed yet
  ASSERT_TRUE(wait_until([&] { return get(server.port(), "/v1/jobs/" + id).json().at("state") == "completed"; }, 30s));

  const auto animation = get(server.port(), "/v1/jobs/" + id + "/animation");
  ASSERT_EQ(animation.status, 200u) << animation.body;
  EXPECT_EQ(animation.header("content-type"), "image/webp");
  const auto decoded = image::decode_webp_animation({reinterpret_cast<const uint8_t*>(animation.body.data()), animation.body.size()});
  EXPECT_EQ(decoded.width, 64);
  EXPECT_EQ(decoded.height, 64);
  // A preview after each of the 6 steps, then the final image (identical frames merge into one).
  EXPECT_GE(decoded.frames.size(), 3u);
  EXPECT_LE(decoded.frames.size(), 7u);
  EXPECT_EQ(get(server.port(), "/v1/jobs/" + id + "/animation").body, animation.body);  // built once, kept

  const auto plain = post_json(server.port(), "/v1/jobs", tiny_request(2));
  const auto plain_id = plain.json().at("id").get<std::string>();
  ASSERT_TRUE(wait_until([&] { return get(server.port(), "/v1/jobs/" + plain_id).json().at("state") == "completed"; }, 30s));
  const auto none = get(server.port(), "/v1/jobs/" + plain_id + "/animation");
  EXPECT_EQ(none.status, 404u);
  EXPECT_EQ(none.json().at("error").at("code"), "no_animation");
  EXPECT_NE(none.json().at("error").at("message").get<std::string>().find("\"animation\": true"), std::string::npos);
}

}  // namespace
}  // namespace darkroom::server::testing
