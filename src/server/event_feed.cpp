#include "event_feed.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace darkroom::server {

EventFeed::EventFeed(std::shared_ptr<engine::Job> job, uint64_t after, boost::asio::any_io_executor executor)
    : job_(std::move(job)),
      wake_(std::make_shared<Wake>(std::move(executor))),
      start_(after),
      cursor_(after),
      oldest_seq_(job_->events()->oldest_seq()),
      truncated_(oldest_seq_ > after + 1) {
  // Runs on the job's thread: flag the append and wake the reader on its own thread (the event loop).
  listening_ = job_->events()->listen([wake = wake_] {
    wake->pending = true;
    boost::asio::post(wake->timer.get_executor(), [wake] { wake->timer.cancel(); });
  });
}

boost::asio::awaitable<std::optional<engine::Event>> EventFeed::next(std::chrono::steady_clock::duration timeout) {
  if (ended_) co_return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto& log = job_->events();
  for (;;) {
    // Clear the flag before looking, so an append after the look sets it again and is not slept through.
    wake_->pending = false;
    if (auto event = log->next_after(cursor_, engine::EventLog::Clock::now())) {
      cursor_ = event->seq;
      ended_ = event->terminal();
      co_return event;
    }
    if (log->closed()) {  // nothing after the cursor in a closed log: the terminal event was read before
      ended_ = true;
      co_return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= deadline) co_return std::nullopt;
    wake_->timer.expires_at(deadline);
    if (wake_->pending) continue;
    const auto [ec] = co_await wake_->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!ec) co_return std::nullopt;  // the deadline: nothing new
    // Cancelled: an append (look again) or the coroutine itself is being cancelled.
    const auto state = co_await boost::asio::this_coro::cancellation_state;
    if (state.cancelled() != boost::asio::cancellation_type::none) co_return std::nullopt;
  }
}

}  // namespace darkroom::server
