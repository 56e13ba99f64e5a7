#pragma once
// Which denoising steps get a preview. Steps are 0-based, 0 .. total_steps-1. The schedules, exactly:
//   no throttle (all three zero): every step.
//   every_n_steps N: the steps with (step + 1) % N == 0, and always the last step.
//     20 steps, N 5 -> 4 9 14 19; 20 steps, N 6 -> 5 11 17 19.
//   count N: N evenly spaced steps ending at the last one, step_k = ceil((k + 1) * total / N) - 1 for
//     k = 0 .. N-1 (all steps when N >= total), like OpenAI's partial_images.
//     50 steps, N 4 -> 12 24 37 49; 20 steps, N 3 -> 6 13 19.
//   min_interval_ms T: the first step, then each step that ends at least T ms after the last preview,
//     and always the last step.
// Every rule previews the last step, so a 1-4 step run still gets at least one preview.
#include <vector>

#include "darkroom/preview/options.hpp"

namespace darkroom::preview {

class PreviewThrottle {
 public:
  // Reads the throttle fields of validated options; total_steps >= 1 (std::invalid_argument otherwise).
  PreviewThrottle(const PreviewOptions& options, int total_steps);

  // Call once per step, in order, as the step ends; now_s is any monotonic clock in seconds. True means:
  // preview this step (for min_interval_ms the call also records the preview time). A step outside
  // 0 .. total_steps-1 throws std::out_of_range.
  bool due(int step, double now_s);

 private:
  int total_;
  double min_interval_s_;
  std::vector<bool> scheduled_;  // step-based rules, precomputed; min_interval_ms uses last_preview_s_
  double last_preview_s_ = 0;
  bool previewed_ = false;
};

}  // namespace darkroom::preview
