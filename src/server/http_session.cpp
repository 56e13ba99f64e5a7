#include "http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "answer.hpp"
#include "darkroom/server/site_policy.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

namespace beast = boost::beast;
using boost::asio::awaitable;
constexpr auto kIdleTimeout = std::chrono::seconds(60);  // between requests, and for a slow request head
constexpr std::string_view kNeedsKey = "this server needs an API key: Authorization: Bearer KEY (or ?access_token=KEY)";

// "Authorization: Bearer KEY" (OpenAI's SDKs and most clients), "Key KEY" (fal's clients), or ?access_token=KEY
// (EventSource cannot send headers). Open routes (/health, the web page) need none.
bool authorized(const Exchange& ex, const Router::Route* route) {
  const auto& key = ex.state.options.api_key;
  if (key.empty() || (route && route->open)) return true;
  const auto header = ex.request[http::field::authorization];
  if (header == "Bearer " + key || header == "Key " + key) return true;
  const auto token = ex.query("access_token");
  return token && *token == key;
}

Response preflight(const Exchange& ex) {
  Response response{http::status::no_content, ex.request.version()};
  response.set(http::field::access_control_allow_methods, "GET, POST, PUT, DELETE, OPTIONS");
  response.set(http::field::access_control_allow_headers, "Authorization, Content-Type, Accept, Last-Event-ID");
  response.set(http::field::access_control_max_age, "600");
  return response;
}

// The route's answer, every refusal in the route's dialect (the native one when no route matched).
awaitable<void> respond(Exchange& ex, const Router& router) {
  if (ex.request.method() == http::verb::options && !ex.state.options.cors_origin.empty()) {
    co_await ex.send(preflight(ex));
    co_return;
  }
  if (beast::websocket::is_upgrade(ex.request)) ex.keep_alive = false;  // a refused upgrade ends the connection
  const auto match = router.match(ex);
  if (match.route) ex.errors = match.route->errors;
  if (!authorized(ex, match.route)) {
    const Failure failure{Failure::Kind::unauthorized, std::string(kNeedsKey), "", "", 0};
    co_await ex.send_failure(failure);
  } else if (ex.state.stopping && ex.path() != "/health") {
    const Failure failure{Failure::Kind::stopping, "the server is shutting down", "", "", 0};
    co_await ex.send_failure(failure);
  } else if (!match.route) {
    auto response = ex.failure_response(match.failure);
    if (!match.allowed.empty()) response.set(http::field::allow, match.allowed);
    co_await ex.send(std::move(response));
  } else {
    co_await answer(ex, match.route->handler);
  }
}

// The Host and Origin rules of site_policy.hpp, for every request and WebSocket upgrade alike.
std::optional<SiteRefusal> check_request_site(const ServerState& state, const Request& request) {
  const auto origin_field = request.find(http::field::origin);
  std::optional<std::string_view> origin;
  if (origin_field != request.end()) origin = std::string_view(origin_field->value().data(), origin_field->value().size());
  const auto host = request[http::field::host];
  return check_site(state.site, request.version(), std::string_view(host.data(), host.size()), origin);
}

// A request the parser refused (too large, malformed) still gets an answer before the connection closes.
awaitable<void> refuse(ServerState& state, beast::tcp_stream& stream, beast::error_code ec) {
  Request request{http::verb::get, "/", 11};
  Exchange ex(state, stream, request);
  ex.keep_alive = false;
  auto status = http::status::bad_request;
  std::string code = "malformed_http", message = "malformed HTTP request: " + ec.message();
  if (ec == http::error::body_limit) {
    status = http::status::payload_too_large;
    code = "payload_too_large";
    message = "the request body exceeds " + std::to_string(state.options.max_body_bytes) + " bytes";
  } else if (ec == http::error::header_limit) {
    status = http::status::request_header_fields_too_large;
    code = "headers_too_large";
    message = "the request headers are too large";
  }
  auto response = ex.error_response(status, code, message);
  co_await ex.send(std::move(response));
}

}  // namespace

awaitable<void> serve_connection(ServerState& state, const Router& router, boost::asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(state.options.max_body_bytes);
    stream.expires_after(kIdleTimeout);
    const auto [ec, n] = co_await http::async_read(stream, buffer, parser, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::operation_aborted)
      break;
    if (ec) {
      co_await refuse(state, stream, ec);
      break;
    }
    stream.expires_never();
    Request request = parser.release();
    if (const auto refusal = check_request_site(state, request)) {
      Exchange ex(state, stream, request);
      ex.keep_alive = false;
      auto response = ex.error_response(static_cast<http::status>(refusal->status), refusal->code, refusal->message);
      co_await ex.send(std::move(response));
      break;
    }
    Exchange ex(state, stream, request);
    co_await respond(ex, router);
    if (ex.upgraded) co_return;  // the WebSocket session owned the connection, and has closed it
    if (!ex.keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace darkroom::server
