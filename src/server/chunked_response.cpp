#include "chunked_response.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "server_state.hpp"

namespace darkroom::server {

boost::asio::awaitable<bool> ChunkedResponse::start(std::string_view content_type,
                                                    const std::vector<std::pair<std::string, std::string>>& headers) {
  http::response<http::empty_body> response{http::status::ok, exchange_.request.version()};
  exchange_.add_common_headers(response.base());
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  for (const auto& [name, value] : headers) response.set(name, value);
  response.keep_alive(false);
  exchange_.keep_alive = false;
  exchange_.responded = true;
  // HTTP/1.0 has no chunked coding: the body is the bytes themselves, ended by the connection's close.
  chunked_ = exchange_.request.version() >= 11;
  response.chunked(chunked_);
  http::response_serializer<http::empty_body> serializer{response};
  exchange_.stream.expires_after(exchange_.state.options.write_timeout);
  const auto [ec, n] =
      co_await http::async_write_header(exchange_.stream, serializer, boost::asio::as_tuple(boost::asio::use_awaitable));
  exchange_.stream.expires_never();
  ok_ = !ec;
  co_return ok_;
}

template <typename Buffers>
boost::asio::awaitable<bool> ChunkedResponse::send(const Buffers& buffers) {
  // A client that stops reading fills the socket's buffers and stalls the write: past the write timeout
  // the stream closes the connection (and the write fails) instead of holding it forever.
  exchange_.stream.expires_after(exchange_.state.options.write_timeout);
  const auto [ec, n] =
      co_await boost::asio::async_write(exchange_.stream, buffers, boost::asio::as_tuple(boost::asio::use_awaitable));
  exchange_.stream.expires_never();
  ok_ = !ec;
  co_return ok_;
}

boost::asio::awaitable<bool> ChunkedResponse::write(std::string_view data) {
  if (!ok_ || data.empty()) co_return ok_;
  const auto buffer = boost::asio::buffer(data);
  bool sent = false;
  if (chunked_) {
    const auto chunk = http::make_chunk(buffer);
    sent = co_await send(chunk);
  } else {
    sent = co_await send(buffer);
  }
  if (sent) exchange_.state.metrics.sent(data.size());
  co_return sent;
}

boost::asio::awaitable<void> ChunkedResponse::finish() {
  if (!ok_ || !chunked_) co_return;
  const auto last = http::make_chunk_last();
  co_await send(last);
}

boost::asio::awaitable<void> client_gone(Exchange& exchange) {
  char discard[1024];
  for (;;) {
    const auto [ec, n] = co_await exchange.stream.socket().async_read_some(
        boost::asio::buffer(discard), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace darkroom::server
