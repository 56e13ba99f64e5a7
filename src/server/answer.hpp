#pragma once
// The server's one error path: whatever a handler throws becomes a Failure, answered in the dialect of
// the route it reached (Exchange::errors).
#include <boost/asio/awaitable.hpp>

#include <exception>

#include "router.hpp"

namespace darkroom::server {

// RequestError: invalid_request (its field); engine::QueueFull: queue_full (counted in the metrics, with
// the server's Retry-After); engine::EngineStopped: stopping; anything else: internal.
Failure failure_of(ServerState& state, std::exception_ptr error);

// Runs the handler; a failure it throws is answered with Exchange::send_failure.
boost::asio::awaitable<void> answer(Exchange& exchange, const Handler& handler);

}  // namespace darkroom::server
