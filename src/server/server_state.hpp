#pragma once
// What every route and session of one server shares. Lives as long as the server; touched from the
// event-loop thread except where a member says otherwise. A dialect's own state lives with its routes.
#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "darkroom/engine/engine.hpp"
#include "darkroom/server/request_json.hpp"
#include "darkroom/server/server.hpp"
#include "darkroom/server/site_policy.hpp"
#include "animations.hpp"
#include "metrics.hpp"
#include "model_registry.hpp"
#include "stream_watchers.hpp"

namespace darkroom::server {

// A model file's error as a client may see it: the file named relative to the models directory (or by
// its name alone), never by the server's absolute path.
std::string model_file_message(const io::ModelFileError& error, const std::filesystem::path& model);

struct ServerState {
  ServerState(const ServerOptions& options, boost::asio::any_io_executor executor);

  const ServerOptions options;
  const SitePolicy site;  // who may send requests (Host, Origin)
  boost::asio::any_io_executor executor;  // the event loop's
  ModelRegistry models;
  RequestDefaults defaults;  // default model id and the request limits
  engine::Engine engine;     // any thread
  StreamWatchers watchers;
  Animations animations;
  Metrics metrics;                     // any thread
  std::atomic<bool> stopping{false};   // set by Server::stop(): streams end, new requests get 503

  // Sessions that wind down on their own when the server stops (WebSockets close once their jobs'
  // terminal events are out). The hook runs on the loop; it is removed when the handle is destroyed.
  [[nodiscard]] std::shared_ptr<void> on_stop(std::function<void()> hook);
  void run_stop_hooks();

  // The id a request's "model" resolves to (its own or the default); throws RequestError (field "model")
  // for an id that names no model, listing the ones there are.
  std::string resolve_model(const std::string& id) const;
  // What a resolved model id's files say; throws RequestError (field "model") when they cannot be read.
  ModelDescription describe_model(const std::string& id) const;
  // Parses nothing: checks a parsed job against its model (exists, ranges with its latent scale).
  void validate(engine::JobRequest& job) const;
  // A request's own time limit against --job-timeout: RequestError (field "timeout_s") when it asks for more.
  void check_timeout(const engine::JobRequest& job) const;

 private:
  std::map<uint64_t, std::function<void()>> stop_hooks_;
  uint64_t next_hook_ = 0;
};

}  // namespace darkroom::server
