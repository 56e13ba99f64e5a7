#pragma once
// The events of one job, in the order a job yields them (../shared/design.md, "The event stream"):
//   queued{position}* started phase{...} progress{...}* preview{...}* ... and exactly one terminal event,
//   completed | error | cancelled.
// Torch-free: events carry pixels (image::Image, preview::PreviewImage), never tensors, so a transport or a
// distributed event log can hold them without the model stack.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "darkroom/image/image.hpp"

namespace darkroom::preview {
class PreviewImage;
}

namespace darkroom::engine {

enum class EventType { queued, started, phase, progress, preview, notice, completed, error, cancelled };
// "queued" "started" "phase" "progress" "preview" "notice" "completed" "error" "cancelled" (the SSE names).
std::string_view event_name(EventType type);

// Waiting for a worker; position 1 is next in line. Sent on submit and again whenever the position changes.
struct Queued {
  int position = 0;
};
struct Started {};
// phase: "loading_model" | "encoding_prompt" | "denoising" | "decoding" (pipeline::phase_name).
// loading_model appears only when the job has to wait for its model to load.
struct PhaseChanged {
  std::string phase;
};
// After every denoising step. step is 1-based (1 .. total). elapsed_s counts from the job's start (the
// started event); eta_s is the remaining steps at the measured mean step time plus the decode time
// measured for this model on earlier jobs (0 until one has been measured).
struct Progress {
  int step = 0;
  int total = 0;
  double sigma = 0;
  double elapsed_s = 0;
  double eta_s = 0;
};
// A decoded preview of batch item 0 after step `step` (1-based, like Progress; sigma is that step's).
// index counts the job's previews 0, 1, 2, ...; method is the decoder that made it ("latent2rgb", ...).
struct Preview {
  int step = 0;
  int total = 0;
  double sigma = 0;
  int index = 0;
  std::shared_ptr<const preview::PreviewImage> image;
  std::string method;
};
// Something the client should know that does not stop the job, e.g. code "preview_unavailable" when the
// requested preview method cannot run for this model (previews are then skipped), "preview_failed".
struct Notice {
  std::string code;
  std::string message;
};
// timings, in seconds: "queued", "loading_model" (when the job loaded it), "encoding_prompt", "denoising",
// "decoding", "total" (from submit to completion).
struct Completed {
  std::vector<std::shared_ptr<const image::Image>> images;
  int64_t seed = 0;
  std::map<std::string, double> timings;
};
// code: "invalid_request" (message names the field), "model_error" (the model could not be loaded),
// "out_of_memory", "internal".
struct Error {
  std::string code;
  std::string message;
};
// reason: "requested" (Job::cancel) or "shutdown" (Engine::shutdown).
struct Cancelled {
  std::string reason;
};

using EventBody = std::variant<Queued, Started, PhaseChanged, Progress, Preview, Notice, Completed, Error, Cancelled>;
EventType type_of(const EventBody& body);
// Superseded events: a newer event of the same type replaces the older one in a log (previews and queue
// positions are snapshots of state; only the newest matters to a reader that is behind).
bool supersedes(EventType type);

struct Event {
  uint64_t seq = 0;   // per job: 1, 2, 3, ... in order of creation; the SSE id and the resume cursor
  double time_s = 0;  // seconds since the job was submitted
  EventBody body;

  EventType type() const { return type_of(body); }
  bool terminal() const;
  // Convenience access: body as T, or nullptr.
  template <typename T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
};

// Memory an event holds, counting its pixel buffers (images, preview RGB).
std::size_t approx_bytes(const Event& event);

}  // namespace darkroom::engine
