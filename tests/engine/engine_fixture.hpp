#pragma once
// Engines over the golden tiny SD1 model (64x64, about 10 ms a step) whose jobs keep a full record of
// what they emitted, superseded events included, so tests can check exactly what a job produced.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <vector>

#include "darkroom/engine/engine.hpp"

namespace darkroom::engine {
// Readable gtest messages.
inline void PrintTo(EventType type, std::ostream* out) { *out << event_name(type); }
}  // namespace darkroom::engine

namespace darkroom::engine::testing {

// A MemoryEventLog that also remembers every appended event.
class RecordingLog final : public EventLog {
 public:
  uint64_t append(EventBody body) override;
  std::optional<Event> next_after(uint64_t after, Clock::time_point deadline, std::stop_token stop) override {
    return log_.next_after(after, deadline, std::move(stop));
  }
  std::vector<Event> events_after(uint64_t after) const override { return log_.events_after(after); }
  std::optional<Event> latest(EventType type) const override { return log_.latest(type); }
  uint64_t last_seq() const override { return log_.last_seq(); }
  uint64_t oldest_seq() const override { return log_.oldest_seq(); }
  bool closed() const override { return log_.closed(); }
  LogStats stats() const override { return log_.stats(); }
  Listening listen(std::function<void()> on_append) override { return log_.listen(std::move(on_append)); }
  Clock::time_point origin() const override { return log_.origin(); }

  std::vector<Event> all() const;

 private:
  MemoryEventLog log_;
  mutable std::mutex mutex_;
  std::vector<Event> all_;
};

// Every event the job emitted, in order (the job must come from an engine made by tiny_options()).
std::vector<Event> all_events(const Job& job);
std::vector<EventType> types(const std::vector<Event>& events);
template <typename T>
std::vector<T> bodies(const std::vector<Event>& events) {
  std::vector<T> out;
  for (const auto& e : events)
    if (auto body = e.as<T>()) out.push_back(*body);
  return out;
}
int terminal_count(const std::vector<Event>& events);

// Model "tiny" is the golden tiny SD1 checkpoint (loaded once per process); any other name fails to load.
// Recording logs; one intra-op thread (the tiny model gains nothing from more, and ThreadSanitizer
// cannot see OpenMP's synchronisation).
EngineOptions tiny_options();
// A 64x64 request for model "tiny", seed 42.
JobRequest tiny_request(int steps, sampling::SamplerKind sampler = sampling::SamplerKind::euler);

// Submits, waits for the end, returns the job.
std::shared_ptr<Job> run(Engine& engine, JobRequest request);

}  // namespace darkroom::engine::testing
