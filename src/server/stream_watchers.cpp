#include "stream_watchers.hpp"

#include <boost/asio/steady_timer.hpp>

namespace darkroom::server {

StreamWatchers::StreamWatchers(boost::asio::any_io_executor executor, std::chrono::milliseconds grace)
    : executor_(std::move(executor)), grace_(grace) {}

StreamWatchers::Watch::Watch(StreamWatchers* owner, std::shared_ptr<engine::Job> job)
    : owner_(owner), job_(std::move(job)) {}

StreamWatchers::Watch::Watch(Watch&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), job_(std::move(other.job_)) {}

StreamWatchers::Watch& StreamWatchers::Watch::operator=(Watch&& other) noexcept {
  release();
  owner_ = std::exchange(other.owner_, nullptr);
  job_ = std::move(other.job_);
  return *this;
}

StreamWatchers::Watch::~Watch() { release(); }

void StreamWatchers::Watch::release() {
  if (!owner_) return;
  std::exchange(owner_, nullptr)->unwatched(job_->id());
  job_.reset();
}

void StreamWatchers::adopt(const std::shared_ptr<engine::Job>& job, bool cancel_on_disconnect) {
  forget_finished();
  auto& adopted = adopted_[job->id()];
  adopted.job = job;
  adopted.cancel_on_disconnect = cancel_on_disconnect;
  adopted.watchers = std::exchange(others_[job->id()], 0);
  others_.erase(job->id());
}

StreamWatchers::Watch StreamWatchers::watch(const std::shared_ptr<engine::Job>& job) {
  if (auto it = adopted_.find(job->id()); it != adopted_.end()) {
    ++it->second.watchers;
    ++it->second.generation;
  } else {
    ++others_[job->id()];
  }
  return Watch(this, job);
}

int StreamWatchers::watchers(const std::string& job_id) const {
  if (auto it = adopted_.find(job_id); it != adopted_.end()) return it->second.watchers;
  auto it = others_.find(job_id);
  return it == others_.end() ? 0 : it->second;
}

void StreamWatchers::unwatched(const std::string& job_id) {
  if (auto other = others_.find(job_id); other != others_.end()) {
    if (--other->second == 0) others_.erase(other);
    return;
  }
  auto it = adopted_.find(job_id);
  if (it == adopted_.end()) return;
  auto& adopted = it->second;
  const auto job = adopted.job.lock();
  if (--adopted.watchers > 0) return;
  if (!job || job->finished()) {
    adopted_.erase(it);
    return;
  }
  if (adopted.cancel_on_disconnect) {
    job->cancel();
    return;
  }
  const auto generation = ++adopted.generation;
  auto timer = std::make_shared<boost::asio::steady_timer>(executor_, grace_);
  timer->async_wait([this, timer, job_id, generation](boost::system::error_code ec) {
    if (ec) return;
    auto it = adopted_.find(job_id);
    if (it == adopted_.end() || it->second.generation != generation || it->second.watchers > 0) return;
    if (const auto job = it->second.job.lock()) job->cancel();  // nobody came back: stop spending on it
    adopted_.erase(it);
  });
}

void StreamWatchers::forget_finished() {
  std::erase_if(adopted_, [](const auto& entry) {
    const auto job = entry.second.job.lock();
    return entry.second.watchers == 0 && (!job || job->finished());
  });
}

}  // namespace darkroom::server
