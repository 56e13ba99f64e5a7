#include "darkroom/engine/engine.hpp"

#include <algorithm>
#include <random>

#include "darkroom/io/safetensors.hpp"
#include "darkroom/io/tiny_autoencoder_layout.hpp"
#include "engine_core.hpp"
#include "job_runner.hpp"

namespace darkroom::engine {
namespace {

ModelLoader default_loader(const pipeline::LoadOptions& load) {
  return [load](const std::string& model) { return pipeline::StableDiffusion::load(model, load); };
}

// Unguessable, so that knowing one job's id tells nothing about another's.
std::string new_job_id() {
  static thread_local std::mt19937_64 random{std::random_device{}() ^
                                             (static_cast<uint64_t>(std::random_device{}()) << 32)};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = random();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = hex[bits & 15];
  }
  return id;
}

}  // namespace

QueueFull::QueueFull(std::size_t limit)
    : std::runtime_error("the queue is full (" + std::to_string(limit) + " jobs waiting)"), limit_(limit) {}

namespace detail {

EngineCore::EngineCore(EngineOptions opts)
    : options(std::move(opts)), models(options.loader ? options.loader : default_loader(options.load), options.model_memory_budget) {
  if (options.workers < 1) throw std::invalid_argument("engine: workers must be at least 1");
  if (options.jobs_per_model < 0) throw std::invalid_argument("engine: jobs_per_model must be 0 (no limit) or more");
  const auto load_tiny = [&](const std::filesystem::path& file) {
    const auto weights = io::tiny_decoder_to_taesd(io::WeightIndex::of(io::SafetensorsFile::open(file)));
    LoadedTinyDecoder loaded{models::load_tiny_decoder(weights), io::tiny_decoder_config(weights).latent_channels};
    loaded.module->to(options.load.device);
    loaded.module->eval();
    return loaded;
  };
  if (options.taesd) taesd = load_tiny(*options.taesd);
  if (options.taesdxl) taesdxl = load_tiny(*options.taesdxl);
  for (int i = 0; i < options.workers; ++i) workers_.emplace_back([this] { work(); });
  timekeeper_ = std::thread([this] { keep_time(); });
}

std::shared_ptr<Job> EngineCore::submit(JobRequest request, const std::shared_ptr<EngineCore>& self) {
  std::lock_guard lock(mutex_);
  if (stopping_) throw EngineStopped();
  purge();
  if (options.max_queued > 0 && queue_.size() >= options.max_queued) throw QueueFull(options.max_queued);
  auto log = options.event_log ? options.event_log() : std::make_shared<MemoryEventLog>(options.max_log_events);
  using std::chrono::milliseconds;
  const auto limit = options.job_timeout;
  if (limit > milliseconds(0) && (request.timeout <= milliseconds(0) || request.timeout > limit)) request.timeout = limit;
  auto job = std::make_shared<Job>(Job::Key{}, new_job_id(), std::move(request), std::move(log));
  job->engine_ = self;
  if (job->request().timeout > milliseconds(0)) {
    job->deadline_ = job->submitted_at() + job->request().timeout;
    deadline_added_.notify_one();
  }
  jobs_.emplace(job->id(), job);
  queue_.push_back(job);
  job->position_ = static_cast<int>(queue_.size());
  job->emit(Queued{job->position()});
  wake_.notify_one();
  return job;
}

std::shared_ptr<Job> EngineCore::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  purge();
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

EngineStats EngineCore::stats() {
  std::lock_guard lock(mutex_);
  purge();
  // By the jobs' own states, so the numbers agree with what watchers have seen (a job whose terminal event
  // is out counts as finished even while its worker is still tidying up).
  EngineStats stats;
  stats.steps = steps;
  stats.step_seconds = step_seconds;
  stats.preview_decodes = preview_decodes;
  stats.preview_decode_seconds = preview_decode_seconds;
  std::tie(stats.loaded_models, stats.loaded_model_bytes) = models.loaded();
  for (const auto& [id, job] : jobs_) {
    switch (job->state()) {
      case JobState::queued: ++stats.queued; break;
      case JobState::running: ++stats.running; break;
      default: ++stats.finished; break;
    }
  }
  return stats;
}

void EngineCore::dequeue(Job& job) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& queued) { return queued.get() == &job; });
  if (it == queue_.end()) return;  // running or finished
  auto held = *it;
  queue_.erase(it);
  held->position_ = 0;
  held->emit(Cancelled{"requested"});
  retire(held);
  renumber();
}

void EngineCore::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& job : queue_) {
      job->request_cancel(Job::CancelReason::shutdown);
      job->position_ = 0;
      job->emit(Cancelled{"shutdown"});
      retire(job);
    }
    queue_.clear();
    for (const auto& job : running_) job->request_cancel(Job::CancelReason::shutdown);
  }
  wake_.notify_all();
  deadline_added_.notify_all();
  std::lock_guard join(join_mutex_);
  for (auto& worker : workers_)
    if (worker.joinable()) worker.join();
  if (timekeeper_.joinable()) timekeeper_.join();
}

void EngineCore::work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || next_runnable() != queue_.end(); });
      const auto next = next_runnable();
      if (next == queue_.end()) return;  // stopping (shutdown empties the queue)
      job = std::move(*next);
      queue_.erase(next);
      job->position_ = 0;
      job->set_running();
      job->emit(Started{});
      running_.insert(job);
      ++running_per_model_[job->request().model];
      renumber();
    }
    JobRunner(*job, *this).run();
    {
      std::lock_guard lock(mutex_);
      running_.erase(job);
      if (--running_per_model_[job->request().model] == 0) running_per_model_.erase(job->request().model);
      retire(job);
    }
    wake_.notify_all();  // a job held back by its model's limit may run now
  }
}

void EngineCore::keep_time() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Job::Clock::now();
    std::optional<Job::Clock::time_point> earliest;
    bool removed = false;
    for (auto it = queue_.begin(); it != queue_.end();) {
      const auto job = *it;
      if (job->past_deadline(now)) {
        it = queue_.erase(it);
        job->request_cancel(Job::CancelReason::timeout);
        job->position_ = 0;
        job->emit(job->timed_out());
        retire(job);
        removed = true;
        continue;
      }
      if (const auto deadline = job->deadline(); deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
      ++it;
    }
    if (removed) renumber();
    if (earliest) deadline_added_.wait_until(lock, *earliest);
    else deadline_added_.wait(lock);
  }
}

std::deque<std::shared_ptr<Job>>::iterator EngineCore::next_runnable() {
  if (options.jobs_per_model == 0) return queue_.begin();
  return std::find_if(queue_.begin(), queue_.end(), [&](const auto& job) {
    const auto running = running_per_model_.find(job->request().model);
    return running == running_per_model_.end() || running->second < options.jobs_per_model;
  });
}

void EngineCore::renumber() {
  int position = 0;
  for (const auto& job : queue_) {
    if (job->position_ != ++position) {
      job->position_ = position;
      job->emit(Queued{position});
    }
  }
}

void EngineCore::retire(const std::shared_ptr<Job>& job) {
  expiry_.emplace_back(Job::Clock::now() + options.job_ttl, job->id());
  purge();
}

void EngineCore::purge() {
  const auto now = Job::Clock::now();
  while (!expiry_.empty() && expiry_.front().first <= now) {
    jobs_.erase(expiry_.front().second);
    expiry_.pop_front();
  }
}

preview::PreviewCapabilities EngineCore::capabilities(const LoadedModel& model) const {
  const auto& source = model.pipeline->source();
  return capabilities(source.family, static_cast<int>(source.vae_config.latent_channels), source.latent2rgb_table);
}

preview::PreviewCapabilities EngineCore::capabilities(io::ModelFamily family, int latent_channels,
                                                      const std::optional<std::filesystem::path>& latent2rgb_table) const {
  const auto& tiny = tiny_decoder_for(family);
  return preview::preview_capabilities(latent_channels, preview::table_for(family, latent2rgb_table),
                                       tiny ? std::optional(tiny->latent_channels) : std::nullopt, true);
}

const std::optional<EngineCore::LoadedTinyDecoder>& EngineCore::tiny_decoder_for(io::ModelFamily family) const {
  return family == io::ModelFamily::sdxl && taesdxl ? taesdxl : taesd;
}

std::unique_ptr<preview::PreviewDecoder> EngineCore::make_decoder(preview::Method method,
                                                                  const LoadedModel& model) const {
  switch (method) {
    case preview::Method::latent2rgb:
      return preview::make_latent2rgb_decoder(
          *preview::table_for(model.pipeline->source().family, model.pipeline->source().latent2rgb_table));
    case preview::Method::taesd: {
      std::lock_guard lock(taesd_mutex);
      return preview::make_taesd_decoder(tiny_decoder_for(model.pipeline->source().family)->module);
    }
    case preview::Method::vae:
      return preview::make_vae_decoder(model.pipeline);
    case preview::Method::none:
    case preview::Method::auto_:
      break;
  }
  throw std::logic_error("engine: no decoder for preview method " + std::string(preview::method_name(method)));
}

}  // namespace detail

Engine::Engine(EngineOptions options) : core_(std::make_shared<detail::EngineCore>(std::move(options))) {}

Engine::~Engine() { shutdown(); }

std::shared_ptr<Job> Engine::submit(JobRequest request) { return core_->submit(std::move(request), core_); }

std::shared_ptr<Job> Engine::find(const std::string& id) const { return core_->find(id); }

preview::PreviewCapabilities Engine::capabilities(const std::string& model) {
  return core_->capabilities(*core_->models.get(model));
}

preview::PreviewCapabilities Engine::capabilities(io::ModelFamily family, int latent_channels,
                                                  const std::optional<std::filesystem::path>& latent2rgb_table) const {
  return core_->capabilities(family, latent_channels, latent2rgb_table);
}

EngineStats Engine::stats() const { return core_->stats(); }

void Engine::shutdown() { core_->shutdown(); }

}  // namespace darkroom::engine
