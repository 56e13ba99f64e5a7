#include "event_stream.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "chunked_response.hpp"
#include "darkroom/server/event_json.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

bool cancelled(boost::asio::cancellation_state state) {
  return state.cancelled() != boost::asio::cancellation_type::none;
}

// The HTTP body as a sink: each chunk written as it comes.
class ResponseSink final : public ChunkSink {
 public:
  explicit ResponseSink(ChunkedResponse& out) : out_(out) {}
  boost::asio::awaitable<bool> put(StreamChunk chunk) override { co_return co_await out_.write(chunk.bytes); }

 private:
  ChunkedResponse& out_;
};

}  // namespace

boost::asio::awaitable<bool> pump_events(EventFeed& feed, StreamEncoder& encoder, ChunkSink& sink,
                                         std::chrono::milliseconds heartbeat_interval) {
  const auto& job = *feed.job();
  const StreamStart start{job.id(), feed.start(), feed.truncated(), feed.oldest_seq()};
  auto opening = encoder.opening(start);
  if (!opening.bytes.empty() && !co_await sink.put(std::move(opening))) co_return false;
  const auto heartbeat = encoder.heartbeat();
  // Without heartbeats the wait only bounds how long a cancelled wait goes unnoticed.
  const std::chrono::milliseconds wait = heartbeat.empty() ? std::chrono::hours(1) : heartbeat_interval;
  while (!feed.ended()) {
    const auto event = co_await feed.next(wait);
    if (!event) {
      if (cancelled(co_await boost::asio::this_coro::cancellation_state)) co_return false;  // the client left
      if (heartbeat.empty() || feed.ended()) continue;
      StreamChunk beat{heartbeat, false};
      if (!co_await sink.put(std::move(beat))) co_return false;
      continue;
    }
    StreamChunk chunk;
    bool last = false;
    try {
      chunk = encoder.encode(*event);
    } catch (const std::exception& error) {
      if (event->type() == engine::EventType::preview) continue;  // a preview that cannot be encoded is skipped
      chunk = encoder.encode(encoding_failure(*event, error));
      last = true;
    }
    if (!chunk.bytes.empty() && !co_await sink.put(std::move(chunk))) co_return false;
    if (last) co_return true;
  }
  co_return true;
}

namespace {

// The parts in turn; false as soon as one could not be sent to its end.
boost::asio::awaitable<bool> pump_parts(const std::vector<StreamPart>& parts, ChunkSink& sink, ServerState& state) {
  for (const auto& part : parts) {
    EventFeed feed(part.job, part.after, state.executor);
    if (!co_await pump_events(feed, *part.encoder, sink, state.options.heartbeat)) co_return false;
  }
  co_return true;
}

}  // namespace

boost::asio::awaitable<void> stream_response(Exchange& exchange, std::vector<StreamPart> parts,
                                             std::vector<std::pair<std::string, std::string>> headers) {
  auto& state = exchange.state;
  std::vector<StreamWatchers::Watch> watches;
  std::string ids;
  for (const auto& part : parts) {
    watches.push_back(state.watchers.watch(part.job));
    ids += (ids.empty() ? "" : ",") + part.job->id();
  }
  ChunkedResponse out(exchange);
  headers.emplace_back("X-Darkroom-Job-Id", ids);
  const std::string content_type = parts.front().encoder->content_type();
  if (!co_await out.start(content_type, headers)) co_return;
  const Metrics::OpenStream counted(state.metrics);
  ResponseSink sink(out);
  const auto outcome = co_await (pump_parts(parts, sink, state) || client_gone(exchange));
  if (outcome.index() == 0 && std::get<0>(outcome)) co_await out.finish();
}

boost::asio::awaitable<void> stream_response(Exchange& exchange, std::shared_ptr<engine::Job> job, uint64_t after,
                                             StreamEncoder& encoder) {
  std::vector<StreamPart> parts(1);
  parts[0] = StreamPart{std::move(job), after, &encoder};
  std::vector<std::pair<std::string, std::string>> headers;
  co_await stream_response(exchange, std::move(parts), std::move(headers));
}

}  // namespace darkroom::server
