#include "job_result.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>

#include "chunked_response.hpp"
#include "event_feed.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

boost::asio::awaitable<std::optional<engine::Event>> terminal_event(EventFeed& feed) {
  while (!feed.ended()) {
    // The feed wakes on every event; the wait only bounds how long a cancelled wait goes unnoticed.
    auto event = co_await feed.next(std::chrono::minutes(1));
    if (event && event->terminal()) co_return event;
    if ((co_await boost::asio::this_coro::cancellation_state).cancelled() != boost::asio::cancellation_type::none)
      break;
  }
  co_return std::nullopt;
}

}  // namespace

boost::asio::awaitable<std::optional<engine::Event>> await_result(Exchange& exchange,
                                                                  const std::shared_ptr<engine::Job>& job) {
  EventFeed feed(job, 0, exchange.state.executor);
  exchange.keep_alive = false;
  auto outcome = co_await (terminal_event(feed) || client_gone(exchange));
  if (outcome.index() == 0 && std::get<0>(outcome)) co_return std::get<0>(std::move(outcome));
  job->cancel();
  co_return std::nullopt;
}

boost::asio::awaitable<std::optional<engine::Event>> await_images(Exchange& exchange,
                                                                  const std::shared_ptr<engine::Job>& job) {
  auto result = co_await await_result(exchange, job);
  if (!result) co_return std::nullopt;  // the client left
  if (const auto failure = job_failure(*result)) {
    co_await exchange.send_failure(*failure);
    co_return std::nullopt;
  }
  co_return result;
}

}  // namespace darkroom::server
