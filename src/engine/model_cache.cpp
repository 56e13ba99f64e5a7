#include "model_cache.hpp"

namespace darkroom::engine {
namespace {

double pixels(const pipeline::GenerationRequest& request) {
  return static_cast<double>(request.width) * request.height * request.batch;
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
    auto future = it->second;
    lock.unlock();
    if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready && on_wait) on_wait();
    return future.get();
  }
  std::promise<std::shared_ptr<LoadedModel>> promise;
  models_.emplace(name, promise.get_future().share());
  lock.unlock();
  try {
    if (on_wait) on_wait();
    auto model = std::make_shared<LoadedModel>();
    model->pipeline = loader_(name);
    if (!model->pipeline) throw std::runtime_error("model loader returned nothing for '" + name + "'");
    promise.set_value(model);
    return model;
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard relock(mutex_);
    models_.erase(name);
    throw;
  }
}

}  // namespace darkroom::engine
