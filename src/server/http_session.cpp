#include "http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <cctype>

#include "darkroom/server/request_error.hpp"
#include "darkroom/server/site_policy.hpp"
#include "server_state.hpp"
#include "websocket_session.hpp"

namespace darkroom::server {
namespace {

namespace beast = boost::beast;
using boost::asio::awaitable;
constexpr auto kIdleTimeout = std::chrono::seconds(60);  // between requests, and for a slow request head
constexpr std::string_view kNeedsKey = "this server needs an API key: Authorization: Bearer KEY (or ?access_token=KEY)";

bool authorized(const Exchange& ex) {
  const auto& key = ex.state.options.api_key;
  if (key.empty() || ex.path() == "/health") return true;
  const auto header = ex.request[http::field::authorization];
  if (header == "Bearer " + key) return true;
  const auto token = ex.query("access_token");  // EventSource cannot send headers
  return token && *token == key;
}

Response preflight(const Exchange& ex) {
  Response response{http::status::no_content, ex.request.version()};
  response.set(http::field::access_control_allow_methods, "GET, POST, DELETE, OPTIONS");
  response.set(http::field::access_control_allow_headers, "Authorization, Content-Type, Accept, Last-Event-ID");
  response.set(http::field::access_control_max_age, "600");
  return response;
}

// The route's answer; the errors a handler may throw become responses in the native shape (the
// compatibility routes catch their own first, to answer in their dialect).
awaitable<void> respond(Exchange& ex, const Router& router) {
  if (ex.request.method() == http::verb::options && !ex.state.options.cors_origin.empty()) {
    co_await ex.send(preflight(ex));
    co_return;
  }
  if (!authorized(ex)) {
    auto response = ex.error_response(http::status::unauthorized, "unauthorized", kNeedsKey);
    response.set(http::field::www_authenticate, "Bearer");
    co_await ex.send(std::move(response));
    co_return;
  }
  if (ex.state.stopping && ex.path() != "/health") {
    co_await ex.send_error(http::status::service_unavailable, "stopping", "the server is shutting down");
    co_return;
  }
  std::optional<Response> failure;
  try {
    co_await router.dispatch(ex);
  } catch (const RequestError& e) {
    failure = ex.error_response(http::status::bad_request, "invalid_request", e.what(), e.field());
  } catch (const engine::QueueFull& e) {
    ex.state.metrics.rejected_queue_full();
    failure = ex.error_response(http::status::too_many_requests, "queue_full",
                                "the queue is full (" + std::to_string(e.limit()) + " jobs waiting); retry later");
    failure->set(http::field::retry_after, std::to_string(ex.state.options.retry_after_s));
  } catch (const engine::EngineStopped&) {
    failure = ex.error_response(http::status::service_unavailable, "stopping", "the server is shutting down");
  } catch (const std::exception& e) {
    failure = ex.error_response(http::status::internal_server_error, "internal", e.what());
  }
  if (!failure) co_return;
  if (ex.responded) {  // mid-stream: nothing sensible can follow a started response
    ex.keep_alive = false;
    co_return;
  }
  co_await ex.send(std::move(*failure));
}

// RFC 6455 4.1: the key is 16 random bytes in base64, 24 characters ending in "==". Beast accepts an empty
// or malformed one.
bool valid_websocket_key(std::string_view key) {
  const auto base64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; };
  return key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64);
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
  co_await ex.send_error(status, code, message);
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
      const auto status = static_cast<http::status>(refusal->status);
      co_await ex.send_error(status, refusal->code, refusal->message);
      break;
    }
    if (beast::websocket::is_upgrade(request)) {
      Exchange ex(state, stream, request);
      const auto key = request[http::field::sec_websocket_key];
      auto status = http::status::ok;
      std::string code, message;
      if (ex.path() != "/v1/ws") {
        status = http::status::not_found;
        code = "not_found";
        message = "WebSocket connections are served on /v1/ws";
      } else if (!valid_websocket_key(std::string_view(key.data(), key.size()))) {
        status = http::status::bad_request;
        code = "bad_websocket_key";
        message = "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.1)";
      } else if (!authorized(ex)) {
        status = http::status::unauthorized;
        code = "unauthorized";
        message = kNeedsKey;
      } else if (state.stopping) {
        status = http::status::service_unavailable;
        code = "stopping";
        message = "the server is shutting down";
      } else {
        co_await run_websocket(state, std::move(stream), std::move(request));
        co_return;
      }
      ex.keep_alive = false;
      co_await ex.send_error(status, code, message);
      break;
    }
    Exchange ex(state, stream, request);
    co_await respond(ex, router);
    if (!ex.keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace darkroom::server
