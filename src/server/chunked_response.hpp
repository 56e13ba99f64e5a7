#pragma once
// A 200 response written piece by piece (HTTP/1.1 chunked transfer coding; to an HTTP/1.0 client, the
// bytes alone, ended by the close): the body of every stream. The connection closes after it, so a
// client's reconnect always starts clean. Every write has the server's write timeout.
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange.hpp"

namespace darkroom::server {

class ChunkedResponse {
 public:
  explicit ChunkedResponse(Exchange& exchange) : exchange_(exchange) {}

  // The status line and headers. Every write returns false once the client is gone (and then does nothing).
  boost::asio::awaitable<bool> start(std::string_view content_type,
                                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  boost::asio::awaitable<bool> write(std::string_view data);
  boost::asio::awaitable<void> finish();  // the last chunk
  bool ok() const { return ok_; }

 private:
  template <typename Buffers>
  boost::asio::awaitable<bool> send(const Buffers& buffers);

  Exchange& exchange_;
  bool ok_ = true;
  bool chunked_ = true;
};

// Completes when the client closes its side of the connection (or the connection fails). Bytes it sends
// meanwhile are discarded: a streaming connection serves no further requests. Run it against a stream
// with `||` (asio's awaitable operators) to stop streaming to a client that left.
boost::asio::awaitable<void> client_gone(Exchange& exchange);

}  // namespace darkroom::server
