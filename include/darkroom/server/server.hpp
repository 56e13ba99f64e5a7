#pragma once
// `darkroom serve`: the engine behind HTTP/1.1 and WebSocket, streaming every job's events over SSE,
// msgpack frames and WebSocket, with OpenAI- and A1111-compatible endpoints. docs/server.md is the
// user's guide; notes on each transport are in the session files under src/server/.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "darkroom/engine/engine.hpp"

namespace darkroom::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t port = 7860;            // 0: any free port (Server::port() tells which)
  std::vector<std::filesystem::path> models_dirs;
  std::string default_model;  // id used when a request names none; empty: the only model, if there is one
  std::string api_key;        // non-empty: every route but /health needs "Authorization: Bearer KEY"
                              // (or ?access_token=KEY, for EventSource, which cannot set headers)
  std::string cors_origin;    // empty: no CORS headers; "*" or an origin otherwise. Requests carrying another
                              // Origin than this or the server's own are refused (site_policy.hpp)
  std::chrono::milliseconds heartbeat{15'000};          // SSE comment / WebSocket ping when idle
  std::chrono::milliseconds disconnect_grace{30'000};  // a streamed job nobody watches is cancelled after this
  std::chrono::milliseconds shutdown_grace{5'000};     // for open streams to flush their terminal events
  // How long one write may wait for a client that does not read (a response, a stream's event or
  // heartbeat); past it the connection is dropped, and a streamed job follows the disconnect policy.
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_body_bytes = std::size_t{16} << 20;
  int retry_after_s = 5;  // Retry-After of a 429 (queue full)
  // Workers, queue bound, job TTL, request limits, tiny AE, load options. The server supplies the loader
  // (ids -> models under models_dirs).
  engine::EngineOptions engine;
};

class Server {
 public:
  // Binds the listening socket (throws std::system_error when it cannot) and starts the engine.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // Serves on the calling thread until stop() or, with handle_signals, SIGINT/SIGTERM. Then stops
  // accepting, cancels every job, lets open streams deliver their terminal events (up to shutdown_grace)
  // and returns. on_ready runs on the serving thread once the signal handler is in place (where a
  // launcher announces the port: a signal sent after that announcement stops the server cleanly).
  void run(bool handle_signals = false, const std::function<void()>& on_ready = {});
  // Any thread, any number of times.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace darkroom::server
