#include "preview_worker.hpp"

#include "darkroom/image/resize.hpp"
#include "darkroom/models/interruption.hpp"
#include "darkroom/preview/preview_image.hpp"

namespace darkroom::engine {

PreviewMaker::PreviewMaker(std::unique_ptr<preview::PreviewDecoder> decoder, int max_size, Emit emit,
                           Measured measured)
    : decoder_(std::move(decoder)), max_size_(max_size), emit_(std::move(emit)), measured_(std::move(measured)) {}

void PreviewMaker::make(const PreviewSnapshot& snapshot) {
  if (failed_) return;
  image::Image rgb;
  try {
    const auto start = std::chrono::steady_clock::now();
    rgb = decoder_->decode(snapshot.latent);
    if (max_size_ > 0) rgb = image::resize_to_fit(rgb, max_size_);
    if (measured_) measured_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const std::exception& e) {
    failed_ = true;
    emit_(Notice{"preview_failed", std::string(decoder_->name()) + " preview failed, previews stop: " + e.what()});
    return;
  }
  emit_(Preview{snapshot.step, snapshot.total, snapshot.sigma, next_index_++,
                std::make_shared<const preview::PreviewImage>(std::move(rgb)), std::string(decoder_->name())});
}

PreviewWorker::PreviewWorker(PreviewMaker& maker) : maker_(maker), thread_([this] { run(); }) {}

PreviewWorker::~PreviewWorker() { abandon(); }

void PreviewWorker::post(PreviewSnapshot snapshot) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(snapshot);
  }
  wake_.notify_one();
}

void PreviewWorker::finish() { stop(false); }
void PreviewWorker::abandon() { stop(true); }

void PreviewWorker::stop(bool drop_pending) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (drop_pending) pending_.reset();
  }
  abandoned_ = drop_pending;
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PreviewWorker::run() {
  // Grad mode is per thread: the generating thread's NoGradGuard does not reach here.
  torch::NoGradGuard no_grad;
  // An abandoned job (cancelled, failed) does not wait for a VAE decode that can take seconds at size.
  struct Abandoned {};
  const models::InterruptionScope interruptible([this] {
    if (abandoned_) throw Abandoned{};
  });
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping, nothing left
    PreviewSnapshot snapshot = std::move(*pending_);
    pending_.reset();
    lock.unlock();
    try {
      maker_.make(snapshot);
    } catch (const Abandoned&) {
      return;
    }
  }
}

}  // namespace darkroom::engine
