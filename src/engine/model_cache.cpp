#include "model_cache.hpp"

#include <stdexcept>
#include <vector>

namespace darkroom::engine {
namespace {

double pixels(const pipeline::GenerationRequest& request) {
  return static_cast<double>(request.width) * request.height * request.batch;
}

std::size_t weight_bytes(const io::ModelSource& source) {
  std::size_t bytes = 0;
  std::vector<const io::WeightIndex*> components{&source.unet, &source.vae, &source.text_encoder};
  if (source.text_encoder_2) components.push_back(&source.text_encoder_2->weights);
  for (const auto* index : components)
    for (const auto& [name, ref] : index->entries()) {
      std::size_t numel = 1;
      for (const auto dim : ref.shape()) numel *= static_cast<std::size_t>(dim);
      bytes += numel * sizeof(float);
    }
  return bytes;
}

}  // namespace

double LoadedModel::decode_estimate_s(const pipeline::GenerationRequest& request) const {
  return decode_s_per_pixel.load() * pixels(request);
}

void LoadedModel::record_decode(const pipeline::GenerationRequest& request, double seconds) {
  decode_s_per_pixel.store(seconds / pixels(request));
}

std::shared_ptr<LoadedModel> ModelCache::get(const std::string& name, const std::function<void()>& on_wait) {
  std::unique_lock lock(mutex_);
  auto it = models_.find(name);
  if (it != models_.end()) {
    it->second.last_used = ++uses_;
    auto future = it->second.model;
    lock.unlock();
    if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready && on_wait) on_wait();
    return future.get();
  }
  std::promise<std::shared_ptr<LoadedModel>> promise;
  models_.emplace(name, Entry{promise.get_future().share(), ++uses_});
  lock.unlock();
  try {
    if (on_wait) on_wait();
    auto model = std::make_shared<LoadedModel>();
    model->pipeline = loader_(name);
    if (!model->pipeline) throw std::runtime_error("model loader returned nothing for '" + name + "'");
    model->bytes = weight_bytes(model->pipeline->source());
    promise.set_value(model);
    std::lock_guard relock(mutex_);
    fit_budget(name);
    return model;
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard relock(mutex_);
    models_.erase(name);
    throw;
  }
}

void ModelCache::fit_budget(const std::string& keep) {
  if (budget_ == 0) return;
  for (;;) {
    std::size_t total = 0;
    auto victim = models_.end();
    for (auto it = models_.begin(); it != models_.end(); ++it) {
      const auto& future = it->second.model;
      if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;  // loading
      const auto model = future.get();
      total += model->bytes;
      // Idle: held by the cache's future and `model` here only; no job has it.
      const bool idle = model.use_count() == 2;
      if (it->first != keep && idle && (victim == models_.end() || it->second.last_used < victim->second.last_used))
        victim = it;
    }
    if (total <= budget_ || victim == models_.end()) return;
    models_.erase(victim);
  }
}

std::pair<std::size_t, std::size_t> ModelCache::loaded() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0, bytes = 0;
  for (const auto& [name, entry] : models_) {
    if (entry.model.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
    try {
      bytes += entry.model.get()->bytes;
      ++count;
    } catch (...) {  // a failed load about to be forgotten
    }
  }
  return {count, bytes};
}

}  // namespace darkroom::engine
