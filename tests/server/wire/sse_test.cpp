#include "darkroom/server/sse.hpp"

#include <gtest/gtest.h>

namespace darkroom::server {
namespace {

// Feeds a stream in chunks of `chunk` bytes, collecting every event.
std::vector<SseEvent> parse_in_chunks(SseParser& parser, std::string_view stream, std::size_t chunk) {
  std::vector<SseEvent> events;
  for (std::size_t i = 0; i < stream.size(); i += chunk)
    for (auto& e : parser.feed(stream.substr(i, chunk))) events.push_back(std::move(e));
  return events;
}

TEST(SseWriter, WritesEventsCommentsAndRetry) {
  EXPECT_EQ(sse_event("progress", 12, R"({"step":1})"), "event: progress\nid: 12\ndata: {\"step\":1}\n\n");
  EXPECT_EQ(sse_event("replay_truncated", 0, "{}"), "event: replay_truncated\ndata: {}\n\n");
  EXPECT_EQ(sse_event("m", 1, "a\nb\r\nc\rd"), "event: m\nid: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(sse_event("m", 1, ""), "event: m\nid: 1\ndata: \n\n");
  EXPECT_EQ(sse_comment("keep-alive"), ": keep-alive\n\n");
  EXPECT_EQ(sse_comment("a\nb"), ": a\n: b\n\n");
  EXPECT_EQ(sse_retry(3000), "retry: 3000\n\n");
  EXPECT_THROW(sse_event("a\nb", 1, ""), std::invalid_argument);
  EXPECT_THROW(sse_retry(-1), std::invalid_argument);
}

TEST(SseRoundTrip, ParsesWhatTheWriterWritesInAnyChunking) {
  const std::string stream = sse_retry(3000) + sse_event("queued", 1, R"({"position":2})") + sse_comment("keep-alive") +
                             sse_event("multi", 2, "line 1\nline 2\n\nline 4") + sse_event("empty", 3, "") +
                             sse_event("replay_truncated", 0, "{}") + sse_event("x", 18446744073709551615ULL, " lead");
  const std::vector<SseEvent> expected = {{"queued", "1", R"({"position":2})"},
                                          {"multi", "2", "line 1\nline 2\n\nline 4"},
                                          {"empty", "3", ""},
                                          {"replay_truncated", "3", "{}"},  // no id line: the last id stays
                                          {"x", "18446744073709551615", " lead"}};
  for (std::size_t chunk : {stream.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    SseParser parser;
    EXPECT_EQ(parse_in_chunks(parser, stream, chunk), expected) << "chunk " << chunk;
    EXPECT_EQ(parser.retry_ms(), 3000u);
    EXPECT_EQ(parser.comments(), 1u);
    EXPECT_EQ(parser.last_event_id(), "18446744073709551615");
  }
}

TEST(SseParser, FollowsTheWhatwgLineRules) {
  // CR, LF and CRLF line ends (CRLF split across chunks), no space after the colon, a field without a
  // colon, unknown fields, a default event name.
  const std::string stream = "data:a\r\ndata\rdata: b\nfoo: bar\r\n\r\nevent:named\ndata:  two spaces\n\n";
  SseParser parser;
  auto events = parser.feed(stream.substr(0, 7));  // ends between \r and \n
  const auto rest = parser.feed(stream.substr(7));
  events.insert(events.end(), rest.begin(), rest.end());
  const std::vector<SseEvent> expected = {{"message", "", "a\n\nb"}, {"named", "", " two spaces"}};
  EXPECT_EQ(events, expected);
}

TEST(SseParser, SkipsABomSplitAcrossChunks) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("\xEF").empty());
  EXPECT_TRUE(parser.feed("\xBB").empty());
  const auto events = parser.feed("\xBF" "data: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
  // A BOM later in the stream is data, and a near-BOM at the start is kept.
  SseParser other;
  const auto kept = other.feed("\xEF\xBB" "data: y\n\n");
  EXPECT_TRUE(kept.empty());  // the field name "\xEF\xBB" "data" is unknown
}

TEST(SseParser, IgnoresBadIdsAndRetriesAndEventsWithoutData) {
  SseParser parser;
  using namespace std::string_literals;
  const auto events = parser.feed("id: 5\n\nid: 6\0x\nretry: 12a\nretry: 99999999999999999999999\n"
                                  "event: nodata\n\ndata: d\n\nid\ndata: e\n\ndata: cut off"s);
  const std::vector<SseEvent> expected = {{"message", "5", "d"}, {"message", "", "e"}};
  EXPECT_EQ(events, expected);
  EXPECT_FALSE(parser.retry_ms());
  EXPECT_EQ(parser.last_event_id(), "");
}

}  // namespace
}  // namespace darkroom::server
