#pragma once
// A job's events as one streamed HTTP response: SSE (text/event-stream, EventSource-friendly) or msgpack
// frames (application/vnd.msgpack), from a resume cursor to the terminal event. Used by
// GET /v1/jobs/{id}/events and POST /v1/generate.
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/request_json.hpp"
#include "chunked_response.hpp"
#include "event_feed.hpp"
#include "exchange.hpp"

namespace darkroom::server {

// msgpack when the Accept header names application/vnd.msgpack (or the legacy application/x-msgpack),
// unless the request body chose with its "stream" field; SSE otherwise.
StreamFormat negotiate_stream(const Request& request, std::optional<StreamFormat> chosen);

// The resume cursor: Last-Event-ID, else ?after=N, else 0 (from the job's first event). Throws
// RequestError (field "after") for anything but a decimal sequence number.
uint64_t resume_cursor(const Exchange& exchange);

// The next event of a streamed response, writing `heartbeat` to `out` whenever the job is quiet for the
// server's heartbeat interval. nullopt once the stream is over: its terminal event was returned before,
// the client left (the coroutine is cancelled) or a write failed.
boost::asio::awaitable<std::optional<engine::Event>> next_or_heartbeat(EventFeed& feed, ChunkedResponse& out,
                                                                        std::string_view heartbeat,
                                                                        std::chrono::milliseconds interval);

// Streams until the terminal event has been sent, the client leaves, or the server stops; the connection
// closes after. The stream counts as a watcher of the job while it is open (see StreamWatchers).
boost::asio::awaitable<void> stream_job(Exchange& exchange, std::shared_ptr<engine::Job> job, uint64_t after,
                                        StreamFormat format);

}  // namespace darkroom::server
