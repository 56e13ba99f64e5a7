#include "darkroom/engine/subscription.hpp"

#include <atomic>
#include <mutex>
#include <thread>

namespace darkroom::engine {

Subscription::Subscription(std::shared_ptr<EventLog> log, uint64_t after_seq)
    : log_(std::move(log)), cursor_(after_seq) {}

std::optional<Event> Subscription::next(std::chrono::milliseconds timeout) {
  if (ended_ || stop_.stop_requested()) return std::nullopt;
  const auto now = EventLog::Clock::now();
  const bool forever =
      timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(EventLog::Clock::time_point::max() - now);
  auto event =
      log_->next_after(cursor_, forever ? EventLog::Clock::time_point::max() : now + timeout, stop_.get_token());
  if (event) {
    cursor_ = event->seq;
    ended_ = event->terminal();
  } else if (log_->closed() && cursor_ >= log_->last_seq()) {
    ended_ = true;  // started at or after the terminal event: nothing more will come
  }
  return event;
}

void Subscription::Iterator::advance() { current_ = sub_->next(std::chrono::milliseconds::max()); }

struct PushSubscription::State {
  State(std::shared_ptr<EventLog> log, EventCallback cb, uint64_t after)
      : sub(std::move(log), after), callback(std::move(cb)) {}

  void run() {
    dispatcher.store(std::this_thread::get_id());
    // next() without a timeout returns nothing only at the end or after cancel().
    while (auto event = sub.next(std::chrono::milliseconds::max())) {
      try {
        callback(*event);
      } catch (...) {
        error = std::current_exception();
        break;
      }
    }
    done.store(true);
  }
  bool on_dispatcher() const { return dispatcher.load() == std::this_thread::get_id(); }

  Subscription sub;
  EventCallback callback;
  std::thread thread;
  std::atomic<std::thread::id> dispatcher{};  // set by the thread itself before the first callback
  std::mutex join_mutex;
  std::exception_ptr error;  // written by the thread before it exits, read after join
  std::atomic<bool> done{false};
};

PushSubscription::PushSubscription(std::shared_ptr<EventLog> log, EventCallback callback, uint64_t after_seq)
    : state_(std::make_shared<State>(std::move(log), std::move(callback), after_seq)) {
  // The thread holds the state too: destroyed from inside the callback, the handle detaches and the state
  // lives until the callback returns.
  state_->thread = std::thread([state = state_] { state->run(); });
}

PushSubscription::PushSubscription(PushSubscription&&) noexcept = default;

PushSubscription& PushSubscription::operator=(PushSubscription&& other) noexcept {
  PushSubscription old(std::move(*this));
  state_ = std::move(other.state_);
  return *this;
}

PushSubscription::~PushSubscription() {
  if (!state_) return;
  cancel();
  if (state_->on_dispatcher()) {
    std::lock_guard lock(state_->join_mutex);
    state_->thread.detach();
    return;
  }
  std::lock_guard lock(state_->join_mutex);
  if (state_->thread.joinable()) state_->thread.join();
}

void PushSubscription::cancel() {
  if (state_) state_->sub.stop();
}

void PushSubscription::wait() {
  if (!state_ || state_->on_dispatcher()) return;
  std::lock_guard lock(state_->join_mutex);
  if (state_->thread.joinable()) state_->thread.join();
  if (state_->error) std::rethrow_exception(state_->error);
}

bool PushSubscription::finished() const { return !state_ || state_->done.load(); }

}  // namespace darkroom::engine
