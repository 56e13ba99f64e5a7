#include "darkroom/engine/job.hpp"

#include "engine_core.hpp"

#include <sstream>

namespace darkroom::engine {

std::string_view state_name(JobState state) {
  switch (state) {
    case JobState::queued:
      return "queued";
    case JobState::running:
      return "running";
    case JobState::completed:
      return "completed";
    case JobState::failed:
      return "failed";
    case JobState::cancelled:
      return "cancelled";
  }
  return "?";
}

Job::Job(const Key&, std::string id, JobRequest request, std::shared_ptr<EventLog> log)
    : id_(std::move(id)), request_(std::move(request)), log_(std::move(log)) {}

JobState Job::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

bool Job::finished() const {
  const auto s = state();
  return s != JobState::queued && s != JobState::running;
}

void Job::cancel() {
  request_cancel(CancelReason::requested);
  // A queued job ends here; a running one sees the request at its next step.
  if (auto core = engine_.lock()) core->dequeue(*this);
}

Error Job::timed_out() const {
  const double seconds = std::chrono::duration<double>(*deadline_ - submitted_at()).count();
  std::ostringstream limit;
  limit << seconds;
  return Error{"timeout", "the job ran past its time limit of " + limit.str() + " s (counted from its submission)"};
}

void Job::request_cancel(CancelReason reason) {
  auto none = CancelReason::none;
  cancel_.compare_exchange_strong(none, reason);
}

bool Job::emit(EventBody body) {
  bool terminal = true;
  {
    std::lock_guard lock(mutex_);
    if (state_ != JobState::queued && state_ != JobState::running) return false;
    switch (type_of(body)) {
      case EventType::completed:
        state_ = JobState::completed;
        break;
      case EventType::error:
        state_ = JobState::failed;
        break;
      case EventType::cancelled:
        state_ = JobState::cancelled;
        break;
      default:
        terminal = false;
        break;
    }
    log_->append(std::move(body));
  }
  if (terminal) ended_.notify_all();
  return true;
}

void Job::set_running() {
  std::lock_guard lock(mutex_);
  state_ = JobState::running;
}

void Job::wait() const {
  std::unique_lock lock(mutex_);
  ended_.wait(lock, [&] { return state_ != JobState::queued && state_ != JobState::running; });
}

bool Job::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return ended_.wait_for(lock, timeout, [&] { return state_ != JobState::queued && state_ != JobState::running; });
}

}  // namespace darkroom::engine
