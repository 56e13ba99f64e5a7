#pragma once
// Models by name, loaded once and shared by every job that names them. Concurrent requests for a model
// that is loading wait for that one load; a failed load is forgotten so a later job can try again. With a
// memory budget, loading a model unloads the least recently used models no job holds until the loaded
// weights fit (or only models in use are left).
#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "darkroom/engine/engine.hpp"

namespace darkroom::engine {

struct LoadedModel {
  std::shared_ptr<const pipeline::StableDiffusion> pipeline;
  std::size_t bytes = 0;  // its weights as loaded (float32)

  // The final decode's measured cost, per output pixel over the batch, for ETAs (0: not measured yet).
  std::atomic<double> decode_s_per_pixel{0};
  double decode_estimate_s(const pipeline::GenerationRequest& request) const;
  void record_decode(const pipeline::GenerationRequest& request, double seconds);
};

class ModelCache {
 public:
  // budget: bytes of weights to keep loaded (0: no limit).
  ModelCache(ModelLoader loader, std::size_t budget) : loader_(std::move(loader)), budget_(budget) {}

  // The model; on_wait runs first when this call has to wait for a load (its own or another job's).
  std::shared_ptr<LoadedModel> get(const std::string& name, const std::function<void()>& on_wait = {});
  // Loaded models and the bytes of their weights.
  std::pair<std::size_t, std::size_t> loaded() const;

 private:
  struct Entry {
    std::shared_future<std::shared_ptr<LoadedModel>> model;
    uint64_t last_used = 0;
  };
  // With mutex_ held: unloads idle models, least recently used first, until the budget holds.
  void fit_budget(const std::string& keep);

  ModelLoader loader_;
  const std::size_t budget_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> models_;
  uint64_t uses_ = 0;
};

}  // namespace darkroom::engine
