#include "server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>

#include "support/golden.hpp"

namespace darkroom::server::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

ServerOptions tiny_server_options() {
  ServerOptions options;
  options.port = 0;
  options.models_dirs = {golden::checkpoints_dir()};
  options.default_model = "sd1_tiny";
  options.engine.load.vocab = golden::path("clip/bpe_simple_vocab_16e6.txt.gz");
  options.heartbeat = std::chrono::seconds(1);
  options.disconnect_grace = std::chrono::seconds(2);
  options.shutdown_grace = std::chrono::seconds(2);
  options.engine.limits.max_steps = 1000;  // the most a 1000-timestep schedule has: long jobs (~10 ms a step)
  return options;
}

TestServer::TestServer(ServerOptions options)
    : server_(std::move(options)), port_(server_.port()), thread_([this] { server_.run(); }) {}

TestServer::~TestServer() {
  server_.stop();
  thread_.join();
}

std::string HttpReply::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

tcp::socket connect(asio::io_context& io, uint16_t port) {
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return socket;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

HttpReply request(uint16_t port, http::verb method, const std::string& target, const std::string& body,
                  const Headers& headers) {
  asio::io_context io;
  auto socket = connect(io, port);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::size_t{1} << 30);
  http::read(socket, buffer, parser);
  const auto& res = parser.get();
  HttpReply reply;
  reply.status = res.result_int();
  for (const auto& field : res) reply.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  reply.body = res.body();
  return reply;
}

HttpReply get(uint16_t port, const std::string& target, const Headers& headers) {
  return request(port, http::verb::get, target, "", headers);
}

HttpReply post_json(uint16_t port, const std::string& target, const nlohmann::json& body, const Headers& headers) {
  auto all = headers;
  all.emplace_back("Content-Type", "application/json");
  return request(port, http::verb::post, target, body.dump(), all);
}

std::string raw_exchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  auto socket = connect(io, port);
  asio::write(socket, asio::buffer(bytes));
  std::string out;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(out), ec);  // until the server closes
  return out;
}

nlohmann::json tiny_request(int steps) {
  return {{"prompt", "a red circle"}, {"width", 64}, {"height", 64}, {"steps", steps}, {"seed", 42}};
}

}  // namespace darkroom::server::testing
