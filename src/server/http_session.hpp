#pragma once
// One TCP connection: HTTP/1.1 requests in turn (keep-alive), each routed to its handler; an upgrade
// to WebSocket on /v1/ws hands the connection to a WebSocket session.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "router.hpp"

namespace darkroom::server {

boost::asio::awaitable<void> serve_connection(ServerState& state, const Router& router,
                                              boost::asio::ip::tcp::socket socket);

}  // namespace darkroom::server
