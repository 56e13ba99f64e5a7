#pragma once
// Counters for GET /metrics (Prometheus text format). Any thread.
#include <atomic>
#include <cstdint>
#include <string>

#include "darkroom/engine/engine.hpp"

namespace darkroom::server {

class Metrics {
 public:
  void responses(unsigned status) { ++(status < 400 ? ok_ : status < 500 ? client_errors_ : server_errors_); }
  // Counts an open event stream for its lifetime.
  class OpenStream {
   public:
    explicit OpenStream(Metrics& metrics) : metrics_(metrics) {
      ++metrics_.streams_open_;
      ++metrics_.streams_total_;
    }
    ~OpenStream() { --metrics_.streams_open_; }
    OpenStream(const OpenStream&) = delete;
    OpenStream& operator=(const OpenStream&) = delete;

   private:
    Metrics& metrics_;
  };
  void sent(std::size_t bytes) { stream_bytes_ += bytes; }
  int64_t open_streams() const { return streams_open_ + websockets_open_; }
  void websocket_opened() { ++websockets_open_; }
  void websocket_closed() { --websockets_open_; }
  void rejected_queue_full() { ++queue_full_; }

  // The exposition: the engine's queue and job counts, step and preview-decode times, and these.
  std::string render(const engine::EngineStats& engine) const;

 private:
  std::atomic<uint64_t> ok_{0}, client_errors_{0}, server_errors_{0};
  std::atomic<int64_t> streams_open_{0}, websockets_open_{0};
  std::atomic<uint64_t> streams_total_{0}, stream_bytes_{0}, queue_full_{0};
};

}  // namespace darkroom::server
