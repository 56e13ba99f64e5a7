#include "darkroom/server/msgpack_frame.hpp"

#include <gtest/gtest.h>

#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/event_json.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

std::vector<json> read_in_chunks(MsgpackFrameReader& reader, std::string_view stream, std::size_t chunk) {
  std::vector<json> maps;
  for (std::size_t i = 0; i < stream.size(); i += chunk)
    for (auto& map : reader.feed(stream.substr(i, chunk))) maps.push_back(std::move(map));
  return maps;
}

TEST(MsgpackFrame, PrefixesTheMapWithItsBigEndianLength) {
  const json map = {{"a", 1}};
  const std::string frame = msgpack_frame(map);
  const auto body = json::to_msgpack(map);
  ASSERT_EQ(frame.size(), 4 + body.size());
  EXPECT_EQ(frame.substr(0, 4), std::string("\0\0\0", 3) + static_cast<char>(body.size()));
  EXPECT_EQ(frame.substr(4), std::string(body.begin(), body.end()));
  EXPECT_THROW(msgpack_frame(json::array()), std::invalid_argument);
}

TEST(MsgpackFrame, RoundTripsEventsWithBinImages) {
  EventEncoding encoding;
  encoding.job_id = "job-7";
  encoding.binary = true;
  const engine::Event preview{
      5, 0.25, engine::Preview{3, 10, 2.5, 0, std::make_shared<const preview::PreviewImage>(testing::gradient(40, 24)), "taesd"}};
  const engine::Event completed{
      6, 0.5, engine::Completed{{std::make_shared<const image::Image>(testing::gradient(16, 16))}, 123, {{"total", 0.5}}}};
  const std::vector<json> sent = {event_json(preview, encoding), event_json(completed, encoding),
                                  event_json({7, 0.5, engine::Error{"internal", "x"}}, encoding)};
  std::string stream;
  for (const auto& map : sent) stream += msgpack_frame(map);

  for (std::size_t chunk : {stream.size(), std::size_t{1}, std::size_t{5}, std::size_t{1000}}) {
    MsgpackFrameReader reader;
    const auto received = read_in_chunks(reader, stream, chunk);
    EXPECT_EQ(received, sent) << "chunk " << chunk;
    EXPECT_TRUE(reader.idle());
  }
  MsgpackFrameReader reader;
  const auto maps = reader.feed(stream);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0]["type"], "preview");
  EXPECT_TRUE(maps[0]["image"].is_binary());
  EXPECT_EQ(maps[1]["type"], "completed");
  EXPECT_TRUE(maps[1]["images"][0]["image"].is_binary());
  EXPECT_EQ(maps[2]["type"], "error");
}

TEST(MsgpackFrameReader, HoldsAPartialFrame) {
  const std::string frame = msgpack_frame({{"k", "v"}});
  MsgpackFrameReader reader;
  EXPECT_TRUE(reader.feed(frame.substr(0, 6)).empty());
  EXPECT_FALSE(reader.idle());
  EXPECT_EQ(reader.feed(frame.substr(6)).size(), 1u);
  EXPECT_TRUE(reader.idle());
}

TEST(MsgpackFrameReader, RejectsBadFramesAndStaysBroken) {
  const auto rejects = [](const std::string& stream, std::size_t limit = 1024) {
    MsgpackFrameReader reader(limit);
    EXPECT_THROW(reader.feed(stream), std::runtime_error) << stream.size() << " bytes";
    EXPECT_THROW(reader.feed(msgpack_frame({{"ok", 1}})), std::runtime_error);  // broken from then on
  };
  const auto frame = [](std::string body) {
    const auto n = body.size();
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)} + body;
  };
  rejects(msgpack_frame({{"big", std::string(2000, 'x')}}));  // over the limit
  rejects(std::string("\xff\xff\xff\xff", 4));                // announces 4 GiB
  rejects(frame(""));                                         // empty
  rejects(frame("\x93\x01\x02\x03"));                         // an array, not a map
  rejects(frame("\x81\xa1k"));                                // truncated map
  rejects(frame("\x80\x80"));                                 // trailing bytes
  rejects(frame("\xc1"));                                     // reserved type byte
  rejects(frame("\x81\xa1k" + std::string(100, '\x91') + "\x01"));  // nests 100 levels
}

}  // namespace
}  // namespace darkroom::server
