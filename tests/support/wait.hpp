#pragma once
// Waiting for a condition with a deadline, for tests that must not act before something has happened
// (a job runs, a stream is connected): they poll for it instead of sleeping a guessed time, so a slow
// (loaded, sanitizer) host waits longer and a fast one not at all.
#include <chrono>
#include <functional>
#include <thread>

namespace darkroom::testing {

// Calls `condition` every `interval` until it returns true or `timeout` has passed; returns whether it held.
// It is called at least once, and once more after the deadline has passed, so a condition that comes true
// during the last interval still counts. Callers assert on the result with a message naming what they
// waited for:   ASSERT_TRUE(wait_until([&] { return ...; })) << "the job never started";
// Inside a namespace with a `testing` of its own (darkroom::server::testing), name it
// darkroom::testing::wait_until.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace darkroom::testing
