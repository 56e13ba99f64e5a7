#include "engine_fixture.hpp"

#include <ATen/Parallel.h>

#include "../pipeline/tiny_model.hpp"
#include "darkroom/io/error.hpp"

namespace darkroom::engine::testing {

uint64_t RecordingLog::append(EventBody body) {
  std::lock_guard lock(mutex_);  // keeps all_ in append order
  const uint64_t seq = log_.append(std::move(body));
  all_.push_back(log_.events_after(seq - 1).front());
  return seq;
}

std::vector<Event> RecordingLog::all() const {
  std::lock_guard lock(mutex_);
  return all_;
}

std::vector<Event> all_events(const Job& job) {
  auto log = std::dynamic_pointer_cast<RecordingLog>(job.events());
  if (!log) throw std::logic_error("all_events: the job was not made by a tiny_options() engine");
  return log->all();
}

std::vector<EventType> types(const std::vector<Event>& events) {
  std::vector<EventType> out;
  for (const auto& e : events) out.push_back(e.type());
  return out;
}

int terminal_count(const std::vector<Event>& events) {
  return static_cast<int>(std::count_if(events.begin(), events.end(), [](const Event& e) { return e.terminal(); }));
}

EngineOptions tiny_options() {
  at::set_num_threads(1);
  EngineOptions options;
  options.loader = [](const std::string& model) -> std::shared_ptr<const pipeline::StableDiffusion> {
    if (model != "tiny") throw io::ModelFileError(model, "no such model");
    return golden::tiny_sd1(golden::TinyLayout::single_file);
  };
  options.event_log = [] { return std::make_shared<RecordingLog>(); };
  return options;
}

JobRequest tiny_request(int steps, sampling::SamplerKind sampler) {
  JobRequest request;
  request.model = "tiny";
  request.generation.prompt = "a red apple on a wooden table";
  request.generation.negative_prompt = "blurry";
  request.generation.width = 64;
  request.generation.height = 64;
  request.generation.steps = steps;
  request.generation.sampler = sampler;
  request.generation.seed = 42;
  return request;
}

std::shared_ptr<Job> run(Engine& engine, JobRequest request) {
  auto job = engine.submit(std::move(request));
  job->wait();
  return job;
}

}  // namespace darkroom::engine::testing
