#pragma once
// Reading a job's events. A Subscription is a pull cursor over an EventLog; a PushSubscription runs a
// callback for each event on its own dispatcher thread. Any number of either can watch one job, each at its
// own pace, and each may start after any sequence number (replay: a late subscriber, or a client resuming
// with Last-Event-ID). Both end after delivering the terminal event.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stop_token>

#include "darkroom/engine/event_log.hpp"

namespace darkroom::engine {

// One reader's cursor. next() is for one consuming thread; stop() may be called from any thread.
class Subscription {
 public:
  explicit Subscription(std::shared_ptr<EventLog> log, uint64_t after_seq = 0);
  Subscription(Subscription&&) = default;
  Subscription& operator=(Subscription&&) = default;
  Subscription(const Subscription&) = delete;  // two readers sharing one stop state would surprise
  Subscription& operator=(const Subscription&) = delete;

  // The next event after the cursor, waiting up to `timeout` (milliseconds::max(): no limit). nullopt on
  // timeout, after stop(), and once the terminal event has been read (immediately, from then on).
  std::optional<Event> next(std::chrono::milliseconds timeout);
  std::optional<Event> try_next() { return next(std::chrono::milliseconds(0)); }

  bool ended() const { return ended_; }  // the terminal event has been read
  uint64_t cursor() const { return cursor_; }
  // Wakes a blocked next(), which returns nullopt, as do all later calls.
  void stop() { stop_.request_stop(); }
  bool stopped() const { return stop_.stop_requested(); }
  const std::shared_ptr<EventLog>& log() const { return log_; }

  // Blocking iteration: `for (const Event& e : subscription)` yields events until the terminal one
  // (inclusive) or stop().
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Event;
    using difference_type = std::ptrdiff_t;
    using pointer = const Event*;
    using reference = const Event&;
    Iterator() = default;
    explicit Iterator(Subscription* sub) : sub_(sub) { advance(); }
    const Event& operator*() const { return *current_; }
    const Event* operator->() const { return &*current_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(std::default_sentinel_t) const { return !current_; }

   private:
    void advance();
    Subscription* sub_ = nullptr;
    std::optional<Event> current_;
  };
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  std::shared_ptr<EventLog> log_;
  uint64_t cursor_;
  bool ended_ = false;
  std::stop_source stop_;
};

using EventCallback = std::function<void(const Event&)>;

// Calls `callback` for every event after `after_seq`, in order, on a thread of its own (never the job's
// generating thread), so a slow callback delays only this subscription; while it is busy the log
// supersedes stale previews for it. Destroying the handle cancels and joins; from inside the callback
// it only cancels. cancel() and job cancellation are safe from inside the callback.
class [[nodiscard]] PushSubscription {
 public:
  PushSubscription(std::shared_ptr<EventLog> log, EventCallback callback, uint64_t after_seq = 0);
  PushSubscription(PushSubscription&&) noexcept;
  PushSubscription& operator=(PushSubscription&&) noexcept;
  ~PushSubscription();

  // No callback starts after this returns (one in progress finishes). Any thread, any number of times.
  void cancel();
  // Blocks until the terminal event has been delivered or the subscription was cancelled; rethrows an
  // exception the callback threw (which ended the subscription). Returns at once inside the callback.
  void wait();
  bool finished() const;  // the dispatcher thread has exited

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace darkroom::engine
