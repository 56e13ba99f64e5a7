#pragma once
// The server's one streaming loop: a job's events, from a resume cursor, through a dialect's
// StreamEncoder to a connection, with heartbeats while the job is quiet, until the terminal event is out,
// the client leaves or a write fails. Every stream of every dialect (SSE, msgpack, WebSocket, ...) runs it.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/dialect.hpp"
#include "event_feed.hpp"
#include "exchange.hpp"

namespace darkroom::server {

// Where the chunks go: an HTTP response body or a WebSocket's frames.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // false once the client is gone (nothing more can be sent).
  virtual boost::asio::awaitable<bool> put(StreamChunk chunk) = 0;
};

// Sends the feed's events until the terminal event (or the in-band failure that replaces an event the
// encoder could not encode) has been sent: then true. false when the sink failed or the coroutine was
// cancelled (the client left) first. heartbeat_interval: how long the job may be quiet before the
// encoder's heartbeat goes out.
boost::asio::awaitable<bool> pump_events(EventFeed& feed, StreamEncoder& encoder, ChunkSink& sink,
                                         std::chrono::milliseconds heartbeat_interval);

// One job's part of a response: its events after `after`, through `encoder`.
struct StreamPart {
  std::shared_ptr<engine::Job> job;
  uint64_t after = 0;
  StreamEncoder* encoder = nullptr;
};

// Jobs' events as one streamed HTTP response (status 200, the first encoder's content type,
// X-Darkroom-Job-Id with the job ids comma-separated, and `headers`), one job after another, each to its
// terminal event. Every job counts as watched (StreamWatchers) while the response is open, the later ones
// too. The connection closes after it.
// No default arguments: a temporary built in a co_await expression is what GCC 12 miscompiles.
boost::asio::awaitable<void> stream_response(Exchange& exchange, std::vector<StreamPart> parts,
                                             std::vector<std::pair<std::string, std::string>> headers);
// The common case: one job, no headers of its own.
boost::asio::awaitable<void> stream_response(Exchange& exchange, std::shared_ptr<engine::Job> job, uint64_t after,
                                             StreamEncoder& encoder);

}  // namespace darkroom::server
