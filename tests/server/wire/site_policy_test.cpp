// The Host and Origin rules, case by case (the server applies them to every request and upgrade).
#include <gtest/gtest.h>

#include "darkroom/server/site_policy.hpp"

namespace darkroom::server {
namespace {

std::string verdict(const SitePolicy& policy, std::string_view host, std::optional<std::string_view> origin,
                    unsigned version = 11) {
  const auto refusal = check_site(policy, version, host, origin);
  return refusal ? refusal->code : "ok";
}

TEST(SitePolicy, LoopbackListenersAnswerOnlyLoopbackNames) {
  const SitePolicy loopback{true, ""};
  for (const auto* host : {"localhost", "localhost:7860", "LocalHost", "127.0.0.1", "127.0.0.1:80", "127.255.1.2:9",
                           "[::1]", "[::1]:7860", "ui.localhost:3000"})
    EXPECT_EQ(verdict(loopback, host, std::nullopt), "ok") << host;
  for (const auto* host : {"evil.example", "evil.example:7860", "localhost.evil.example", "128.0.0.1", "127.0.0",
                           "127.0.0.1.evil", "0.0.0.0", "[::2]", "1270.0.0.1", "127.0.0.256"})
    EXPECT_EQ(verdict(loopback, host, std::nullopt), "forbidden_host") << host;
  // A server on every interface serves every name.
  EXPECT_EQ(verdict(SitePolicy{false, ""}, "my-box.lan:7860", std::nullopt), "ok");
}

TEST(SitePolicy, HostIsRequiredInHttp11Only) {
  EXPECT_EQ(verdict(SitePolicy{}, "", std::nullopt, 11), "missing_host");
  EXPECT_EQ(verdict(SitePolicy{}, "", std::nullopt, 10), "ok");
  EXPECT_EQ(check_site(SitePolicy{}, 11, "", std::nullopt)->status, 400u);
}

TEST(SitePolicy, OriginsMustBeTheServersOwnOrTheAllowedOne) {
  const SitePolicy plain{true, ""};
  EXPECT_EQ(verdict(plain, "127.0.0.1:7860", std::nullopt), "ok");  // curl, SDKs: no Origin
  EXPECT_EQ(verdict(plain, "127.0.0.1:7860", "http://127.0.0.1:7860"), "ok");
  EXPECT_EQ(verdict(plain, "localhost:7860", "HTTP://LOCALHOST:7860"), "ok");
  EXPECT_EQ(verdict(plain, "127.0.0.1:7860", "http://127.0.0.1:9999"), "forbidden_origin");  // another port: another site
  EXPECT_EQ(verdict(plain, "127.0.0.1:7860", "http://evil.example"), "forbidden_origin");
  EXPECT_EQ(verdict(plain, "127.0.0.1:7860", "null"), "forbidden_origin");
  EXPECT_EQ(check_site(plain, 11, "127.0.0.1", "http://evil.example")->status, 403u);

  const SitePolicy one{true, "https://my.app"};
  EXPECT_EQ(verdict(one, "127.0.0.1:7860", "https://my.app"), "ok");
  EXPECT_EQ(verdict(one, "127.0.0.1:7860", "https://other.app"), "forbidden_origin");
  const SitePolicy any{true, "*"};
  EXPECT_EQ(verdict(any, "127.0.0.1:7860", "https://other.app"), "ok");
  // An allowed origin does not lift the Host rule: rebinding stays refused.
  EXPECT_EQ(verdict(any, "evil.example", "http://evil.example"), "forbidden_host");
}

TEST(SitePolicy, LoopbackListenAddresses) {
  for (const auto* host : {"127.0.0.1", "localhost", "::1", "127.0.0.2"}) EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const auto* host : {"0.0.0.0", "::", "192.168.1.2", "example.com"}) EXPECT_FALSE(is_loopback_host(host)) << host;
}

}  // namespace
}  // namespace darkroom::server
