#pragma once
// The per-job event log: one writer (the job) appends, any number of readers each keep their own cursor
// (a sequence number) and read the events after it. This interface is the seam for a distributed engine
// (a Redis stream per job, whose ids double as cursors); MemoryEventLog is the in-process implementation.
//
// Retention: every event is kept except superseded ones (see supersedes(): an appended preview removes the
// previous preview, an appended queue position the previous one). So a reader that falls behind gets the
// newest preview, never a queue of stale ones, and still every progress event and the terminal event; the
// log holds O(steps) small events plus one preview, however slowly anyone reads. A log may also be capped
// (MemoryEventLog's max_events): then the oldest events go and oldest_seq() says where replay starts.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include "darkroom/engine/event.hpp"

namespace darkroom::engine {

struct LogStats {
  std::size_t events = 0;    // retained
  std::size_t previews = 0;  // retained (0 or 1)
  std::size_t bytes = 0;     // approx_bytes over the retained events
  uint64_t appended = 0;     // every event ever appended (= last_seq)
};

// A registration of an append listener (EventLog::listen); destroying or resetting it unregisters.
class [[nodiscard]] Listening {
 public:
  Listening() = default;
  explicit Listening(std::function<void()> unregister) : unregister_(std::move(unregister)) {}
  Listening(Listening&& other) noexcept : unregister_(std::exchange(other.unregister_, {})) {}
  Listening& operator=(Listening&& other) noexcept {
    reset();
    unregister_ = std::exchange(other.unregister_, {});
    return *this;
  }
  ~Listening() { reset(); }
  void reset() {
    if (unregister_) std::exchange(unregister_, {})();
  }

 private:
  std::function<void()> unregister_;
};

class EventLog {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~EventLog() = default;

  // Appends an event with the next sequence number (1, 2, ...) and returns that number. A terminal event
  // closes the log; appending after that throws std::logic_error.
  virtual uint64_t append(EventBody body) = 0;

  // The first retained event with seq > after. Waits for one until `deadline`; nullopt when none came, when
  // `stop` was requested, or when the log is closed and holds nothing after `after`.
  virtual std::optional<Event> next_after(uint64_t after, Clock::time_point deadline, std::stop_token stop = {}) = 0;

  // Every retained event with seq > after, in order (a replay snapshot; does not wait).
  virtual std::vector<Event> events_after(uint64_t after) const = 0;
  // The newest retained event of a type (the current preview, the last progress, ...).
  virtual std::optional<Event> latest(EventType type) const = 0;

  virtual uint64_t last_seq() const = 0;
  // A reader resuming after cursor c misses nothing but superseded events iff c + 1 >= oldest_seq().
  virtual uint64_t oldest_seq() const = 0;
  // True once the terminal event has been appended.
  virtual bool closed() const = 0;
  virtual LogStats stats() const = 0;

  // Calls on_append after every later append, on the appending thread, once the event is readable: the
  // wake-up for readers that do not block a thread per reader (an event loop serving many streams). It
  // must be quick and must not register or unregister listeners. Once the handle is reset no call is in
  // progress or will start.
  virtual Listening listen(std::function<void()> on_append) = 0;

  // When the log was made: each Event::time_s counts from here. A job's log is made when the job is
  // submitted, so this is the job's submission time, on the one clock that compares events across jobs.
  virtual Clock::time_point origin() const = 0;
};

class MemoryEventLog final : public EventLog {
 public:
  // max_events: retain at most this many events (0: no cap; superseding alone bounds a job's log by its
  // step count). The clock for Event::time_s starts here.
  explicit MemoryEventLog(std::size_t max_events = 0);
  ~MemoryEventLog() override;

  uint64_t append(EventBody body) override;
  std::optional<Event> next_after(uint64_t after, Clock::time_point deadline, std::stop_token stop = {}) override;
  std::vector<Event> events_after(uint64_t after) const override;
  std::optional<Event> latest(EventType type) const override;
  uint64_t last_seq() const override;
  uint64_t oldest_seq() const override;
  bool closed() const override;
  LogStats stats() const override;
  Listening listen(std::function<void()> on_append) override;
  Clock::time_point origin() const override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace darkroom::engine
