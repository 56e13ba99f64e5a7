#pragma once
// A job's events for a coroutine on the event loop: the async counterpart of engine::Subscription. No
// thread waits per reader; the job's log wakes the reader through EventLog::listen. A reader that is slow
// (its client reads slowly) simply asks later, and the log has superseded the previews it missed: it gets
// the newest preview and every other event, and memory does not grow.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "darkroom/engine/job.hpp"

namespace darkroom::server {

class EventFeed {
 public:
  // Events after `after` (0: from the first).
  EventFeed(std::shared_ptr<engine::Job> job, uint64_t after, boost::asio::any_io_executor executor);
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // The log no longer holds every event after the starting cursor (a resume from too far back): the
  // stream should say so in-band; it continues from oldest_seq().
  bool truncated() const { return truncated_; }
  uint64_t oldest_seq() const { return oldest_seq_; }
  uint64_t start() const { return start_; }

  // The next event, waiting at most `timeout`; nullopt when that passes (time for a heartbeat) and, at
  // once, after the terminal event has been returned.
  boost::asio::awaitable<std::optional<engine::Event>> next(std::chrono::steady_clock::duration timeout);
  bool ended() const { return ended_; }
  const std::shared_ptr<engine::Job>& job() const { return job_; }

 private:
  struct Wake {
    explicit Wake(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
    boost::asio::steady_timer timer;
    std::atomic<bool> pending{false};  // an append since the reader last looked
  };

  std::shared_ptr<engine::Job> job_;
  std::shared_ptr<Wake> wake_;
  engine::Listening listening_;
  const uint64_t start_;
  uint64_t cursor_;
  uint64_t oldest_seq_;
  bool truncated_;
  bool ended_ = false;
};

}  // namespace darkroom::server
