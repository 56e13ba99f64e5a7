#pragma once
// The engine's shared state. Jobs hold it weakly (to leave the queue when cancelled); the Engine owns it.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "darkroom/engine/engine.hpp"
#include "darkroom/models/tiny_autoencoder.hpp"
#include "model_cache.hpp"

namespace darkroom::engine {

struct Job::Key {};

namespace detail {

struct EngineCore {
  explicit EngineCore(EngineOptions options);

  std::shared_ptr<Job> submit(JobRequest request, const std::shared_ptr<EngineCore>& self);
  std::shared_ptr<Job> find(const std::string& id);
  EngineStats stats();
  void shutdown();
  // Job::cancel on a job still in the queue: it leaves the queue with `cancelled`.
  void dequeue(Job& job);

  preview::PreviewCapabilities capabilities(const LoadedModel& model) const;
  preview::PreviewCapabilities capabilities(io::ModelFamily family, int latent_channels,
                                            const std::optional<std::filesystem::path>& latent2rgb_table) const;
  // method: available per capabilities(model), not none or auto_.
  std::unique_ptr<preview::PreviewDecoder> make_decoder(preview::Method method, const LoadedModel& model) const;

  const EngineOptions options;
  ModelCache models;
  struct LoadedTinyDecoder {
    models::TinyDecoder module;
    int64_t latent_channels = 0;
  };
  std::optional<LoadedTinyDecoder> taesd, taesdxl;
  // The tiny decoder a model of this family previews with, if any.
  const std::optional<LoadedTinyDecoder>& tiny_decoder_for(io::ModelFamily family) const;
  // Jobs share the tiny decoder modules, and wrapping one in a decoder sets its mode (eval()): one at a time.
  mutable std::mutex taesd_mutex;

  // EngineStats' running totals, added to by every job's runner and decoder.
  std::atomic<uint64_t> steps{0};
  std::atomic<double> step_seconds{0};
  std::atomic<uint64_t> preview_decodes{0};
  std::atomic<double> preview_decode_seconds{0};

 private:
  void work();
  // The timekeeper thread: ends queued jobs whose deadline passes (running jobs check their own).
  void keep_time();
  // With mutex held:
  void renumber();                               // queued{position} to every job whose position changed
  void retire(const std::shared_ptr<Job>& job);  // a job ended: keep it findable for the TTL
  // The first queued job whose model is below options.jobs_per_model running jobs.
  std::deque<std::shared_ptr<Job>>::iterator next_runnable();
  void purge();                                  // forget jobs past their TTL

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable deadline_added_;  // for the timekeeper
  std::deque<std::shared_ptr<Job>> queue_;
  std::set<std::shared_ptr<Job>> running_;
  std::map<std::string, int> running_per_model_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::pair<Job::Clock::time_point, std::string>> expiry_;  // finished jobs, in order of their end
  bool stopping_ = false;

  std::mutex join_mutex_;
  std::vector<std::thread> workers_;
  std::thread timekeeper_;
};

}  // namespace detail
}  // namespace darkroom::engine
