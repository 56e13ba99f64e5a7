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

namespace darkroom::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
struct ServerState;

// JSON text for the wire. Invalid UTF-8 (from a client's own bytes echoed in an error, or an exception's
// text) becomes U+FFFD instead of an exception, so an answer can always be sent.
inline std::string json_text(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class Exchange {
 public:
  Exchange(ServerState& state, boost::beast::tcp_stream& stream, Request& request);

  ServerState& state;
  boost::beast::tcp_stream& stream;
  Request& request;
  std::map<std::string, std::string> params;  // {name} segments of the matched route
  bool keep_alive;                            // whether the connection serves another request after this
  bool responded = false;                     // a response (or a stream's header) has been sent

  std::string_view path() const { return path_; }
  // A query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> query(std::string_view key) const;

  Response json_response(http::status status, const nlohmann::json& body) const;
  // The native error shape: {"error": {"code", "message", "field"?}}.
  Response error_response(http::status status, std::string_view code, std::string_view message,
                          std::string_view field = {}) const;

  // Sends a complete response (adds the common headers and the content length).
  boost::asio::awaitable<void> send(Response response);
  boost::asio::awaitable<void> send_json(http::status status, const nlohmann::json& body);
  boost::asio::awaitable<void> send_bytes(http::status status, std::string_view content_type, std::string body);
  boost::asio::awaitable<void> send_error(http::status status, std::string_view code, std::string_view message,
                                          std::string_view field = {});

  // Headers every response gets (CORS); for streamed responses that build their own header.
  void add_common_headers(http::fields& fields) const;

 private:
  std::string path_;
  std::map<std::string, std::string, std::less<>> query_;
};

}  // namespace darkroom::server
