#pragma once
// The server's one error path: whatever a handler throws becomes a Failure, answered in the dialect of
// the route it reached (Exchange::errors).
#include <boost/asio/awaitable.hpp>

#include <exception>
#include <stdexcept>

#include "router.hpp"

namespace darkroom::server {

// A failure a handler throws as it is (a kind the other exceptions do not say, such as not_found).
class FailureError : public std::runtime_error {
 public:
  explicit FailureError(Failure failure) : std::runtime_error(failure.message), failure_(std::move(failure)) {}
  const Failure& failure() const { return failure_; }

 private:
  Failure failure_;
};

// FailureError: its failure; RequestError: invalid_request (its field); engine::QueueFull: queue_full (counted in the metrics, with
// the server's Retry-After); engine::EngineStopped: stopping; anything else: internal.
Failure failure_of(ServerState& state, std::exception_ptr error);

// Runs the handler; a failure it throws is answered with Exchange::send_failure.
boost::asio::awaitable<void> answer(Exchange& exchange, const Handler& handler);

}  // namespace darkroom::server
