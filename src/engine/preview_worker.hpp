#pragma once
// Previews of one running job: a latent snapshot in, a preview event out. PreviewMaker decodes, caps the
// size and emits; PreviewWorker runs it on a thread of its own so decoding never holds up the denoising
// loop: while it decodes, the snapshot waiting behind it is replaced by each newer one (newest wins).
#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "darkroom/engine/event.hpp"
#include "darkroom/preview/decoder.hpp"

namespace darkroom::engine {

// Batch item 0's latent after one step, cloned off the sampler's buffers.
struct PreviewSnapshot {
  torch::Tensor latent;  // [1,C,h,w], scaled model latent
  int step = 0;          // 1-based
  int total = 0;
  double sigma = 0;
};

class PreviewMaker {
 public:
  using Emit = std::function<void(EventBody)>;
  using Measured = std::function<void(double decode_s)>;  // after each successful decode
  PreviewMaker(std::unique_ptr<preview::PreviewDecoder> decoder, int max_size, Emit emit, Measured measured = {});
  bool costly() const { return decoder_->costly(); }

  // Emits the preview with the next index. A decoder that throws emits notice preview_failed once and
  // makes no more previews: a preview never fails the job.
  void make(const PreviewSnapshot& snapshot);

 private:
  std::unique_ptr<preview::PreviewDecoder> decoder_;
  int max_size_;
  Emit emit_;
  Measured measured_;
  int next_index_ = 0;
  bool failed_ = false;
};

class PreviewWorker {
 public:
  explicit PreviewWorker(PreviewMaker& maker);
  ~PreviewWorker();  // abandon()
  PreviewWorker(const PreviewWorker&) = delete;
  PreviewWorker& operator=(const PreviewWorker&) = delete;

  void post(PreviewSnapshot snapshot);  // replaces a snapshot that is still waiting
  void finish();                        // decodes the waiting snapshot, then stops and joins
  void abandon();                       // drops the waiting snapshot; stops and joins after the decode in progress

 private:
  void run();
  void stop(bool drop_pending);

  PreviewMaker& maker_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<PreviewSnapshot> pending_;
  bool stopping_ = false;
  std::atomic<bool> abandoned_{false};  // read by the decode in progress, at its interruption points
  std::thread thread_;
};

}  // namespace darkroom::engine
