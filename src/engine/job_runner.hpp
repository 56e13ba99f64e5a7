#pragma once
// One job's run on an engine worker: model, validation, generation with progress and previews, and the
// terminal event.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "darkroom/preview/throttle.hpp"
#include "engine_core.hpp"
#include "preview_worker.hpp"

namespace darkroom::engine {

class JobRunner {
 public:
  JobRunner(Job& job, detail::EngineCore& core) : job_(job), core_(core) {}
  // Emits exactly one terminal event; never throws.
  void run();

 private:
  using Clock = std::chrono::steady_clock;
  void generate();
  void check_cancelled() const;  // throws at a cancellation request
  void on_phase(pipeline::Phase phase);
  void on_step(const sampling::StepInfo& info);
  void start_previews();  // previews_ (and worker_) when the request asks and the model can
  // The request's encoded start image, no larger than the requested size (throws Failure otherwise).
  image::Image decode_init_image(const EncodedImage& encoded) const;
  double seconds(Clock::time_point since) const;

  Job& job_;
  detail::EngineCore& core_;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point denoise_start_;
  Clock::time_point last_step_;
  std::map<std::string, double> timings_;
  std::shared_ptr<LoadedModel> model_;
  pipeline::GenerationRequest generation_;  // the request's, with the model's native size filled in
  std::unique_ptr<PreviewMaker> previews_;
  std::unique_ptr<PreviewWorker> worker_;             // null when previews are decoded inline
  std::optional<preview::PreviewThrottle> throttle_;  // made at the first step, which knows the step count
};

}  // namespace darkroom::engine
