#include "job_streams.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <charconv>

#include "chunked_response.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/server/event_json.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/request_error.hpp"
#include "darkroom/server/sse.hpp"
#include "event_feed.hpp"
#include "server_state.hpp"

namespace darkroom::server {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

constexpr int kRetryMs = 3000;  // EventSource's reconnection delay

std::optional<uint64_t> parse_seq(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// One event in the stream's format. Completed images carry the same "parameters" text chunk as the
// downloadable PNGs.
std::string encode(const engine::Event& event, EventEncoding& encoding, StreamFormat format, const engine::Job& job) {
  if (const auto* done = event.as<engine::Completed>(); done && format == StreamFormat::msgpack)
    encoding.png_text = {{"parameters", pipeline::infotext(job.request().generation, done->seed, job.request().model)}};
  const auto json = event_json(event, encoding);
  if (format == StreamFormat::msgpack) return msgpack_frame(json);
  return sse_event(engine::event_name(event.type()), event.seq, json_text(json));
}

boost::asio::awaitable<void> pump(ChunkedResponse& out, EventFeed& feed, StreamFormat format, ServerState& state) {
  const auto& job = *feed.job();
  EventEncoding encoding{job.id(), job.request().preview, format == StreamFormat::msgpack, {}};
  if (format == StreamFormat::sse && !co_await out.write(sse_retry(kRetryMs))) co_return;
  if (feed.truncated()) {
    const auto gap = replay_truncated_json(job.id(), feed.start(), feed.oldest_seq());
    const auto bytes = format == StreamFormat::msgpack ? msgpack_frame(gap) : sse_event("replay_truncated", 0, json_text(gap));
    if (!co_await out.write(bytes)) co_return;
  }
  const std::string heartbeat = format == StreamFormat::msgpack ? msgpack_frame({{"type", "heartbeat"}})
                                                                : sse_comment("keep-alive");
  for (;;) {
    const auto event = co_await next_or_heartbeat(feed, out, heartbeat, state.options.heartbeat);
    if (!event) break;
    std::string bytes;
    try {
      bytes = encode(*event, encoding, format, job);
    } catch (const std::exception& error) {
      if (event->type() == engine::EventType::preview) continue;  // a preview that cannot be encoded is skipped
      if (!event->terminal()) throw;
      bytes = encode(encoding_failure(*event, error), encoding, format, job);
    }
    if (!co_await out.write(bytes)) co_return;
  }
  if (feed.ended()) co_await out.finish();
}

}  // namespace

boost::asio::awaitable<std::optional<engine::Event>> next_or_heartbeat(EventFeed& feed, ChunkedResponse& out,
                                                                        std::string_view heartbeat,
                                                                        std::chrono::milliseconds interval) {
  while (!feed.ended() && out.ok()) {
    auto event = co_await feed.next(interval);
    if (event) co_return event;
    if ((co_await boost::asio::this_coro::cancellation_state).cancelled() != boost::asio::cancellation_type::none)
      break;  // the client left
    if (!feed.ended()) co_await out.write(heartbeat);
  }
  co_return std::nullopt;
}

StreamFormat negotiate_stream(const Request& request, std::optional<StreamFormat> chosen) {
  if (chosen) return *chosen;
  const auto accept = request[http::field::accept];
  const bool msgpack = accept.find("application/vnd.msgpack") != std::string_view::npos ||
                       accept.find("application/x-msgpack") != std::string_view::npos;
  return msgpack ? StreamFormat::msgpack : StreamFormat::sse;
}

uint64_t resume_cursor(const Exchange& exchange) {
  const auto header = exchange.request["Last-Event-ID"];
  if (!header.empty()) {
    if (auto seq = parse_seq(std::string_view(header.data(), header.size()))) return *seq;
    throw field_error("after", "Last-Event-ID must be an event sequence number, got '" + std::string(header) + "'");
  }
  if (const auto after = exchange.query("after")) {
    if (auto seq = parse_seq(*after)) return *seq;
    throw field_error("after", "must be an event sequence number (0 or more), got '" + *after + "'");
  }
  return 0;
}

boost::asio::awaitable<void> stream_job(Exchange& exchange, std::shared_ptr<engine::Job> job, uint64_t after,
                                        StreamFormat format) {
  auto& state = exchange.state;
  EventFeed feed(job, after, state.executor);
  const auto watch = state.watchers.watch(job);
  ChunkedResponse out(exchange);
  // Named locals, not temporaries, in co_await expressions: GCC 12 miscompiles some of those.
  const std::string content_type = format == StreamFormat::msgpack ? "application/vnd.msgpack" : "text/event-stream; charset=utf-8";
  const std::vector<std::pair<std::string, std::string>> headers{{"X-Darkroom-Job-Id", job->id()}};
  if (!co_await out.start(content_type, headers)) co_return;
  const Metrics::OpenStream counted(state.metrics);
  co_await (pump(out, feed, format, state) || client_gone(exchange));
}

}  // namespace darkroom::server
