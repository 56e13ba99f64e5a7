#pragma once
// The engine: jobs wait in one FIFO queue and run on a fixed number of worker threads; models load once
// and are shared by every job that names them; each job's events go to its own log. A finished job stays
// findable for a TTL so a late or reconnecting watcher can still replay it.
//
// Running a job: started, phase loading_model (only when the job waits for its model to load),
// encoding_prompt, denoising, a progress event after every step, previews as the request's throttle says,
// decoding, then exactly one terminal event. A preview decodes a clone of batch item 0's latent (x0, or
// the noisy latent): cheap decoders right in the step hook, the costly VAE on the job's decoder thread,
// off the denoising loop, where a snapshot that waits while the decoder is busy is replaced by a newer
// one (EngineOptions::preview_decoding).
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "darkroom/engine/job.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/preview/decoder.hpp"

namespace darkroom::engine {

// Model name (JobRequest::model) -> loaded pipeline. Throwing fails the job with error code model_error.
using ModelLoader = std::function<std::shared_ptr<const pipeline::StableDiffusion>(const std::string& model)>;

enum class PreviewDecoding { by_cost, inline_, off_loop };

struct EngineOptions {
  int workers = 1;                                               // jobs that run at the same time
  // Jobs of one model that may run at the same time; 0: as many as there are workers. A queued job whose
  // model is at its limit waits, and the next job of another model runs first (FIFO otherwise).
  int jobs_per_model = 0;
  std::size_t max_queued = 0;                                    // jobs that may wait for a worker; 0: no limit
  std::chrono::milliseconds job_ttl = std::chrono::minutes(10);  // how long a finished job stays findable
  // The most any job may take from its submission (JobRequest::timeout may only shorten it); 0: none.
  std::chrono::milliseconds job_timeout{0};
  std::size_t max_log_events = 0;  // cap on each job's retained events (see MemoryEventLog); 0: none
  // Makes each job's log; empty: MemoryEventLog(max_log_events). The seam for a distributed log.
  std::function<std::shared_ptr<EventLog>()> event_log;
  pipeline::RequestLimits limits;  // every request is validated against these before it runs
  // Where previews are decoded. by_cost (the default): costly decoders (the VAE) on the job's decoder
  // thread, off the denoising loop, newest snapshot wins; cheap ones (latent2rgb, tiny AE) inline, where
  // they cost less than the hand-over (docs/performance.md). inline_: every due preview is decoded on
  // the generating thread. off_loop: every decoder on the decoder thread.
  PreviewDecoding preview_decoding = PreviewDecoding::by_cost;
  // A tiny autoencoder decoder (safetensors, taesd.py or diffusers AutoencoderTiny keys) for taesd
  // previews of models with matching latent channels. Loaded by the constructor.
  std::optional<std::filesystem::path> taesd;
  // The tiny decoder for SDXL models (TAESDXL: SDXL's VAE latents are not SD1's, though their shapes
  // are): when given, SDXL models use it and the others taesd; else every model uses taesd.
  std::optional<std::filesystem::path> taesdxl;
  // Bytes of model weights (as loaded, float32) to keep loaded; past it, the models no job is using are
  // unloaded, least recently used first (a model in use stays, even over the budget). 0: no limit.
  std::size_t model_memory_budget = 0;
  pipeline::LoadOptions load;  // how the default loader loads
  ModelLoader loader;          // empty: StableDiffusion::load(model as a path, load)
};

// submit() when max_queued jobs are already waiting.
class QueueFull : public std::runtime_error {
 public:
  explicit QueueFull(std::size_t limit);
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
};

// submit() after shutdown().
class EngineStopped : public std::runtime_error {
 public:
  EngineStopped() : std::runtime_error("the engine has shut down") {}
};

struct EngineStats {
  std::size_t queued = 0;
  std::size_t running = 0;
  std::size_t finished = 0;  // within their TTL
  // Since the engine started, for monitoring (the server's /metrics):
  uint64_t steps = 0;  // denoising steps run
  double step_seconds = 0;
  uint64_t preview_decodes = 0;
  double preview_decode_seconds = 0;
  std::size_t loaded_models = 0;
  std::size_t loaded_model_bytes = 0;  // float32 weights of the loaded models
};

class Engine {
 public:
  // Starts the workers; loads options.taesd (io::ModelFileError when it cannot).
  explicit Engine(EngineOptions options = {});
  ~Engine();  // shutdown()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a job (its first event is queued{position}). Throws QueueFull or EngineStopped. A request
  // that is invalid is not rejected here: the job ends with error{invalid_request}, naming the field.
  std::shared_ptr<Job> submit(JobRequest request);
  // A job by id while it is queued, running, or finished within the TTL; nullptr otherwise.
  std::shared_ptr<Job> find(const std::string& id) const;
  // The preview methods a model offers. Loads the model if it is not loaded yet (throws what the loader
  // throws when it cannot).
  preview::PreviewCapabilities capabilities(const std::string& model);
  // The same from what a model's files say (family, latent channels, its own preview table), without
  // loading it.
  preview::PreviewCapabilities capabilities(io::ModelFamily family, int latent_channels,
                                            const std::optional<std::filesystem::path>& latent2rgb_table = {}) const;
  EngineStats stats() const;

  // Stops taking jobs, cancels queued and running ones (reason "shutdown") and joins the workers.
  // Idempotent; safe from any thread, including a subscription callback.
  void shutdown();

 private:
  std::shared_ptr<detail::EngineCore> core_;
};

}  // namespace darkroom::engine
