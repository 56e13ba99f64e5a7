#include "darkroom/engine/event_log.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

namespace darkroom::engine {

namespace {

// Shared with the Listening handles, which may outlive the log.
struct Listeners {
  std::mutex mutex;  // held while calling them, so unregistering waits for a call in progress
  std::map<uint64_t, std::function<void()>> by_id;
  uint64_t next_id = 0;

  void call() {
    std::lock_guard lock(mutex);
    for (const auto& [id, listener] : by_id) listener();
  }
};

}  // namespace

struct MemoryEventLog::State {
  explicit State(std::size_t cap) : max_events(cap) {}

  const std::size_t max_events;
  const Clock::time_point origin = Clock::now();
  mutable std::mutex mutex;
  std::condition_variable_any appended;
  std::deque<Event> events;  // ascending seq
  uint64_t last_seq = 0;
  uint64_t trimmed_through = 0;  // highest seq dropped by the cap
  bool closed = false;
  const std::shared_ptr<Listeners> listeners = std::make_shared<Listeners>();

  // The first retained event with seq > after. Sequence numbers ascend, so a binary search finds it.
  std::deque<Event>::const_iterator first_after(uint64_t after) const {
    return std::upper_bound(events.begin(), events.end(), after,
                            [](uint64_t seq, const Event& event) { return seq < event.seq; });
  }
};

MemoryEventLog::MemoryEventLog(std::size_t max_events) : state_(std::make_unique<State>(max_events)) {}
MemoryEventLog::~MemoryEventLog() = default;

EventLog::Clock::time_point MemoryEventLog::origin() const { return state_->origin; }

uint64_t MemoryEventLog::append(EventBody body) {
  auto& s = *state_;
  uint64_t seq;
  {
    std::lock_guard lock(s.mutex);
    if (s.closed) throw std::logic_error("event log: append after the terminal event");
    seq = ++s.last_seq;
    Event event{seq, std::chrono::duration<double>(Clock::now() - s.origin).count(), std::move(body)};
    const auto type = event.type();
    if (supersedes(type)) {
      // The previous one of this type is normally among the last few events: search from the back.
      auto old = std::find_if(s.events.rbegin(), s.events.rend(), [&](const Event& e) { return e.type() == type; });
      if (old != s.events.rend()) s.events.erase(std::next(old).base());
    }
    s.closed = event.terminal();
    s.events.push_back(std::move(event));
    if (s.max_events > 0 && s.events.size() > s.max_events) {
      s.trimmed_through = s.events.front().seq;
      s.events.pop_front();
    }
  }
  s.appended.notify_all();
  s.listeners->call();
  return seq;
}

std::optional<Event> MemoryEventLog::next_after(uint64_t after, Clock::time_point deadline, std::stop_token stop) {
  auto& s = *state_;
  std::unique_lock lock(s.mutex);
  const auto ready = [&] { return s.closed || s.first_after(after) != s.events.end(); };
  if (deadline == Clock::time_point::max())
    s.appended.wait(lock, stop, ready);
  else
    s.appended.wait_until(lock, stop, deadline, ready);
  if (stop.stop_requested()) return std::nullopt;
  auto it = s.first_after(after);
  if (it == s.events.end()) return std::nullopt;
  return *it;
}

std::vector<Event> MemoryEventLog::events_after(uint64_t after) const {
  std::lock_guard lock(state_->mutex);
  return {state_->first_after(after), state_->events.cend()};
}

std::optional<Event> MemoryEventLog::latest(EventType type) const {
  std::lock_guard lock(state_->mutex);
  const auto& events = state_->events;
  auto it = std::find_if(events.rbegin(), events.rend(), [&](const Event& e) { return e.type() == type; });
  if (it == events.rend()) return std::nullopt;
  return *it;
}

uint64_t MemoryEventLog::last_seq() const {
  std::lock_guard lock(state_->mutex);
  return state_->last_seq;
}

uint64_t MemoryEventLog::oldest_seq() const {
  std::lock_guard lock(state_->mutex);
  return state_->trimmed_through + 1;
}

bool MemoryEventLog::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

LogStats MemoryEventLog::stats() const {
  std::lock_guard lock(state_->mutex);
  LogStats stats;
  stats.events = state_->events.size();
  stats.appended = state_->last_seq;
  for (const auto& event : state_->events) {
    stats.previews += event.type() == EventType::preview;
    stats.bytes += approx_bytes(event);
  }
  return stats;
}

Listening MemoryEventLog::listen(std::function<void()> on_append) {
  const auto& listeners = state_->listeners;
  std::lock_guard lock(listeners->mutex);
  const auto id = listeners->next_id++;
  listeners->by_id.emplace(id, std::move(on_append));
  return Listening([weak = std::weak_ptr<Listeners>(listeners), id] {
    if (const auto set = weak.lock()) {
      std::lock_guard unregister(set->mutex);
      set->by_id.erase(id);
    }
  });
}

}  // namespace darkroom::engine
