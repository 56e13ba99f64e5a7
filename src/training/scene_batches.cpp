#include "scene_batches.hpp"

#include <algorithm>
#include <thread>

#include "darkroom/scenes/caption.hpp"
#include "darkroom/scenes/render.hpp"

namespace darkroom::training {

torch::Tensor foreground_weights(const torch::Tensor& foreground, int64_t size, double weight) {
  const auto covered = std::get<0>(torch::adaptive_max_pool2d(foreground, {size, size}));
  return 1 + (weight - 1) * covered;
}

SceneBatches::SceneBatches(uint64_t domain, int64_t batch, int image_size, int threads, torch::Device device)
    : domain_(domain), batch_(batch), image_size_(image_size), threads_(std::max(1, threads)), device_(device) {}

SceneBatch SceneBatches::render(int64_t step) const {
  const int64_t pixels = int64_t{image_size_} * image_size_ * 3;
  auto bytes = torch::empty({batch_, image_size_, image_size_, 3}, torch::kUInt8);
  auto backgrounds = torch::empty_like(bytes);
  std::vector<std::string> captions(static_cast<size_t>(batch_));
  const uint64_t first = (domain_ << 40) + static_cast<uint64_t>(step * batch_);
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto example = scenes::example_for_seed(first + static_cast<uint64_t>(i));
      const auto picture = scenes::render(example.scene, image_size_, image_size_);
      std::copy(picture.pixels.begin(), picture.pixels.end(), bytes.data_ptr<uint8_t>() + i * pixels);
      const auto background = scenes::render(scenes::Scene{example.scene.background, {}}, image_size_, image_size_);
      std::copy(background.pixels.begin(), background.pixels.end(), backgrounds.data_ptr<uint8_t>() + i * pixels);
      captions[static_cast<size_t>(i)] = example.caption;
    }
  };
  std::vector<std::thread> workers;
  const int64_t per_thread = (batch_ + threads_ - 1) / threads_;
  for (int64_t begin = 0; begin < batch_; begin += per_thread)
    workers.emplace_back(work, begin, std::min(batch_, begin + per_thread));
  for (auto& worker : workers) worker.join();
  auto images = bytes.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
  auto foreground = bytes.ne(backgrounds).any(3, /*keepdim=*/true).permute({0, 3, 1, 2}).to(torch::kFloat32);
  return {images.to(device_), foreground.contiguous().to(device_), std::move(captions)};
}

SceneBatch SceneBatches::at(int64_t step) {
  SceneBatch batch = prefetched_step_ == step ? prefetched_.get() : render(step);
  prefetched_step_ = step + 1;
  prefetched_ = std::async(std::launch::async, [this, next = step + 1] { return render(next); });
  return batch;
}

}  // namespace darkroom::training
