#pragma once
// One generation job: what was asked, its state, and its event log. Jobs are shared (std::shared_ptr):
// the engine keeps one while it is queued, running, and for its TTL after it ends; every watcher may keep
// one as long as it likes.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "darkroom/engine/subscription.hpp"
#include "darkroom/image/probe.hpp"
#include "darkroom/pipeline/request.hpp"
#include "darkroom/preview/options.hpp"

namespace darkroom::engine {

// An image as a client sent it (PNG, JPEG or WebP), with what its header says.
struct EncodedImage {
  image::ImageInfo info;
  std::vector<uint8_t> bytes;
};

struct JobRequest {
  std::string model;  // what EngineOptions' loader takes: a path by default, an id in a server
  pipeline::GenerationRequest generation;
  preview::PreviewOptions preview;
  // img2img from a client: the start image still encoded. The worker that runs the job decodes it into
  // generation.init_image (refusing any size but the request's), so decoding never holds up the thread
  // that accepted the request; its header was checked against the request before the job was queued.
  std::optional<EncodedImage> init_image;
  // The most the job may take, counted from its submission; 0: no limit of its own (the engine's
  // job_timeout, if any, still applies, and caps this one). A job past it, queued or running, ends within
  // one step with error{code "timeout"}.
  std::chrono::milliseconds timeout{0};
};

enum class JobState { queued, running, completed, failed, cancelled };
std::string_view state_name(JobState state);  // "queued" "running" "completed" "failed" "cancelled"

namespace detail {
struct EngineCore;
}
class JobRunner;

class Job {
 public:
  using Clock = std::chrono::steady_clock;

  const std::string& id() const { return id_; }
  const JobRequest& request() const { return request_; }
  Clock::time_point submitted_at() const { return log_->origin(); }  // Event::time_s counts from here
  JobState state() const;
  bool finished() const;                             // completed, failed or cancelled: the terminal event is in the log
  int position() const { return position_.load(); }  // 1 = next in line; 0 when not queued
  // When the job times out (request().timeout after submission, capped by the engine's job_timeout).
  std::optional<Clock::time_point> deadline() const { return deadline_; }

  // Cancels the job: a queued job ends at once, a running one at its next interruption point (between the
  // blocks of a model pass, models/interruption.hpp), both with a `cancelled` event; a finished job is
  // left as it is. Any thread, inside a callback, any number of times.
  void cancel();

  // Events after after_seq (0: from the first). Any number of subscribers, each at its own pace.
  Subscription subscribe(uint64_t after_seq = 0) const { return Subscription(log_, after_seq); }
  PushSubscription on_event(EventCallback callback, uint64_t after_seq = 0) const {
    return PushSubscription(log_, std::move(callback), after_seq);
  }
  const std::shared_ptr<EventLog>& events() const { return log_; }

  // Until the job has finished (its terminal event is in the log).
  void wait() const;
  bool wait_for(std::chrono::milliseconds timeout) const;

  // Internal: made by the engine only (the key type is private to it).
  struct Key;
  Job(const Key&, std::string id, JobRequest request, std::shared_ptr<EventLog> log);

 private:
  friend struct detail::EngineCore;
  friend class JobRunner;
  enum class CancelReason { none, requested, shutdown, timeout };

  // Appends an event unless the job has already ended: so a job has exactly one terminal event however
  // its cancellation, failure and preview decoding race. A terminal body also sets the final state.
  bool emit(EventBody body);
  void set_running();
  void request_cancel(CancelReason reason);
  CancelReason cancel_reason() const { return cancel_.load(); }
  bool past_deadline(Clock::time_point now) const { return deadline_ && now >= *deadline_; }
  // The terminal event of a job that timed out.
  Error timed_out() const;

  const std::string id_;
  const JobRequest request_;
  const std::shared_ptr<EventLog> log_;
  std::optional<Clock::time_point> deadline_;  // set by the engine at submission
  std::atomic<int> position_{0};
  std::atomic<CancelReason> cancel_{CancelReason::none};
  std::weak_ptr<detail::EngineCore> engine_;  // to take a queued job off the queue

  mutable std::mutex mutex_;
  mutable std::condition_variable ended_;
  JobState state_ = JobState::queued;
};

}  // namespace darkroom::engine
