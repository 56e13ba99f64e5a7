// GET /v1/ws upgraded: JSON text frames to submit, subscribe (from a sequence number), unsubscribe and
// cancel; every subscribed job's events as JSON text frames, previews as binary frames in ComfyUI's
// framing (native_stream.hpp). docs/server.md has the message reference.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>
#include <vector>

#include "answer.hpp"
#include "darkroom/server/native_stream.hpp"
#include "darkroom/server/request_error.hpp"
#include "darkroom/server/ws_message.hpp"
#include "event_stream.hpp"
#include "routes.hpp"
#include "server_state.hpp"
#include "submission.hpp"

namespace darkroom::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;

struct Frame {
  bool binary = false;
  std::string data;
  bool close = false;  // the last frame: a close (going away) after everything queued before it
};
// Every frame waits for room here, none is dropped: a slow client stalls its subscriptions (their logs
// coalesce previews meanwhile) and, when it sends commands without reading the replies, its own reads.
using FrameChannel = asio::experimental::channel<void(boost::system::error_code, Frame)>;
constexpr std::size_t kQueuedFrames = 8;

// RFC 6455 4.1: the key is 16 random bytes in base64, 24 characters ending in "==". Beast accepts an empty
// or malformed one.
bool valid_websocket_key(std::string_view key) {
  const auto base64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; };
  return key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64);
}

class Session : public std::enable_shared_from_this<Session>, public ChunkSink {
 public:
  Session(ServerState& state, beast::tcp_stream stream)
      : state_(state),
        ws_(std::move(stream)),
        frames_(ws_.get_executor(), kQueuedFrames),
        write_deadline_(ws_.get_executor()) {}

  awaitable<void> run(Request request) {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = 2 * state_.options.heartbeat;  // a ping goes out after half of it
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(http::field::server, "darkroom"); }));
    const auto [ec] = co_await ws_.async_accept(request, asio::as_tuple(use_awaitable));
    if (ec) co_return;
    state_.metrics.websocket_opened();
    const auto hook = state_.on_stop([weak = weak_from_this()] {
      if (const auto self = weak.lock()) self->wind_down();
    });
    asio::co_spawn(ws_.get_executor(), write_loop(shared_from_this()), asio::detached);
    co_await read_loop();
    for (auto& [id, signal] : subscriptions_) signal->emit(asio::cancellation_type::terminal);
    subscriptions_.clear();
    frames_.close();
    state_.metrics.websocket_closed();
  }

  // The server is stopping: every job has been cancelled, so each subscription is about to deliver its
  // terminal event; close the connection once they all have.
  void wind_down() {
    stopping_ = true;
    close_if_done();
  }

 private:
  awaitable<void> read_loop() {
    for (;;) {
      beast::flat_buffer buffer;
      const auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(use_awaitable));
      if (ec) co_return;
      if (ws_.got_binary())
        send_error(Failure{Failure::Kind::invalid_request, "messages are JSON text frames", "", "invalid_message", 0});
      else
        handle(beast::buffers_to_string(buffer.data()));
      // The replies go out before the next message is read: back-pressure on a client that floods
      // commands without reading, instead of dropped replies or an unbounded queue.
      auto replies = std::exchange(replies_, {});
      for (auto& reply : replies)
        if (!co_await push(std::move(reply))) co_return;
    }
  }

  static awaitable<void> write_loop(std::shared_ptr<Session> self) {
    for (;;) {
      auto [ec, frame] = co_await self->frames_.async_receive(asio::as_tuple(use_awaitable));
      if (ec) co_return;
      self->arm_write_deadline();
      if (frame.close) {
        const websocket::close_reason reason(websocket::close_code::going_away);
        co_await self->ws_.async_close(reason, asio::as_tuple(use_awaitable));
        self->write_deadline_.cancel();
        self->frames_.close();
        co_return;
      }
      self->ws_.binary(frame.binary);
      const auto [write_ec, n] = co_await self->ws_.async_write(asio::buffer(frame.data), asio::as_tuple(use_awaitable));
      self->write_deadline_.cancel();
      if (write_ec) {
        self->frames_.close();
        co_return;
      }
      self->state_.metrics.sent(frame.data.size());
    }
  }

  // A client that stops reading stalls the write in progress: past the server's write timeout its
  // connection is closed (the write fails, and the session ends with it).
  void arm_write_deadline() {
    write_deadline_.expires_after(state_.options.write_timeout);
    write_deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the write finished in time
      if (const auto self = weak.lock()) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      }
    });
  }

  // A reply to a control message: sent, in order, once the message has been handled (see read_loop).
  void send_text(const nlohmann::json& message) { replies_.push_back(Frame{false, json_text(message), false}); }

  void close_if_done() {
    if (!stopping_ || !subscriptions_.empty() || close_sent_) return;
    close_sent_ = true;
    asio::co_spawn(ws_.get_executor(), push_close(shared_from_this()), asio::detached);
  }

  // The close frame waits behind every frame queued before it, like any other.
  static awaitable<void> push_close(std::shared_ptr<Session> self) {
    Frame frame{false, {}, true};
    co_await self->push(std::move(frame));
  }

  // {"type": "error", "code", "message", "field"?, "request_id"?}: the native error, as a message.
  void send_error(const Failure& failure, const nlohmann::json& request_id = nullptr) {
    auto error = native_error(failure).body.at("error");
    error["type"] = "error";
    if (!request_id.is_null()) error["request_id"] = request_id;
    send_text(error);
  }

  void handle(const std::string& text) {
    nlohmann::json request_id;
    try {
      auto message = parse_ws_message(text);
      request_id = message.request_id;
      switch (message.type) {
        case WsMessage::Type::submit:
          submit(message.request, request_id);
          break;
        case WsMessage::Type::subscribe:
          subscribe(job_named(message.job_id), message.after);
          break;
        case WsMessage::Type::unsubscribe:
          unsubscribe(message.job_id);
          break;
        case WsMessage::Type::cancel:
          cancel(job_named(message.job_id));
          break;
        case WsMessage::Type::feature_flags:
          metadata_ = message.preview_metadata;
          break;
      }
    } catch (...) {
      // A frame the parser refused still has its request_id echoed when that much of it can be read.
      if (request_id.is_null()) request_id = ws_request_id(text);
      send_error(failure_of(state_, std::current_exception()), request_id);
    }
  }

  // `body`: the native request object (parse_ws_message checked that it is one).
  void submit(const nlohmann::json& body, const nlohmann::json& request_id) {
    auto request = parse_native_request(body, state_.defaults, false);
    const bool cancel_on_disconnect = request.cancel_on_disconnect;
    const auto job = submit_native(state_, std::move(request));
    state_.watchers.adopt(job, cancel_on_disconnect);
    nlohmann::json reply{{"type", "submitted"}, {"job_id", job->id()}};
    if (!request_id.is_null()) reply["request_id"] = request_id;
    send_text(reply);
    subscribe(job, 0);
  }

  std::shared_ptr<engine::Job> job_named(const std::string& job_id) const {
    auto job = state_.engine.find(job_id);
    if (!job) throw field_error("job_id", "no job '" + job_id + "' (unknown, or past its TTL)");
    return job;
  }

  void subscribe(const std::shared_ptr<engine::Job>& job, uint64_t after) {
    unsubscribe(job->id());  // a second subscribe restarts from the new cursor
    auto signal = std::make_shared<asio::cancellation_signal>();
    subscriptions_[job->id()] = signal;
    asio::co_spawn(ws_.get_executor(), forward(shared_from_this(), job, after, signal),
                   asio::bind_cancellation_slot(signal->slot(), asio::detached));
  }

  void unsubscribe(const std::string& job_id) {
    if (auto it = subscriptions_.find(job_id); it != subscriptions_.end()) {
      it->second->emit(asio::cancellation_type::terminal);
      subscriptions_.erase(it);
    }
  }

  void cancel(const std::shared_ptr<engine::Job>& job) {
    job->cancel();
    send_text({{"type", "cancelling"}, {"job_id", job->id()}});
  }

  // One job's events to this client, until its terminal event or the subscription's cancellation.
  static awaitable<void> forward(std::shared_ptr<Session> self, std::shared_ptr<engine::Job> job, uint64_t after,
                                 std::shared_ptr<asio::cancellation_signal> signal) {
    // Yield first: the message that subscribed queues its reply ("submitted") before the job's events.
    co_await asio::post(self->ws_.get_executor(), use_awaitable);
    co_await forward_events(self, job, after);
    // Done (terminal event sent, or cancelled): leave the table unless a newer subscription took the slot.
    if (auto it = self->subscriptions_.find(job->id()); it != self->subscriptions_.end() && it->second == signal)
      self->subscriptions_.erase(it);
    self->close_if_done();
  }

  static awaitable<void> forward_events(const std::shared_ptr<Session>& self, const std::shared_ptr<engine::Job>& job,
                                        uint64_t after) {
    EventFeed feed(job, after, self->ws_.get_executor());
    const auto watch = self->state_.watchers.watch(job);
    const auto encoder = websocket_stream_encoder(job->id(), job->request(), self->metadata_);
    const auto interval = self->state_.options.heartbeat;
    co_await pump_events(feed, *encoder, *self, interval);
  }

  awaitable<bool> put(StreamChunk chunk) override {
    Frame frame{chunk.binary, std::move(chunk.bytes), false};
    co_return co_await push(std::move(frame));
  }

  // Waits while the client is behind (the channel is full); false once the session is closing.
  awaitable<bool> push(Frame frame) {
    const auto [ec] = co_await frames_.async_send(boost::system::error_code{}, std::move(frame), asio::as_tuple(use_awaitable));
    co_return !ec;
  }

  ServerState& state_;
  websocket::stream<beast::tcp_stream> ws_;
  FrameChannel frames_;
  std::vector<Frame> replies_;  // to the message being handled
  asio::steady_timer write_deadline_;
  std::map<std::string, std::shared_ptr<asio::cancellation_signal>> subscriptions_;
  bool metadata_ = false;
  bool stopping_ = false;
  bool close_sent_ = false;
};

// GET /v1/ws with an upgrade: the connection becomes the session's.
awaitable<void> upgrade(Exchange& ex) {
  const auto key = ex.request[http::field::sec_websocket_key];
  if (!valid_websocket_key(std::string_view(key.data(), key.size()))) {
    const Failure failure{Failure::Kind::invalid_request, "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.1)",
                          "", "bad_websocket_key", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  ex.upgraded = ex.responded = true;
  ex.stream.expires_never();  // the WebSocket stream's own timeouts apply from here
  const auto session = std::make_shared<Session>(ex.state, std::move(ex.stream));
  co_await session->run(std::move(ex.request));
}

}  // namespace

void add_websocket_routes(Router& router) { router.add_websocket("/v1/ws", upgrade); }

}  // namespace darkroom::server
