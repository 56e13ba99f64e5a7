// The engine's model cache under a memory budget: loading a model unloads the least recently used models
// no job holds, so a server with many models keeps only what fits.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "../pipeline/tiny_model.hpp"
#include "engine_fixture.hpp"

namespace darkroom::engine::testing {
namespace {

struct CountingLoader {
  std::mutex mutex;
  std::map<std::string, int> loads;

  ModelLoader loader() {
    return [this](const std::string& name) -> std::shared_ptr<const pipeline::StableDiffusion> {
      std::lock_guard lock(mutex);
      ++loads[name];
      return golden::tiny_sd1(golden::TinyLayout::single_file);
    };
  }
};

JobRequest on(const std::string& model) {
  auto request = tiny_request(1);
  request.model = model;
  return request;
}

// When the job's event of `type` happened, on one clock for all jobs.
Job::Clock::time_point when(const Job& job, EventType type) {
  for (const auto& event : all_events(job))
    if (event.type() == type)
      return job.submitted_at() + std::chrono::duration_cast<Job::Clock::duration>(std::chrono::duration<double>(event.time_s));
  ADD_FAILURE() << "no " << event_name(type) << " event";
  return {};
}

TEST(EngineModels, JobsPerModelHoldsBackTheModelsNextJobAndLetsOthersPass) {
  CountingLoader counting;
  auto options = tiny_options();
  options.loader = counting.loader();
  options.workers = 2;
  options.jobs_per_model = 1;
  Engine engine(options);
  auto job_on = [&](const char* model) {
    auto request = on(model);
    request.generation.steps = 30;
    return engine.submit(request);
  };
  const auto a1 = job_on("a"), a2 = job_on("a"), b1 = job_on("b");
  for (const auto& job : {a1, a2, b1}) {
    for (auto events = job->subscribe(); !events.ended();) events.next(std::chrono::seconds(30));
    ASSERT_EQ(job->state(), JobState::completed);
  }
  // b1 overtook a2: the second worker took it while a1 ran, and a2 waited for a1 to end.
  EXPECT_LT(when(*b1, EventType::started), when(*a1, EventType::completed));
  EXPECT_GE(when(*a2, EventType::started), when(*a1, EventType::completed));
}

TEST(EngineModels, NoBudgetKeepsEveryModelLoaded) {
  CountingLoader counting;
  auto options = tiny_options();
  options.loader = counting.loader();
  Engine engine(options);
  for (const auto* model : {"a", "b", "a", "b"}) ASSERT_EQ(run(engine, on(model))->state(), JobState::completed);
  EXPECT_EQ(counting.loads["a"], 1);
  EXPECT_EQ(counting.loads["b"], 1);
  EXPECT_EQ(engine.stats().loaded_models, 2u);
}

TEST(EngineModels, ABudgetUnloadsTheLeastRecentlyUsedIdleModel) {
  std::size_t one_model = 0;
  {
    Engine probe(tiny_options());
    run(probe, on("tiny"));
    one_model = probe.stats().loaded_model_bytes;
  }
  ASSERT_GT(one_model, 0u);
  CountingLoader counting;
  auto options = tiny_options();
  options.loader = counting.loader();
  options.model_memory_budget = one_model + one_model / 2;  // room for one
  Engine engine(options);
  for (const auto* model : {"a", "b", "b", "a"}) {
    ASSERT_EQ(run(engine, on(model))->state(), JobState::completed);
    EXPECT_EQ(engine.stats().loaded_models, 1u) << "after a job on " << model;
    EXPECT_LE(engine.stats().loaded_model_bytes, options.model_memory_budget);
  }
  EXPECT_EQ(counting.loads["a"], 2);  // unloaded for b, loaded again
  EXPECT_EQ(counting.loads["b"], 1);  // kept while it was the one in use
}

}  // namespace
}  // namespace darkroom::engine::testing
