// Time limits: a job past its deadline (JobRequest::timeout, capped by EngineOptions::job_timeout) ends
// with error{timeout} whether it is running or still queued, within one step.
#include "engine_fixture.hpp"

namespace darkroom::engine::testing {
namespace {

using namespace std::chrono_literals;

void expect_timed_out(const Job& job) {
  EXPECT_EQ(job.state(), JobState::failed);
  const auto events = all_events(job);
  EXPECT_EQ(terminal_count(events), 1);
  const auto* error = events.back().as<Error>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "timeout");
  EXPECT_NE(error->message.find("time limit"), std::string::npos) << error->message;
  EXPECT_TRUE(bodies<Completed>(events).empty());
}

// 200 steps of the tiny model take seconds; its load (once per process) is done first, so the jobs time
// out while they run.
TEST(EngineTimeout, ARunningJobEndsWithinAStepOfItsDeadline) {
  Engine engine(tiny_options());
  run(engine, tiny_request(1));
  auto request = tiny_request(200);
  request.timeout = 300ms;
  const auto job = run(engine, request);
  expect_timed_out(*job);
  const auto events = all_events(*job);
  EXPECT_FALSE(bodies<Progress>(events).empty());  // it ran, and was stopped while running
  EXPECT_LT(events.back().time_s, 5.0);
}

TEST(EngineTimeout, AQueuedJobEndsAtItsDeadlineWithoutRunning) {
  Engine engine(tiny_options());  // one worker
  auto blocker = engine.submit(tiny_request(200));
  auto request = tiny_request(2);
  request.timeout = 300ms;
  const auto queued = engine.submit(request);
  ASSERT_TRUE(queued->wait_for(10s));
  expect_timed_out(*queued);
  EXPECT_TRUE(bodies<Started>(all_events(*queued)).empty());
  EXPECT_EQ(queued->position(), 0);
  blocker->cancel();
  blocker->wait();
}

TEST(EngineTimeout, TheEnginesLimitCapsEveryJob) {
  auto options = tiny_options();
  options.job_timeout = 300ms;
  Engine engine(options);
  run(engine, tiny_request(1));
  auto request = tiny_request(200);
  request.timeout = 1h;  // asks for more than the engine allows
  const auto job = run(engine, request);
  ASSERT_TRUE(job->deadline());
  EXPECT_EQ(*job->deadline() - job->submitted_at(), 300ms);
  expect_timed_out(*job);
  const auto quick = run(engine, tiny_request(2));  // a job well inside the limit completes
  EXPECT_EQ(quick->state(), JobState::completed);
}

}  // namespace
}  // namespace darkroom::engine::testing
