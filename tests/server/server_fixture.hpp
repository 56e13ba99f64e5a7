#pragma once
// A real darkroom server on a loopback port, serving the golden tiny SD1 model, and a small synchronous
// HTTP client (Boost.Beast) for the tests to talk to it as any client would.
#include <boost/beast/http.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/server/server.hpp"

namespace darkroom::server::testing {

// --models-dir golden::checkpoints_dir() (sd1_tiny and sdxl_tiny beside their model configs, and
// sd1_tiny_unconfigured, which is listed but cannot be loaded),
// default model sd1_tiny, the golden CLIP vocabulary, 1 s heartbeats, 2 s disconnect grace, up to
// 1000 steps.
ServerOptions tiny_server_options();

class TestServer {
 public:
  explicit TestServer(ServerOptions options = tiny_server_options());
  ~TestServer();  // stops the server and waits for run() to return
  uint16_t port() const { return port_; }
  void stop() { server_.stop(); }

 private:
  Server server_;
  uint16_t port_;
  std::thread thread_;
};

struct HttpReply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;
// One request on a new connection; reads the whole response (a stream: until its end).
HttpReply request(uint16_t port, boost::beast::http::verb method, const std::string& target, const std::string& body = "",
                  const Headers& headers = {});
HttpReply get(uint16_t port, const std::string& target, const Headers& headers = {});
HttpReply post_json(uint16_t port, const std::string& target, const nlohmann::json& body, const Headers& headers = {});
// Raw bytes in and the raw response bytes out, for requests no well-behaved client would send.
std::string raw_exchange(uint16_t port, const std::string& bytes);

// A native request for the tiny model: 64x64, `steps` steps, a fixed seed.
nlohmann::json tiny_request(int steps = 4);

}  // namespace darkroom::server::testing
