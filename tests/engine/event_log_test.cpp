// The event log and subscriptions on their own, with synthetic events (no model): ordering, superseding,
// replay, blocking and waking, many readers, slow readers, push delivery and its cancellation.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "darkroom/engine/subscription.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "support/wait.hpp"

namespace darkroom::engine {
namespace {

using namespace std::chrono_literals;
using darkroom::testing::wait_until;

std::shared_ptr<const preview::PreviewImage> picture(int side) {
  image::Image rgb{side, side, 3, std::vector<uint8_t>(static_cast<std::size_t>(side) * side * 3, 128)};
  return std::make_shared<const preview::PreviewImage>(std::move(rgb));
}

Progress progress(int step, int total = 100) { return Progress{step, total, 1.0, 0.0, 0.0}; }
Preview preview_at(int step, int index, int side = 8) {
  return Preview{step, 100, 1.0, index, picture(side), "latent2rgb"};
}

std::vector<EventType> types(const std::vector<Event>& events) {
  std::vector<EventType> out;
  for (const auto& e : events) out.push_back(e.type());
  return out;
}

TEST(EventLog, AssignsSequenceNumbersInOrder) {
  MemoryEventLog log;
  EXPECT_EQ(log.append(Queued{1}), 1u);
  EXPECT_EQ(log.append(Started{}), 2u);
  EXPECT_EQ(log.append(progress(1)), 3u);
  EXPECT_EQ(log.last_seq(), 3u);
  const auto events = log.events_after(0);
  ASSERT_EQ(events.size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, i + 1);
    if (i > 0) EXPECT_GE(events[i].time_s, events[i - 1].time_s);
  }
  EXPECT_EQ(log.events_after(2).front().seq, 3u);
  EXPECT_TRUE(log.events_after(3).empty());
}

TEST(EventLog, PreviewsAndQueuePositionsSupersedeTheirPredecessor) {
  MemoryEventLog log;
  log.append(Queued{3});
  log.append(Queued{2});  // supersedes seq 1
  log.append(Started{});
  log.append(progress(1));
  log.append(preview_at(1, 0));
  log.append(progress(2));
  log.append(preview_at(2, 1));  // supersedes seq 5
  log.append(progress(3));
  log.append(Completed{});
  const auto events = log.events_after(0);
  std::vector<uint64_t> seqs;
  for (const auto& e : events) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4, 6, 7, 8, 9}));
  EXPECT_EQ(events[0].as<Queued>()->position, 2);
  EXPECT_EQ(events[4].as<Preview>()->index, 1);
  EXPECT_EQ(log.stats().previews, 1u);
  EXPECT_EQ(log.stats().appended, 9u);
  EXPECT_EQ(log.latest(EventType::progress)->as<Progress>()->step, 3);
  EXPECT_EQ(log.latest(EventType::preview)->seq, 7u);
  EXPECT_FALSE(log.latest(EventType::error));
  // Superseding is not trimming: a resume from any cursor misses nothing else.
  EXPECT_EQ(log.oldest_seq(), 1u);
}

TEST(EventLog, TerminalEventClosesTheLog) {
  MemoryEventLog log;
  log.append(Started{});
  EXPECT_FALSE(log.closed());
  log.append(Error{"invalid_request", "width: must be a multiple of 8"});
  EXPECT_TRUE(log.closed());
  EXPECT_THROW(log.append(progress(1)), std::logic_error);
  EXPECT_THROW(log.append(Cancelled{"requested"}), std::logic_error);
}

TEST(EventLog, CapTrimsTheOldestAndMovesOldestSeq) {
  MemoryEventLog log(4);
  for (int step = 1; step <= 10; ++step) log.append(progress(step));
  EXPECT_EQ(log.stats().events, 4u);
  EXPECT_EQ(log.oldest_seq(), 7u);
  EXPECT_EQ(log.events_after(0).front().seq, 7u);
}

TEST(EventLog, ListenersHearEveryAppendUntilReset) {
  MemoryEventLog log;
  std::atomic<int> heard{0};
  auto listening = log.listen([&] {
    EXPECT_GT(log.last_seq(), 0u);  // the event is readable by the time the listener runs
    ++heard;
  });
  log.append(progress(1));
  std::thread writer([&] { log.append(progress(2)); });
  writer.join();
  EXPECT_EQ(heard, 2);
  listening.reset();
  log.append(progress(3));
  EXPECT_EQ(heard, 2);
}

// The log owns its listeners' callbacks; a handle only names its registration (it holds the listener set
// weakly). So destroying the log releases the callbacks, and what they captured, while a handle lives on,
// and resetting that handle afterwards neither touches the destroyed log nor calls the callback.
TEST(EventLog, AListeningHandleMayOutliveItsLog) {
  const auto calls = std::make_shared<int>(0);  // its use_count tells who holds the callback
  Listening listening;
  {
    MemoryEventLog log;
    listening = log.listen([calls] { ++*calls; });
    EXPECT_EQ(calls.use_count(), 2);  // this test's, and the log's copy of the callback
    log.append(progress(1));
    EXPECT_EQ(*calls, 1);
  }
  EXPECT_EQ(calls.use_count(), 1);  // the log released the callback, though the handle lives
  listening.reset();                // must not touch the destroyed log
  EXPECT_EQ(*calls, 1);
  EXPECT_EQ(calls.use_count(), 1);
}

// Event times count from the log's origin, which is what a job reports as its submission time: events of
// different jobs compare on one clock only if both agree.
TEST(EventLog, EventTimesCountFromItsOrigin) {
  using Clock = std::chrono::steady_clock;
  const auto made_after = Clock::now();
  MemoryEventLog log;
  const auto made_before = Clock::now();
  EXPECT_LE(made_after, log.origin());
  EXPECT_LE(log.origin(), made_before);
  std::this_thread::sleep_for(2ms);
  const auto appended_after = Clock::now();
  log.append(Started{});
  const auto appended_before = Clock::now();
  const auto at = log.origin() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(log.events_after(0).front().time_s));
  EXPECT_LE(appended_after - at, 1us);  // a double of seconds keeps well under a microsecond here
  EXPECT_LE(at - appended_before, 1us);
}

TEST(Subscription, ReadsInOrderAndEndsAfterTheTerminalEvent) {
  auto log = std::make_shared<MemoryEventLog>();
  log->append(Started{});
  log->append(progress(1));
  log->append(Completed{});
  Subscription sub(log);
  EXPECT_EQ(sub.next(0ms)->type(), EventType::started);
  EXPECT_EQ(sub.next(0ms)->type(), EventType::progress);
  EXPECT_FALSE(sub.ended());
  EXPECT_EQ(sub.next(0ms)->type(), EventType::completed);
  EXPECT_TRUE(sub.ended());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub.next(5s));  // immediately, not after the timeout
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
}

TEST(Subscription, ReplaysFromASequenceNumber) {
  auto log = std::make_shared<MemoryEventLog>();
  for (int step = 1; step <= 5; ++step) log->append(progress(step));
  log->append(Cancelled{"requested"});
  Subscription late(log, 3);
  std::vector<uint64_t> seqs;
  for (const Event& e : late) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_TRUE(late.ended());
  // A cursor at the terminal event: nothing more, and the subscription knows it.
  Subscription done(log, 6);
  EXPECT_FALSE(done.next(10ms));
  EXPECT_TRUE(done.ended());
}

TEST(Subscription, TimesOutWaitsForAppendsAndStops) {
  auto log = std::make_shared<MemoryEventLog>();
  Subscription sub(log);
  auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub.next(50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 50ms);

  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    log->append(Started{});
  });
  auto event = sub.next(10s);
  writer.join();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->seq, 1u);

  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    sub.stop();
  });
  before = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub.next(10s));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  EXPECT_TRUE(sub.stopped());
  log->append(progress(1));
  EXPECT_FALSE(sub.next(0ms));  // stopped for good
}

// One writer, many pull and push readers at their own pace: each sees every progress event once, in
// order, previews in increasing index order, and the terminal event last.
TEST(Subscription, ManyReadersEachSeeEveryEventOnceInOrder) {
  constexpr int steps = 2000;
  auto log = std::make_shared<MemoryEventLog>();
  struct Seen {
    std::vector<int> steps;
    std::vector<int> preview_indices;
    std::vector<uint64_t> seqs;
    int terminals = 0;
    bool terminal_last = false;
    void add(const Event& e) {
      seqs.push_back(e.seq);
      if (auto p = e.as<Progress>()) steps.push_back(p->step);
      if (auto p = e.as<Preview>()) preview_indices.push_back(p->index);
      if (e.terminal()) ++terminals;
      terminal_last = e.terminal();
    }
  };
  constexpr int pull_readers = 6;
  constexpr int push_readers = 6;
  std::vector<Seen> pulled(pull_readers), pushed(push_readers);
  std::vector<std::thread> threads;
  for (int r = 0; r < pull_readers; ++r)
    threads.emplace_back([&, r] {
      Subscription sub(log);
      for (const Event& e : sub) {
        pulled[r].add(e);
        if (r % 2 == 1 && e.seq % 97 == 0) std::this_thread::sleep_for(1ms);  // some read slowly
      }
    });
  std::vector<PushSubscription> pushes;
  for (int r = 0; r < push_readers; ++r)
    pushes.push_back(PushSubscription(log, [&, r](const Event& e) { pushed[r].add(e); }));

  log->append(Started{});
  for (int step = 1; step <= steps; ++step) {
    log->append(progress(step, steps));
    if (step % 3 == 0) log->append(preview_at(step, step / 3 - 1));
  }
  log->append(Completed{});
  for (auto& t : threads) t.join();
  for (auto& p : pushes) p.wait();

  std::vector<int> expected(steps);
  for (int i = 0; i < steps; ++i) expected[i] = i + 1;
  auto check = [&](const Seen& seen) {
    EXPECT_EQ(seen.steps, expected);
    EXPECT_TRUE(std::is_sorted(seen.preview_indices.begin(), seen.preview_indices.end()));
    EXPECT_TRUE(std::adjacent_find(seen.seqs.begin(), seen.seqs.end(), std::greater_equal<>()) == seen.seqs.end());
    EXPECT_EQ(seen.terminals, 1);
    EXPECT_TRUE(seen.terminal_last);
    ASSERT_FALSE(seen.preview_indices.empty());
    EXPECT_EQ(seen.preview_indices.back(), steps / 3 - 1);  // the newest preview always arrives
  };
  for (const auto& seen : pulled) check(seen);
  for (const auto& seen : pushed) check(seen);
}

// A reader that does not read at all while a long job appends large previews: the log keeps one.
TEST(Subscription, AStalledReaderDoesNotGrowTheLog) {
  auto log = std::make_shared<MemoryEventLog>();
  Subscription stalled(log);
  ASSERT_FALSE(stalled.next(0ms));
  std::size_t max_bytes = 0;
  for (int step = 1; step <= 500; ++step) {
    log->append(progress(step, 500));
    log->append(preview_at(step, step - 1, 256));  // 192 KiB of pixels each
    max_bytes = std::max(max_bytes, log->stats().bytes);
  }
  const auto stats = log->stats();
  EXPECT_EQ(stats.previews, 1u);
  EXPECT_EQ(stats.events, 501u);
  EXPECT_LT(max_bytes, 256u * 256 * 3 + 501 * 256);
  // The reader, once it reads, gets every progress event and only the newest preview.
  int progress_events = 0, previews = 0;
  while (auto e = stalled.next(0ms)) {
    progress_events += e->type() == EventType::progress;
    if (auto p = e->as<Preview>()) {
      ++previews;
      EXPECT_EQ(p->index, 499);
    }
  }
  EXPECT_EQ(progress_events, 500);
  EXPECT_EQ(previews, 1);
}

TEST(PushSubscription, DeliversOnItsOwnThread) {
  auto log = std::make_shared<MemoryEventLog>();
  std::mutex mutex;
  std::vector<std::thread::id> threads;
  PushSubscription push(log, [&](const Event&) {
    std::lock_guard lock(mutex);
    threads.push_back(std::this_thread::get_id());
  });
  log->append(Started{});
  log->append(Completed{});
  push.wait();
  EXPECT_TRUE(push.finished());
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_NE(threads[0], std::this_thread::get_id());
  EXPECT_EQ(threads[0], threads[1]);
}

TEST(PushSubscription, CancelFromInsideTheCallbackStopsDelivery) {
  auto log = std::make_shared<MemoryEventLog>();
  std::atomic<int> calls{0};
  std::unique_ptr<PushSubscription> push;
  std::mutex mutex;  // push is assigned before the first event is appended; the mutex orders that for TSan
  {
    std::lock_guard lock(mutex);
    push = std::make_unique<PushSubscription>(log, [&](const Event&) {
      if (++calls == 2) {
        std::lock_guard lock(mutex);
        push->cancel();
      }
    });
  }
  for (int step = 1; step <= 10; ++step) log->append(progress(step));
  push->wait();
  EXPECT_EQ(calls.load(), 2);
}

TEST(PushSubscription, DestroyingTheHandleInsideTheCallbackIsSafe) {
  auto log = std::make_shared<MemoryEventLog>();
  std::atomic<int> calls{0};
  std::atomic<bool> destroyed{false};
  std::mutex mutex;
  std::unique_ptr<PushSubscription> push;
  {
    std::lock_guard lock(mutex);
    push = std::make_unique<PushSubscription>(log, [&](const Event&) {
      ++calls;
      std::lock_guard lock(mutex);
      push.reset();  // detaches: this thread finishes the callback and exits
      destroyed = true;
    });
  }
  log->append(Started{});
  EXPECT_TRUE(wait_until([&] { return destroyed.load(); }, 10s, 5ms)) << "the callback never ran";
  { std::lock_guard lock(mutex); }  // the callback has left its critical section
  log->append(progress(1));
  // A measurement of time, not a wait for a condition: a delivery of this event would come within it, and
  // none must.
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(calls.load(), 1);
}

TEST(PushSubscription, WaitRethrowsTheCallbacksException) {
  auto log = std::make_shared<MemoryEventLog>();
  PushSubscription push(log, [](const Event&) { throw std::runtime_error("callback broke"); });
  log->append(Started{});
  EXPECT_THROW(push.wait(), std::runtime_error);
  EXPECT_TRUE(push.finished());
}

TEST(PushSubscription, DestroyingTheHandleCancelsAWaitingSubscription) {
  auto log = std::make_shared<MemoryEventLog>();
  const auto before = std::chrono::steady_clock::now();
  {
    PushSubscription push(log, [](const Event&) {});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

}  // namespace
}  // namespace darkroom::engine
