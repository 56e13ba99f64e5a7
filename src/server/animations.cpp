#include "animations.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>

#include "darkroom/image/development.hpp"
#include "darkroom/preview/preview_image.hpp"

namespace darkroom::server {

namespace asio = boost::asio;

// The frames are taken on the job's generating thread, in the log's append listener: only a pointer copy
// there (the preview's pixels are shared with every stream), so recording costs the job nothing.
struct Animations::Recording {
  explicit Recording(const std::shared_ptr<engine::Job>& job) : job(job) {}

  std::weak_ptr<engine::Job> job;
  std::mutex mutex;
  std::vector<std::shared_ptr<const preview::PreviewImage>> frames;  // guarded by mutex
  uint64_t last_seq = 0;  // of the newest preview seen; guarded by mutex
  uint64_t seen = 0;      // previews seen; every stride-th one is kept; guarded by mutex
  uint64_t stride = 1;
  std::shared_ptr<const std::vector<uint8_t>> webp;  // once built; the event loop's
  engine::Listening listening;                       // last: unregistered before the rest goes

  // Past kMaxFrames, every other frame goes and from then on every other preview is skipped, so the kept
  // frames stay evenly spread over the whole development.
  void take(const engine::Event& event) {
    std::lock_guard lock(mutex);
    if (event.seq <= last_seq) return;
    last_seq = event.seq;
    if (seen++ % stride != 0) return;
    frames.push_back(event.as<engine::Preview>()->image);
    if (frames.size() <= kMaxFrames) return;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < frames.size(); i += 2) frames[kept++] = frames[i];
    frames.resize(kept);
    stride *= 2;
  }
};

Animations::Animations() = default;

Animations::~Animations() { builder_.join(); }

void Animations::record(const std::shared_ptr<engine::Job>& job) {
  std::erase_if(recordings_, [](const auto& entry) { return entry.second->job.expired(); });
  auto recording = std::make_shared<Recording>(job);
  const auto log = job->events();
  auto* target = recording.get();
  const auto take_latest = [target, weak_log = std::weak_ptr<engine::EventLog>(log)] {
    const auto log = weak_log.lock();
    if (!log) return;
    if (const auto preview = log->latest(engine::EventType::preview)) target->take(*preview);
  };
  recording->listening = log->listen(take_latest);
  take_latest();
  recordings_[job->id()] = std::move(recording);
}

bool Animations::recorded(const std::string& job_id) const { return recordings_.contains(job_id); }

asio::awaitable<std::shared_ptr<const std::vector<uint8_t>>> Animations::webp(std::shared_ptr<engine::Job> job) {
  const auto found = recordings_.find(job->id());
  if (found == recordings_.end()) co_return nullptr;
  const auto recording = found->second;
  if (recording->webp) co_return recording->webp;
  const auto completed = job->events()->latest(engine::EventType::completed);
  if (!completed) co_return nullptr;
  std::vector<image::Image> previews;
  {
    std::lock_guard lock(recording->mutex);
    for (const auto& frame : recording->frames) previews.push_back(frame->rgb());
  }
  const auto final_image = completed->as<engine::Completed>()->images.at(0);
  auto build = [previews = std::move(previews), final_image]() -> asio::awaitable<std::vector<uint8_t>> {
    co_return image::encode_development(previews, *final_image, {.max_side = kMaxSide});
  };
  auto bytes = co_await asio::co_spawn(builder_, std::move(build), asio::use_awaitable);
  recording->webp = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  recording->listening.reset();
  std::lock_guard lock(recording->mutex);
  recording->frames.clear();
  co_return recording->webp;
}

}  // namespace darkroom::server
