#include "answer.hpp"

#include "darkroom/server/request_error.hpp"
#include "server_state.hpp"

namespace darkroom::server {

using Kind = Failure::Kind;

Failure failure_of(ServerState& state, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const FailureError& e) {
    return e.failure();
  } catch (const RequestError& e) {
    return {Kind::invalid_request, e.what(), e.field(), "", 0};
  } catch (const engine::QueueFull& e) {
    state.metrics.rejected_queue_full();
    return {Kind::queue_full, "the queue is full (" + std::to_string(e.limit()) + " jobs waiting); retry later", "", "",
            state.options.retry_after_s};
  } catch (const engine::EngineStopped&) {
    return {Kind::stopping, "the server is shutting down", "", "", 0};
  } catch (const std::exception& e) {
    return {Kind::internal, e.what(), "", "", 0};
  } catch (...) {
    return {Kind::internal, "unknown error", "", "", 0};
  }
}

boost::asio::awaitable<void> answer(Exchange& exchange, const Handler& handler) {
  std::optional<Failure> failure;
  try {
    co_await handler(exchange);
  } catch (...) {
    failure = failure_of(exchange.state, std::current_exception());
  }
  if (failure) co_await exchange.send_failure(*failure);
}

}  // namespace darkroom::server
