#include "job_runner.hpp"

#include <new>
#include <stdexcept>

#include "darkroom/sampling/samplers.hpp"

namespace darkroom::engine {
namespace {

// Thrown out of the step and phase hooks to stop the generation; carries no data, the job knows why.
struct CancelSignal {};

// A failure with its error code, for the stages whose exceptions are not self-describing.
struct Failure {
  std::string code;
  std::string message;
};

std::string current_message() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

double JobRunner::seconds(Clock::time_point since) const {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void JobRunner::check_cancelled() const {
  if (job_.past_deadline(Clock::now())) job_.request_cancel(Job::CancelReason::timeout);
  if (job_.cancel_reason() != Job::CancelReason::none) throw CancelSignal{};
}

void JobRunner::run() {
  timings_["queued"] = std::chrono::duration<double>(start_ - job_.submitted_at()).count();
  EventBody terminal;
  try {
    generate();
    return;
  } catch (const CancelSignal&) {
    const auto reason = job_.cancel_reason();
    if (reason == Job::CancelReason::timeout) terminal = job_.timed_out();
    else terminal = Cancelled{reason == Job::CancelReason::shutdown ? "shutdown" : "requested"};
  } catch (const Failure& failure) {
    terminal = Error{failure.code, failure.message};
  } catch (const std::invalid_argument& e) {
    terminal = Error{"invalid_request", e.what()};
  } catch (const std::bad_alloc&) {
    terminal = Error{"out_of_memory", "out of memory"};
  } catch (...) {
    terminal = Error{"internal", current_message()};
  }
  // The terminal event first (a decode in progress must not delay it; its preview is then dropped), then
  // the decoder thread and every tensor of the run are released.
  job_.emit(std::move(terminal));
  worker_.reset();
  previews_.reset();
}

void JobRunner::generate() {
  check_cancelled();
  const auto& request = job_.request();
  const auto load_start = Clock::now();
  bool loaded = false;
  try {
    model_ = core_.models.get(request.model, [&] {
      loaded = true;
      job_.emit(PhaseChanged{std::string(pipeline::phase_name(pipeline::Phase::loading_model))});
    });
  } catch (...) {
    throw Failure{"model_error", "model '" + request.model + "': " + current_message()};
  }
  if (loaded) timings_["loading_model"] = seconds(load_start);
  check_cancelled();

  generation_ = request.generation;
  pipeline::use_model_defaults(generation_, pipeline::model_defaults(model_->pipeline->source()));
  if (request.init_image) generation_.init_image = decode_init_image(*request.init_image);
  pipeline::validate(generation_, core_.options.limits, model_->pipeline->latent_scale());
  preview::validate(request.preview);
  start_previews();

  pipeline::GenerationObserver observer;
  observer.on_phase = [this](pipeline::Phase phase) { on_phase(phase); };
  observer.on_step = [this](const sampling::StepInfo& info) { on_step(info); };
  observer.interrupt = [this] { check_cancelled(); };
  auto result = model_->pipeline->generate(generation_, observer);
  model_->record_decode(generation_, result.timings.decode_s);
  if (worker_) worker_->finish();  // the last step's preview comes before `completed`

  Completed completed;
  for (auto& image : result.images) completed.images.push_back(std::make_shared<const image::Image>(std::move(image)));
  completed.seed = result.seed;
  completed.timings = std::move(timings_);
  completed.timings["encoding_prompt"] = result.timings.encode_prompt_s;
  completed.timings["denoising"] = result.timings.denoise_s;
  completed.timings["decoding"] = result.timings.decode_s;
  completed.timings["total"] = seconds(job_.submitted_at());
  job_.emit(std::move(completed));
}

image::Image JobRunner::decode_init_image(const EncodedImage& encoded) const {
  try {
    return image::decode(encoded.bytes, image::DecodeLimits{generation_.width, generation_.height});
  } catch (const std::exception& e) {
    throw Failure{"invalid_request", std::string("init_image: ") + e.what()};
  }
}

void JobRunner::start_previews() {
  const auto& options = job_.request().preview;
  if (options.method == preview::Method::none) return;
  const auto capabilities = core_.capabilities(*model_);
  const auto method = capabilities.resolve(options.method);
  if (method == preview::Method::none || !capabilities.available(method)) {
    const auto reason = capabilities.unavailable_reason(method);
    job_.emit(Notice{"preview_unavailable", "preview method '" + std::string(preview::method_name(options.method)) +
                                                "' cannot run for this model, previews are skipped: " +
                                                (reason.empty() ? "no preview method is available" : reason)});
    return;
  }
  previews_ = std::make_unique<PreviewMaker>(
      core_.make_decoder(method, *model_), options.max_size, [this](EventBody body) { job_.emit(std::move(body)); },
      [this](double decode_s) {
        core_.preview_decodes += 1;
        core_.preview_decode_seconds += decode_s;
      });
  const auto where = core_.options.preview_decoding;
  if (where == PreviewDecoding::off_loop || (where == PreviewDecoding::by_cost && previews_->costly()))
    worker_ = std::make_unique<PreviewWorker>(*previews_);
}

void JobRunner::on_phase(pipeline::Phase phase) {
  check_cancelled();
  if (phase == pipeline::Phase::denoising) denoise_start_ = Clock::now();
  job_.emit(PhaseChanged{std::string(pipeline::phase_name(phase))});
}

void JobRunner::on_step(const sampling::StepInfo& info) {
  check_cancelled();
  const int done = info.step + 1;
  const double elapsed = seconds(start_);
  const auto now = Clock::now();
  core_.steps += 1;
  core_.step_seconds += std::chrono::duration<double>(now - (done == 1 ? denoise_start_ : last_step_)).count();
  last_step_ = now;
  const double per_step = seconds(denoise_start_) / done;
  const double eta = (info.total - done) * per_step + model_->decode_estimate_s(generation_);
  job_.emit(Progress{done, info.total, info.sigma, elapsed, eta});
  if (!previews_) return;
  if (!throttle_) throttle_.emplace(job_.request().preview, info.total);
  if (!throttle_->due(info.step, elapsed)) return;
  // Batch item 0 only, cloned: the sampler reuses and frees its tensors as it goes.
  const auto latent = job_.request().preview.source == preview::Source::denoised
                          ? info.denoised
                          : sampling::to_vp(info.x, info.sigma_next);
  PreviewSnapshot snapshot{latent.slice(0, 0, 1).clone(), done, info.total, info.sigma};
  if (worker_)
    worker_->post(std::move(snapshot));
  else
    previews_->make(snapshot);
}

}  // namespace darkroom::engine
