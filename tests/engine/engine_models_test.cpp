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
