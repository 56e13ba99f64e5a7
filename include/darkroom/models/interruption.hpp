#pragma once
// Cooperative stop points inside a forward pass. One pass can take minutes (a UNet step on a large batch,
// a VAE decode at full size), far longer than a user waits for Cancel. A caller that must be able to stop
// sooner installs a check for its own thread; the models call interruption_point() between layers, blocks
// and attention chunks, where the check may throw to abandon the pass. The exception propagates out of
// the forward call unchanged. Without a scope on the thread, a point costs one thread-local read.
#include <functional>

namespace darkroom::models {

class InterruptionScope {
 public:
  // `check` runs at every interruption point on this thread while the scope lives; it throws to stop.
  // Scopes nest: the innermost one is checked, and the enclosing one is restored when it ends.
  explicit InterruptionScope(std::function<void()> check);
  ~InterruptionScope();
  InterruptionScope(const InterruptionScope&) = delete;
  InterruptionScope& operator=(const InterruptionScope&) = delete;

 private:
  std::function<void()> check_;
  const InterruptionScope* enclosing_;
  friend void interruption_point();
};

void interruption_point();

}  // namespace darkroom::models
