#include "darkroom/preview/throttle.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

namespace darkroom::preview {
namespace {

// The steps previewed in a run of `total` steps, each taking step_s seconds (exact in binary).
std::vector<int> schedule(const PreviewOptions& options, int total, double step_s = 0.125) {
  PreviewThrottle throttle(options, total);
  std::vector<int> steps;
  for (int step = 0; step < total; ++step)
    if (throttle.due(step, (step + 1) * step_s)) steps.push_back(step);
  return steps;
}

std::vector<int> range(int first, int end, int stride = 1) {
  std::vector<int> out;
  for (int s = first; s < end; s += stride) out.push_back(s);
  return out;
}
std::vector<int> plus(std::vector<int> steps, int last) {
  steps.push_back(last);
  return steps;
}

PreviewOptions every(int n) {
  PreviewOptions o;
  o.every_n_steps = n;
  return o;
}
PreviewOptions count(int n) {
  PreviewOptions o;
  o.count = n;
  return o;
}
PreviewOptions interval(int ms) {
  PreviewOptions o;
  o.min_interval_ms = ms;
  return o;
}

TEST(PreviewThrottle, NoThrottleIsEveryStep) {
  for (int total : {1, 2, 4, 20, 50}) EXPECT_EQ(schedule(PreviewOptions{}, total), range(0, total)) << total;
}

TEST(PreviewThrottle, EveryNSteps) {
  EXPECT_EQ(schedule(every(1), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(every(1), 20), range(0, 20));
  EXPECT_EQ(schedule(every(5), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(every(5), 2), (std::vector<int>{1}));
  EXPECT_EQ(schedule(every(5), 4), (std::vector<int>{3}));
  EXPECT_EQ(schedule(every(5), 20), (std::vector<int>{4, 9, 14, 19}));
  EXPECT_EQ(schedule(every(5), 50), (std::vector<int>{4, 9, 14, 19, 24, 29, 34, 39, 44, 49}));
  EXPECT_EQ(schedule(every(3), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(every(3), 2), (std::vector<int>{1}));
  EXPECT_EQ(schedule(every(3), 4), (std::vector<int>{2, 3}));
  EXPECT_EQ(schedule(every(3), 20), (std::vector<int>{2, 5, 8, 11, 14, 17, 19}));
  EXPECT_EQ(schedule(every(3), 50), plus(range(2, 50, 3), 49));  // 2 5 ... 47, then the last
  EXPECT_EQ(schedule(every(2), 2), (std::vector<int>{1}));
  EXPECT_EQ(schedule(every(2), 4), (std::vector<int>{1, 3}));
  EXPECT_EQ(schedule(every(100), 50), (std::vector<int>{49}));
}

TEST(PreviewThrottle, CountIsEvenlySpacedEndingAtTheLastStep) {
  EXPECT_EQ(schedule(count(1), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(count(1), 2), (std::vector<int>{1}));
  EXPECT_EQ(schedule(count(1), 4), (std::vector<int>{3}));
  EXPECT_EQ(schedule(count(1), 20), (std::vector<int>{19}));
  EXPECT_EQ(schedule(count(1), 50), (std::vector<int>{49}));
  EXPECT_EQ(schedule(count(3), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(count(3), 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(schedule(count(3), 4), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(schedule(count(3), 20), (std::vector<int>{6, 13, 19}));
  EXPECT_EQ(schedule(count(3), 50), (std::vector<int>{16, 33, 49}));
  EXPECT_EQ(schedule(count(4), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(count(4), 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(schedule(count(4), 4), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(schedule(count(4), 20), (std::vector<int>{4, 9, 14, 19}));
  EXPECT_EQ(schedule(count(4), 50), (std::vector<int>{12, 24, 37, 49}));
  EXPECT_EQ(schedule(count(7), 20), (std::vector<int>{2, 5, 8, 11, 14, 17, 19}));
  EXPECT_EQ(schedule(count(50), 50), range(0, 50));
  EXPECT_EQ(schedule(count(1000000000), 20), range(0, 20));  // no work proportional to the count
}

TEST(PreviewThrottle, MinIntervalFirstStepThenSpacedThenLast) {
  // Steps end every 0.125 s: with 300 ms the third step after a preview is the first one due.
  EXPECT_EQ(schedule(interval(300), 1), (std::vector<int>{0}));
  EXPECT_EQ(schedule(interval(300), 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(schedule(interval(300), 4), (std::vector<int>{0, 3}));
  EXPECT_EQ(schedule(interval(300), 20), (std::vector<int>{0, 3, 6, 9, 12, 15, 18, 19}));
  EXPECT_EQ(schedule(interval(300), 50), plus(range(0, 50, 3), 49));  // 0 3 ... 48, then the last
  // Exactly the interval counts as enough.
  EXPECT_EQ(schedule(interval(250), 20), plus(range(0, 20, 2), 19));
  // Slower than the interval: every step.
  EXPECT_EQ(schedule(interval(100), 20), range(0, 20));
  // Much longer than the run: first and last only.
  EXPECT_EQ(schedule(interval(60000), 50), (std::vector<int>{0, 49}));
}

TEST(PreviewThrottle, MinIntervalCountsFromTheLastPreviewNotTheLastStep) {
  PreviewThrottle throttle(interval(1000), 10);
  EXPECT_TRUE(throttle.due(0, 5.0));
  EXPECT_FALSE(throttle.due(1, 5.6));
  EXPECT_FALSE(throttle.due(2, 5.9));
  EXPECT_TRUE(throttle.due(3, 6.0));
  EXPECT_FALSE(throttle.due(4, 6.99));
  EXPECT_TRUE(throttle.due(5, 9.0));  // a slow step
  EXPECT_TRUE(throttle.due(6, 10.5));
  EXPECT_FALSE(throttle.due(7, 10.6));
  EXPECT_FALSE(throttle.due(8, 10.7));
  EXPECT_TRUE(throttle.due(9, 10.8));  // the last step always
}

TEST(PreviewThrottle, EveryRuleGivesShortRunsAPreview) {
  for (int total : {1, 2, 3, 4})
    for (const auto& options : {PreviewOptions{}, every(5), every(50), count(1), count(10), interval(100000)}) {
      const auto steps = schedule(options, total);
      ASSERT_FALSE(steps.empty()) << total;
      EXPECT_EQ(steps.back(), total - 1);
    }
}

TEST(PreviewThrottle, RejectsBadStepsAndTotals) {
  EXPECT_THROW(PreviewThrottle(PreviewOptions{}, 0), std::invalid_argument);
  PreviewThrottle throttle(PreviewOptions{}, 4);
  EXPECT_THROW(throttle.due(4, 0), std::out_of_range);
  EXPECT_THROW(throttle.due(-1, 0), std::out_of_range);
}

}  // namespace
}  // namespace darkroom::preview
