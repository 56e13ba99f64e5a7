// Cancellation (queued, running, from another thread, from a callback, racing completion), the queue
// (positions as it moves, the limit) and shutdown, over real runs.
#include <random>
#include <thread>

#include "engine_fixture.hpp"

namespace darkroom::engine::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void wait_until_step(Job& job, int step) {
  auto sub = job.subscribe();
  for (const Event& e : sub)
    if (auto p = e.as<Progress>(); p && p->step >= step) return;
}

// Progress events appended after `seq`: the steps that still ended after a cancellation.
int progress_after(const Job& job, uint64_t seq) {
  int n = 0;
  for (const auto& e : all_events(job)) n += e.seq > seq && e.type() == EventType::progress;
  return n;
}

void expect_cancelled(const Job& job, const std::string& reason) {
  EXPECT_EQ(job.state(), JobState::cancelled);
  const auto events = all_events(job);
  EXPECT_EQ(terminal_count(events), 1);
  ASSERT_TRUE(events.back().as<Cancelled>());
  EXPECT_EQ(events.back().as<Cancelled>()->reason, reason);
  EXPECT_TRUE(bodies<Completed>(events).empty());
}

TEST(EngineCancel, FromAnotherThreadWithinOneStep) {
  Engine engine(tiny_options());
  auto job = engine.submit(tiny_request(200));
  wait_until_step(*job, 5);
  const auto before = Clock::now();
  job->cancel();
  const uint64_t seq = job->events()->last_seq();
  job->wait();
  const double latency = std::chrono::duration<double>(Clock::now() - before).count();
  expect_cancelled(*job, "requested");
  EXPECT_LE(progress_after(*job, seq), 1);  // the step in flight may finish; none starts
  const auto progress = bodies<Progress>(all_events(*job));
  const double step_s = progress.back().elapsed_s / progress.back().step;
  std::cout << "cancel -> cancelled event: " << latency * 1e3 << " ms (mean step " << step_s * 1e3 << " ms, "
            << progress.size() << " of 200 steps ran)\n";
  EXPECT_LT(progress.size(), 200u);
}

TEST(EngineCancel, FromInsideAPushCallbackWithinOneStep) {
  Engine engine(tiny_options());
  auto job = engine.submit(tiny_request(200));
  std::atomic<uint64_t> seq_at_cancel{0};
  auto push = job->on_event([&, job](const Event& e) {
    if (auto p = e.as<Progress>(); p && p->step == 5) {
      job->cancel();
      seq_at_cancel = job->events()->last_seq();
    }
  });
  push.wait();
  job->wait();
  expect_cancelled(*job, "requested");
  EXPECT_LE(progress_after(*job, seq_at_cancel.load()), 1);
}

TEST(EngineCancel, AFinishedJobStaysFinished) {
  Engine engine(tiny_options());
  auto job = run(engine, tiny_request(2));
  const auto count = all_events(*job).size();
  job->cancel();
  EXPECT_EQ(job->state(), JobState::completed);
  EXPECT_EQ(all_events(*job).size(), count);
}

// Cancels fired at random moments from several threads at once, racing each job's completion: every job
// ends with exactly one terminal event, the last one, matching its state.
TEST(EngineCancel, ExactlyOneTerminalEventWhateverTheRace) {
  auto options = tiny_options();
  options.workers = 2;
  Engine engine(options);
  std::mt19937 random(7);
  std::vector<std::shared_ptr<Job>> jobs;
  std::vector<std::thread> cancellers;
  for (int i = 0; i < 24; ++i) {
    auto job = engine.submit(tiny_request(3));
    jobs.push_back(job);
    for (int t = 0; t < 2; ++t)
      cancellers.emplace_back([job, delay = std::chrono::microseconds(random() % 600000)] {
        std::this_thread::sleep_for(delay);
        job->cancel();
      });
  }
  for (auto& t : cancellers) t.join();
  int cancelled = 0, completed = 0;
  for (auto& job : jobs) {
    job->wait();
    const auto events = all_events(*job);
    EXPECT_EQ(terminal_count(events), 1);
    EXPECT_TRUE(events.back().terminal());
    const bool was_cancelled = events.back().type() == EventType::cancelled;
    EXPECT_EQ(job->state(), was_cancelled ? JobState::cancelled : JobState::completed);
    cancelled += was_cancelled;
    completed += !was_cancelled;
  }
  std::cout << "racing cancels: " << cancelled << " cancelled, " << completed << " completed\n";
}

std::vector<int> positions(const Job& job) {
  std::vector<int> out;
  for (const auto& q : bodies<Queued>(all_events(job))) out.push_back(q.position);
  return out;
}

TEST(EngineQueue, PositionsMoveAndQueuedJobsCancel) {
  Engine engine(tiny_options());  // one worker
  auto a = engine.submit(tiny_request(200));
  wait_until_step(*a, 1);
  auto b = engine.submit(tiny_request(2));
  auto c = engine.submit(tiny_request(2));
  auto d = engine.submit(tiny_request(2));
  EXPECT_EQ(b->position(), 1);
  EXPECT_EQ(d->position(), 3);
  EXPECT_EQ(engine.stats().queued, 3u);
  EXPECT_EQ(engine.stats().running, 1u);

  b->cancel();  // leaves the queue at once
  EXPECT_EQ(b->state(), JobState::cancelled);
  EXPECT_EQ(types(all_events(*b)), (std::vector<EventType>{EventType::queued, EventType::cancelled}));
  EXPECT_EQ(c->position(), 1);
  EXPECT_EQ(d->position(), 2);

  a->cancel();
  d->wait();
  expect_cancelled(*a, "requested");
  EXPECT_EQ(c->state(), JobState::completed);
  EXPECT_EQ(d->state(), JobState::completed);
  EXPECT_EQ(positions(*c), (std::vector<int>{2, 1}));
  EXPECT_EQ(positions(*d), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(all_events(*d)[3].type(), EventType::started);
}

TEST(EngineQueue, FullQueueThrowsQueueFull) {
  auto options = tiny_options();
  options.max_queued = 2;
  Engine engine(options);
  auto a = engine.submit(tiny_request(200));
  wait_until_step(*a, 1);  // running: no longer waiting
  auto b = engine.submit(tiny_request(2));
  auto c = engine.submit(tiny_request(2));
  try {
    engine.submit(tiny_request(2));
    ADD_FAILURE() << "no QueueFull";
  } catch (const QueueFull& full) {
    EXPECT_EQ(full.limit(), 2u);
  }
  b->cancel();
  auto d = engine.submit(tiny_request(2));  // room again
  EXPECT_EQ(d->position(), 2);
  a->cancel();
  d->wait();
  EXPECT_EQ(d->state(), JobState::completed);
}

TEST(EngineShutdown, CancelsQueuedAndRunningJobs) {
  Engine engine(tiny_options());
  auto a = engine.submit(tiny_request(200));
  wait_until_step(*a, 2);
  auto b = engine.submit(tiny_request(2));
  engine.shutdown();
  EXPECT_TRUE(a->finished());
  EXPECT_TRUE(b->finished());
  expect_cancelled(*a, "shutdown");
  expect_cancelled(*b, "shutdown");
  EXPECT_THROW(engine.submit(tiny_request(2)), EngineStopped);
  engine.shutdown();  // again: nothing to do
}

TEST(EngineShutdown, FromInsideAPushCallback) {
  auto engine = std::make_unique<Engine>(tiny_options());
  auto job = engine->submit(tiny_request(200));
  auto push = job->on_event([&](const Event& e) {
    if (auto p = e.as<Progress>(); p && p->step == 3) engine->shutdown();
  });
  push.wait();
  expect_cancelled(*job, "shutdown");
}

// A 1024x1024 step of the tiny model takes minutes, a 512x512 decode long enough to catch: a cancel (or a
// shutdown) reaches inside either, at the next block boundary, instead of waiting for it to end.
class EngineCancelInside : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineCancelInside, AStepOrTheDecode) {
  const std::string phase = GetParam();
  Engine engine(tiny_options());
  auto request = tiny_request(1);
  request.generation.width = request.generation.height = phase == "denoising" ? 1024 : 512;
  auto job = engine.submit(request);
  auto sub = job->subscribe();
  for (const Event& e : sub)
    if (auto p = e.as<PhaseChanged>(); p && p->phase == phase) break;
  const auto before = Clock::now();
  job->cancel();
  job->wait();
  const double latency = std::chrono::duration<double>(Clock::now() - before).count();
  expect_cancelled(*job, "requested");
  if (phase == "denoising") EXPECT_TRUE(bodies<Progress>(all_events(*job)).empty()) << "the step in flight stopped";
  std::cout << "cancel inside " << phase << " at " << request.generation.width << "x" << request.generation.height
            << ": " << latency * 1e3 << " ms\n";
  EXPECT_LT(latency, 2.0);  // one block of the tiny model; generous for a loaded 2-core host
}

INSTANTIATE_TEST_SUITE_P(Phases, EngineCancelInside, ::testing::Values("denoising", "decoding"));

TEST(EngineCancel, ShutdownReachesInsideAStep) {
  Engine engine(tiny_options());
  auto request = tiny_request(1);
  request.generation.width = request.generation.height = 1024;
  auto job = engine.submit(request);
  auto sub = job->subscribe();
  for (const Event& e : sub)
    if (auto p = e.as<PhaseChanged>(); p && p->phase == "denoising") break;
  const auto before = Clock::now();
  engine.shutdown();  // joins the workers
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - before).count(), 2.0);
  expect_cancelled(*job, "shutdown");
}

}  // namespace
}  // namespace darkroom::engine::testing
