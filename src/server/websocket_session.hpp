#pragma once
// GET /v1/ws upgraded: JSON text frames to submit, subscribe (from a sequence number), unsubscribe and
// cancel; every subscribed job's events as JSON text frames; previews as binary frames in ComfyUI's
// framing (type 4 with JSON metadata for clients that sent feature_flags.supports_preview_metadata,
// type 1 otherwise). docs/server.md has the message reference.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "exchange.hpp"

namespace darkroom::server {

boost::asio::awaitable<void> run_websocket(ServerState& state, boost::beast::tcp_stream stream, Request request);

}  // namespace darkroom::server
