#include "darkroom/preview/throttle.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace darkroom::preview {

PreviewThrottle::PreviewThrottle(const PreviewOptions& options, int total_steps)
    : total_(total_steps), min_interval_s_(options.min_interval_ms / 1000.0) {
  if (total_steps < 1) throw std::invalid_argument("preview throttle: total_steps must be >= 1, not " + std::to_string(total_steps));
  const bool step_based = options.min_interval_ms == 0;
  scheduled_.assign(total_steps, step_based && options.every_n_steps == 0 &&
                                     (options.count == 0 || options.count >= total_steps));
  if (options.every_n_steps > 0)
    for (int step = options.every_n_steps - 1; step < total_steps; step += options.every_n_steps) scheduled_[step] = true;
  if (options.count > 0 && options.count < total_steps)
    for (int64_t k = 0; k < options.count; ++k) {
      const int64_t t = total_steps;
      scheduled_[(k + 1) * t / options.count + ((k + 1) * t % options.count != 0) - 1] = true;  // ceil - 1
    }
  scheduled_.back() = true;
}

bool PreviewThrottle::due(int step, double now_s) {
  if (step < 0 || step >= total_)
    throw std::out_of_range("preview throttle: step " + std::to_string(step) + " outside 0.." + std::to_string(total_ - 1));
  bool due = scheduled_[step];
  if (min_interval_s_ > 0) due = due || !previewed_ || now_s - last_preview_s_ >= min_interval_s_;
  if (due) {
    previewed_ = true;
    last_preview_s_ = now_s;
  }
  return due;
}

}  // namespace darkroom::preview
