#pragma once
// One HTTP request and its response on a connection: what a route handler gets. The helpers add the
// headers every response carries (CORS when configured) and keep the connection's keep-alive state.
//
// Coroutine rule for every handler (GCC 12 miscompiles the alternatives: double frees, "array used as
// initializer"): the arguments of a co_await call are named locals or plain values; no conditional
// operator over temporaries, no braced initializers, no string concatenation inside the co_await.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "darkroom/server/dialect.hpp"

namespace darkroom::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
struct ServerState;

class Exchange {
 public:
  Exchange(ServerState& state, boost::beast::tcp_stream& stream, Request& request);

  ServerState& state;
  boost::beast::tcp_stream& stream;
  Request& request;
  std::map<std::string, std::string> params;  // {name} segments of the matched route
  ErrorShape errors = native_error;           // how the matched route's dialect words a failure
  bool keep_alive;                            // whether the connection serves another request after this
  bool responded = false;                     // a response (or a stream's header) has been sent
  bool upgraded = false;                      // the connection became a WebSocket (stream was moved away)

  std::string_view path() const { return path_; }
  // A query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> query(std::string_view key) const;

  Response json_response(http::status status, const nlohmann::json& body) const;
  // A failure in the route's dialect (errors), with Retry-After for queue_full and WWW-Authenticate for
  // unauthorized.
  Response failure_response(const Failure& failure) const;
  // Refusals of the HTTP layer itself, before any route (malformed request, wrong Host): the native shape
  // with a status of their own.
  Response error_response(http::status status, std::string_view code, std::string_view message) const;

  // Sends a complete response (adds the common headers and the content length).
  boost::asio::awaitable<void> send(Response response);
  boost::asio::awaitable<void> send_json(http::status status, const nlohmann::json& body);
  boost::asio::awaitable<void> send_bytes(http::status status, std::string_view content_type, std::string body);
  // The one way a failure is answered. Once a response has started nothing can follow it: the
  // connection is closed instead.
  boost::asio::awaitable<void> send_failure(const Failure& failure);

  // Headers every response gets (CORS); for streamed responses that build their own header.
  void add_common_headers(http::fields& fields) const;

 private:
  std::string path_;
  std::map<std::string, std::string, std::less<>> query_;
};

}  // namespace darkroom::server
