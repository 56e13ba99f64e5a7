// The Dialect seam: failures worded by each dialect, and the native dialect's stream encoders.
#include "darkroom/server/dialect.hpp"

#include <gtest/gtest.h>

#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/a1111.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/native_stream.hpp"
#include "darkroom/server/openai.hpp"
#include "darkroom/server/sse.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using Kind = Failure::Kind;

TEST(JobFailure, ReadsTheTerminalEvent) {
  EXPECT_FALSE(job_failure({1, 0, engine::Completed{}}));
  EXPECT_FALSE(job_failure({1, 0, engine::Started{}}));
  const auto invalid = job_failure({1, 0, engine::Error{"invalid_request", "steps: too many"}});
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->kind, Kind::invalid_request);
  EXPECT_EQ(invalid->code, "invalid_request");
  EXPECT_EQ(job_failure({1, 0, engine::Error{"timeout", "ran past 5 s"}})->kind, Kind::timeout);
  const auto failed = job_failure({1, 0, engine::Error{"out_of_memory", "no room"}});
  EXPECT_EQ(failed->kind, Kind::job_failed);
  EXPECT_EQ(failed->code_or_kind(), "out_of_memory");
  EXPECT_EQ(job_failure({1, 0, engine::Cancelled{"shutdown"}})->kind, Kind::stopping);
  const auto cancelled = job_failure({1, 0, engine::Cancelled{"requested"}});
  EXPECT_EQ(cancelled->kind, Kind::cancelled);
  EXPECT_EQ(cancelled->message, "the generation was cancelled (requested)");
}

TEST(ErrorShapes, EachDialectWordsTheSameFailure) {
  const Failure bad{Kind::invalid_request, "steps: must be between 1 and 200", "steps", "", 0};
  const auto native = native_error(bad);
  EXPECT_EQ(native.status, 400u);
  EXPECT_EQ(native.body, json({{"error", {{"code", "invalid_request"}, {"message", bad.message}, {"field", "steps"}}}}));
  const auto openai = openai_error(bad);
  EXPECT_EQ(openai.status, 400u);
  EXPECT_EQ(openai.body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(openai.body["error"]["param"], "steps");
  EXPECT_TRUE(openai.body["error"]["code"].is_null());
  const auto a1111 = a1111_error(bad);
  EXPECT_EQ(a1111.status, 422u);
  EXPECT_EQ(a1111.body["error"], "RequestError");
  EXPECT_EQ(a1111.body["field"], "steps");

  const Failure full{Kind::queue_full, "the queue is full", "", "", 5};
  EXPECT_EQ(native_error(full).status, 429u);
  EXPECT_EQ(openai_error(full).body["error"]["type"], "rate_limit_error");
  EXPECT_EQ(a1111_error(full).body["error"], "queue_full");
  const Failure stopping{Kind::stopping, "the server is shutting down", "", "", 0};
  EXPECT_EQ(openai_error(stopping).status, 503u);
  EXPECT_EQ(openai_error(stopping).body["error"]["code"], "server_shutting_down");
  const Failure oom{Kind::job_failed, "no room", "", "out_of_memory", 0};
  EXPECT_EQ(native_error(oom).body["error"]["code"], "out_of_memory");
  EXPECT_EQ(openai_error(oom).status, 500u);
  EXPECT_EQ(openai_error(oom).body["error"]["code"], "out_of_memory");
  EXPECT_EQ(a1111_error(oom).body["error"], "out_of_memory");

  // A job past its time limit, as each dialect tells it.
  const auto timed_out = *job_failure({1, 0, engine::Error{"timeout", "ran past 5 s"}});
  EXPECT_EQ(native_error(timed_out).body["error"]["code"], "timeout");
  EXPECT_EQ(openai_error(timed_out).status, 504u);
  EXPECT_EQ(openai_error(timed_out).body["error"]["code"], "timeout");
  EXPECT_EQ(a1111_error(timed_out).status, 504u);
  EXPECT_EQ(a1111_error(timed_out).body["error"], "timeout");
}

engine::JobRequest job_request() {
  engine::JobRequest request;
  request.model = "tiny";
  request.generation.prompt = "a cat";
  request.preview.format = image::Format::jpeg;
  return request;
}

engine::Event preview_event(uint64_t seq) {
  return {seq, 0.5,
          engine::Preview{2, 4, 1.0, 0, std::make_shared<const preview::PreviewImage>(testing::gradient(16, 16)), "latent2rgb"}};
}

TEST(NativeStream, SseNamesEventsWithTheirSeqAndSaysWhenReplayIsTruncated) {
  const auto request = job_request();
  const auto encoder = native_stream_encoder(StreamFormat::sse, "j1", request);
  EXPECT_EQ(encoder->content_type(), "text/event-stream; charset=utf-8");
  SseParser parser;
  EXPECT_TRUE(parser.feed(encoder->opening({"j1", 0, false, 1}).bytes).empty());
  EXPECT_EQ(parser.retry_ms(), 3000u);
  const auto gap = parser.feed(encoder->opening({"j1", 2, true, 9}).bytes);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].event, "replay_truncated");
  const auto events = parser.feed(encoder->encode(preview_event(7)).bytes + encoder->heartbeat());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "preview");
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(parser.comments(), 1u);
}

TEST(NativeStream, MsgpackFramesCarryPngsWithTheirParameters) {
  const auto request = job_request();
  const auto encoder = native_stream_encoder(StreamFormat::msgpack, "j1", request);
  EXPECT_EQ(encoder->content_type(), "application/vnd.msgpack");
  EXPECT_TRUE(encoder->opening({"j1", 0, false, 1}).bytes.empty());
  const engine::Event done{9, 1.0, engine::Completed{{std::make_shared<const image::Image>(testing::gradient(8, 8))}, 5, {}}};
  MsgpackFrameReader reader;
  const auto maps = reader.feed(encoder->encode(done).bytes + encoder->heartbeat());
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[0]["type"], "completed");
  const auto& png = maps[0]["images"][0]["image"].get_binary();
  const std::string bytes(png.begin(), png.end());
  EXPECT_NE(bytes.find("Seed: 5"), std::string::npos);  // the parameters chunk
  EXPECT_EQ(maps[1]["type"], "heartbeat");
}

TEST(NativeStream, WebSocketSendsEventsAsTextAndPreviewsInComfyUisFraming) {
  const auto request = job_request();
  const auto plain = websocket_stream_encoder("j1", request, false);
  EXPECT_TRUE(plain->heartbeat().empty());  // WebSocket pings
  const auto progress = plain->encode({3, 0.1, engine::Progress{1, 4, 2.0, 0.1, 0.3}});
  EXPECT_FALSE(progress.binary);
  const auto message = json::parse(progress.bytes);
  EXPECT_EQ(message["type"], "event");
  EXPECT_EQ(message["event"], "progress");
  const auto type1 = plain->encode(preview_event(4));
  ASSERT_TRUE(type1.binary);
  EXPECT_EQ(type1.bytes.substr(0, 8), std::string("\0\0\0\1\0\0\0\1", 8));  // type 1, JPEG
  const auto with_metadata = websocket_stream_encoder("j1", request, true);
  const auto type4 = with_metadata->encode(preview_event(4));
  ASSERT_TRUE(type4.binary);
  EXPECT_EQ(type4.bytes.substr(0, 4), std::string("\0\0\0\4", 4));
  const auto length = static_cast<std::size_t>(static_cast<uint8_t>(type4.bytes[7]));
  EXPECT_EQ(json::parse(type4.bytes.substr(8, length))["seq"], 4);
}

}  // namespace
}  // namespace darkroom::server
