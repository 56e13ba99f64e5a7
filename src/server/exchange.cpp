#include "exchange.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include "server_state.hpp"

namespace darkroom::server {

Exchange::Exchange(ServerState& state, boost::beast::tcp_stream& stream, Request& request)
    : state(state), stream(stream), request(request), keep_alive(request.keep_alive()) {
  const auto target = request.target();
  if (auto url = boost::urls::parse_origin_form(std::string_view(target.data(), target.size()))) {
    path_ = std::string(url->encoded_path());
    for (const auto& param : url->params()) query_.emplace(param.key, param.value);
  } else {
    path_ = std::string(target.substr(0, target.find('?')));
  }
}

std::optional<std::string> Exchange::query(std::string_view key) const {
  const auto it = query_.find(key);
  if (it == query_.end()) return std::nullopt;
  return it->second;
}

void Exchange::add_common_headers(http::fields& fields) const {
  fields.set(http::field::server, "darkroom");
  const auto& origin = state.options.cors_origin;
  if (origin.empty()) return;
  fields.set(http::field::access_control_allow_origin, origin);
  fields.set(http::field::access_control_expose_headers, "X-Darkroom-Job-Id, X-Darkroom-Preview-Step, X-Darkroom-Preview-Index, Location, Retry-After");
  if (origin != "*") fields.set(http::field::vary, "Origin");
}

boost::asio::awaitable<void> Exchange::send(Response response) {
  responded = true;
  add_common_headers(response.base());
  response.keep_alive(keep_alive && !state.stopping);
  response.prepare_payload();
  stream.expires_after(state.options.write_timeout);  // a client that does not read is dropped
  co_await http::async_write(stream, response, boost::asio::use_awaitable);
  stream.expires_never();
  state.metrics.responses(static_cast<unsigned>(response.result_int()));
  keep_alive = response.keep_alive();
}

boost::asio::awaitable<void> Exchange::send_bytes(http::status status, std::string_view content_type, std::string body) {
  Response response{status, request.version()};
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  co_await send(std::move(response));
}

Response Exchange::json_response(http::status status, const nlohmann::json& body) const {
  Response response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = json_text(body);
  return response;
}

Response Exchange::failure_response(const Failure& failure) const {
  const auto reply = errors(failure);
  auto response = json_response(static_cast<http::status>(reply.status), reply.body);
  if (failure.kind == Failure::Kind::queue_full) response.set(http::field::retry_after, std::to_string(failure.retry_after_s));
  if (failure.kind == Failure::Kind::unauthorized) response.set(http::field::www_authenticate, "Bearer");
  return response;
}

Response Exchange::error_response(http::status status, std::string_view code, std::string_view message) const {
  const Failure failure{Failure::Kind::invalid_request, std::string(message), "", std::string(code), 0};
  return json_response(status, native_error(failure).body);
}

boost::asio::awaitable<void> Exchange::send_json(http::status status, const nlohmann::json& body) {
  co_await send(json_response(status, body));
}

boost::asio::awaitable<void> Exchange::send_failure(const Failure& failure) {
  if (responded) {
    keep_alive = false;
    co_return;
  }
  co_await send(failure_response(failure));
}

}  // namespace darkroom::server
