#pragma once
// Who is watching the jobs that streaming clients submitted. A client that disconnects does not silently
// kill its job: the job keeps running for a grace period so the client can resume its stream, and is
// cancelled when nobody watches it by then (or at once, when the request asked for
// cancel_on_disconnect). Every stream of a job (SSE, msgpack, WebSocket) counts as a watcher.
// Event-loop thread only.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "darkroom/engine/job.hpp"

namespace darkroom::server {

class StreamWatchers {
 public:
  StreamWatchers(boost::asio::any_io_executor executor, std::chrono::milliseconds grace);

  // A watcher of a job: counted while this handle lives.
  class [[nodiscard]] Watch {
   public:
    Watch() = default;
    Watch(StreamWatchers* owner, std::shared_ptr<engine::Job> job);
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    ~Watch();

   private:
    void release();
    StreamWatchers* owner_ = nullptr;
    std::shared_ptr<engine::Job> job_;
  };

  // Puts a job under the rule above; its submitter's stream should watch() it right away.
  void adopt(const std::shared_ptr<engine::Job>& job, bool cancel_on_disconnect);
  Watch watch(const std::shared_ptr<engine::Job>& job);
  int watchers(const std::string& job_id) const;

 private:
  struct Adopted {
    std::weak_ptr<engine::Job> job;
    bool cancel_on_disconnect = false;
    int watchers = 0;
    uint64_t generation = 0;  // bumped on every change, so a stale grace timer does nothing
  };
  void unwatched(const std::string& job_id);
  void forget_finished();

  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds grace_;
  std::map<std::string, Adopted> adopted_;
  std::map<std::string, int> others_;  // watchers of jobs not adopted (for watchers())
};

}  // namespace darkroom::server
