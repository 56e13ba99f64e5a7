// What a job emits over real runs of the golden tiny model: order, sequence numbers, progress on every
// step, exactly one terminal event, errors as events.
#include "../pipeline/tiny_model.hpp"
#include "engine_fixture.hpp"

namespace darkroom::engine::testing {
namespace {

using sampling::SamplerKind;

TEST(EngineEvents, ACompletedJobInOrderWithContiguousSequenceNumbers) {
  Engine engine(tiny_options());
  run(engine, tiny_request(1));  // the engine loads its model (phase loading_model) once
  auto job = run(engine, tiny_request(4));
  ASSERT_EQ(job->state(), JobState::completed);
  const auto events = all_events(*job);
  using T = EventType;
  EXPECT_EQ(types(events), (std::vector<T>{T::queued, T::started, T::phase, T::phase, T::progress, T::progress,
                                           T::progress, T::progress, T::phase, T::completed}));
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, i + 1);
    if (i > 0) EXPECT_GE(events[i].time_s, events[i - 1].time_s);
  }
  EXPECT_EQ(events[0].as<Queued>()->position, 1);
  std::vector<std::string> phases;
  for (const auto& p : bodies<PhaseChanged>(events)) phases.push_back(p.phase);
  EXPECT_EQ(phases, (std::vector<std::string>{"encoding_prompt", "denoising", "decoding"}));

  const auto& completed = *events.back().as<Completed>();
  ASSERT_EQ(completed.images.size(), 1u);
  EXPECT_EQ(completed.images[0]->width, 64);
  EXPECT_EQ(completed.images[0]->height, 64);
  EXPECT_EQ(completed.seed, 42);
  for (const char* key : {"queued", "encoding_prompt", "denoising", "decoding", "total"})
    EXPECT_TRUE(completed.timings.contains(key)) << key;
  EXPECT_FALSE(completed.timings.contains("loading_model"));

  // The log a subscriber reads holds the same events (nothing to supersede here).
  EXPECT_EQ(job->events()->events_after(0).size(), events.size());
  EXPECT_TRUE(job->events()->closed());
}

TEST(EngineEvents, TheImageIsThePipelinesImage) {
  Engine engine(tiny_options());
  auto job = run(engine, tiny_request(6));
  const auto expected = golden::tiny_sd1(golden::TinyLayout::single_file)->generate(job->request().generation);
  EXPECT_EQ(job->events()->latest(EventType::completed)->as<Completed>()->images[0]->pixels, expected.images[0].pixels);
}

TEST(EngineEvents, ProgressOnEveryStepForEverySampler) {
  Engine engine(tiny_options());
  for (auto sampler :
       {SamplerKind::euler, SamplerKind::euler_a, SamplerKind::dpmpp_2m, SamplerKind::ddim, SamplerKind::lcm}) {
    SCOPED_TRACE(std::string(sampling::sampler_name(sampler)));
    auto job = run(engine, tiny_request(7, sampler));
    ASSERT_EQ(job->state(), JobState::completed);
    const auto progress = bodies<Progress>(all_events(*job));
    ASSERT_EQ(progress.size(), 7u);
    for (int i = 0; i < 7; ++i) {
      EXPECT_EQ(progress[i].step, i + 1);
      EXPECT_EQ(progress[i].total, 7);
      EXPECT_GT(progress[i].sigma, 0);
      EXPECT_GE(progress[i].eta_s, 0);
      if (i > 0) {
        EXPECT_GE(progress[i].elapsed_s, progress[i - 1].elapsed_s);
        EXPECT_LT(progress[i].sigma, progress[i - 1].sigma);  // sigmas fall step by step
      }
    }
  }
}

// img2img runs the tail of the schedule: totals and previews count the steps that actually run.
TEST(EngineEvents, ImageToImageCountsTheStepsThatRun) {
  Engine engine(tiny_options());
  auto request = tiny_request(10);
  request.generation.init_image = image::Image{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3, 90)};
  request.generation.strength = 0.5;
  request.preview.method = preview::Method::latent2rgb;
  request.preview.count = 2;
  auto job = run(engine, request);
  ASSERT_EQ(job->state(), JobState::completed);
  const auto events = all_events(*job);
  const auto progress = bodies<Progress>(events);
  ASSERT_EQ(progress.size(), 5u);
  EXPECT_EQ(progress.back().step, 5);
  EXPECT_EQ(progress.back().total, 5);
  std::vector<int> preview_steps;
  for (const auto& p : bodies<Preview>(events)) preview_steps.push_back(p.step);
  EXPECT_EQ(preview_steps.back(), 5);
}

TEST(EngineEvents, EtaComesFromMeasuredStepsAndTheMeasuredDecode) {
  Engine engine(tiny_options());
  auto first = run(engine, tiny_request(10));
  const auto p1 = bodies<Progress>(all_events(*first));
  // No decode measured yet: the last step has nothing left.
  EXPECT_EQ(p1.back().eta_s, 0);
  // Mid-run: remaining steps at the measured mean step time.
  const double mean_step = p1[4].elapsed_s / 5;  // elapsed includes prompt encoding: an upper bound
  EXPECT_GT(p1[4].eta_s, 0);
  EXPECT_LE(p1[4].eta_s, 5 * mean_step * 1.0001);

  auto second = run(engine, tiny_request(10));
  const auto decode_s = first->events()->latest(EventType::completed)->as<Completed>()->timings.at("decoding");
  const auto p2 = bodies<Progress>(all_events(*second));
  EXPECT_NEAR(p2.back().eta_s, decode_s, 1e-9);  // same size: the first job's decode time
}

TEST(EngineEvents, LoadingModelPhaseWhileTheModelLoads) {
  EngineOptions options;
  options.load.vocab = golden::vocab_file();
  options.event_log = tiny_options().event_log;
  Engine engine(options);
  auto request = tiny_request(2);
  request.model = golden::tiny_sd1_path(golden::TinyLayout::single_file).string();
  auto first = run(engine, request);
  auto second = run(engine, request);
  ASSERT_EQ(first->state(), JobState::completed);
  ASSERT_EQ(second->state(), JobState::completed);
  const auto phases1 = bodies<PhaseChanged>(all_events(*first));
  const auto phases2 = bodies<PhaseChanged>(all_events(*second));
  ASSERT_EQ(phases1.size(), 4u);
  EXPECT_EQ(phases1[0].phase, "loading_model");
  EXPECT_EQ(all_events(*first)[2].as<PhaseChanged>()->phase, "loading_model");  // right after started
  EXPECT_TRUE(first->events()->latest(EventType::completed)->as<Completed>()->timings.contains("loading_model"));
  ASSERT_EQ(phases2.size(), 3u);  // loaded once, shared
  EXPECT_EQ(phases2[0].phase, "encoding_prompt");
}

TEST(EngineEvents, ConcurrentJobsShareOneLoad) {
  std::atomic<int> loads{0};
  auto options = tiny_options();
  options.workers = 3;
  options.loader = [&, inner = options.loader](const std::string& model) {
    ++loads;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return inner(model);
  };
  Engine engine(options);
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(engine.submit(tiny_request(2)));
  for (auto& job : jobs) {
    job->wait();
    EXPECT_EQ(job->state(), JobState::completed);
    EXPECT_EQ(bodies<PhaseChanged>(all_events(*job)).front().phase, "loading_model");  // all waited for it
  }
  EXPECT_EQ(loads.load(), 1);
}

// Bad requests and models end the job with one error event naming the problem; nothing throws.
TEST(EngineEvents, ErrorsAreTerminalEvents) {
  Engine engine(tiny_options());
  struct Case {
    std::string name;
    JobRequest request;
    std::string code;
    std::string mentions;
  };
  std::vector<Case> cases;
  cases.push_back({"width", tiny_request(4), "invalid_request", "width"});
  cases.back().request.generation.width = 65;
  cases.push_back({"steps", tiny_request(0), "invalid_request", "steps"});
  cases.push_back({"limits", tiny_request(4), "invalid_request", "steps"});
  cases.back().request.generation.steps = 1000;
  cases.push_back({"preview", tiny_request(4), "invalid_request", "preview."});
  cases.back().request.preview.method = preview::Method::latent2rgb;
  cases.back().request.preview.count = -1;
  cases.push_back({"model", tiny_request(4), "model_error", "no-such-model"});
  cases.back().request.model = "no-such-model";
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto job = run(engine, c.request);
    EXPECT_EQ(job->state(), JobState::failed);
    const auto events = all_events(*job);
    EXPECT_EQ(terminal_count(events), 1);
    const auto* error = events.back().as<Error>();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, c.code);
    EXPECT_NE(error->message.find(c.mentions), std::string::npos) << error->message;
    EXPECT_TRUE(bodies<Progress>(events).empty());
  }
  // The engine is fine afterwards.
  EXPECT_EQ(run(engine, tiny_request(2))->state(), JobState::completed);
}

}  // namespace
}  // namespace darkroom::engine::testing
