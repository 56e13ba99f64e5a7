#pragma once
// Models by name, loaded once and shared by every job that names them. Concurrent requests for a model
// that is loading wait for that one load; a failed load is forgotten so a later job can try again.
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

  // The final decode's measured cost, per output pixel over the batch, for ETAs (0: not measured yet).
  std::atomic<double> decode_s_per_pixel{0};
  double decode_estimate_s(const pipeline::GenerationRequest& request) const;
  void record_decode(const pipeline::GenerationRequest& request, double seconds);
};

class ModelCache {
 public:
  explicit ModelCache(ModelLoader loader) : loader_(std::move(loader)) {}

  // The model; on_wait runs first when this call has to wait for a load (its own or another job's).
  std::shared_ptr<LoadedModel> get(const std::string& name, const std::function<void()>& on_wait = {});

 private:
  ModelLoader loader_;
  std::mutex mutex_;
  std::map<std::string, std::shared_future<std::shared_ptr<LoadedModel>>> models_;
};

}  // namespace darkroom::engine
