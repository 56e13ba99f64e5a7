#pragma once
// Batches of rendered scenes and their captions for the trainers. Example i of step s comes from seed
// domain * 2^40 + s * batch + i, so a resumed run draws the batches an uninterrupted run would have and the
// two stages draw different scenes. The next batch renders on worker threads while the current one trains.
#include <torch/torch.h>

#include <cstdint>
#include <future>
#include <string>
#include <vector>

namespace darkroom::training {

struct SceneBatch {
  torch::Tensor images;      // [B, 3, size, size] in [-1, 1], float32, on the training device
  torch::Tensor foreground;  // [B, 1, size, size]: 1 where an object covers the pixel (even partly), else 0
  std::vector<std::string> captions;
};

// Loss weights [B, 1, size, size] at a resolution that divides the image's: `weight` where any pixel of the
// cell belongs to an object, 1 elsewhere.
torch::Tensor foreground_weights(const torch::Tensor& foreground, int64_t size, double weight);

class SceneBatches {
 public:
  SceneBatches(uint64_t domain, int64_t batch, int image_size, int threads, torch::Device device);
  // The batch of `step`; prefetches step + 1. Steps are expected in increasing order.
  SceneBatch at(int64_t step);

 private:
  SceneBatch render(int64_t step) const;

  uint64_t domain_;
  int64_t batch_;
  int image_size_;
  int threads_;
  torch::Device device_;
  int64_t prefetched_step_ = -1;
  std::future<SceneBatch> prefetched_;
};

}  // namespace darkroom::training
