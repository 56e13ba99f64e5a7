#include "darkroom/server/event_json.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/base64.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

engine::Event event(uint64_t seq, engine::EventBody body) { return {seq, 1.5, std::move(body)}; }

EventEncoding encoding(bool binary = false) {
  EventEncoding e;
  e.job_id = "j1";
  e.preview.format = image::Format::jpeg;
  e.preview.quality = 70;
  e.binary = binary;
  return e;
}

engine::Preview preview_body() {
  return {7, 20, 3.25, 2, std::make_shared<const preview::PreviewImage>(testing::gradient(32, 24)), "latent2rgb"};
}

engine::Completed completed_body() {
  return {{std::make_shared<const image::Image>(testing::gradient(16, 8)),
           std::make_shared<const image::Image>(testing::gradient(8, 16))},
          42,
          {{"denoising", 1.25}, {"total", 2.5}}};
}

TEST(EventJson, EncodesTheSmallEventsExactly) {
  const json header = {{"seq", 3}, {"job_id", "j1"}, {"time_s", 1.5}};
  const auto with = [&](json fields) {
    fields.update(header);
    return fields;
  };
  EXPECT_EQ(event_json(event(3, engine::Queued{4}), encoding()), with({{"type", "queued"}, {"position", 4}}));
  EXPECT_EQ(event_json(event(3, engine::Started{}), encoding()), with({{"type", "started"}}));
  EXPECT_EQ(event_json(event(3, engine::PhaseChanged{"denoising"}), encoding()),
            with({{"type", "phase"}, {"phase", "denoising"}}));
  EXPECT_EQ(event_json(event(3, engine::Progress{5, 20, 1.5, 2.0, 6.0}), encoding()),
            with({{"type", "progress"}, {"step", 5}, {"total", 20}, {"sigma", 1.5}, {"elapsed_s", 2.0}, {"eta_s", 6.0}}));
  EXPECT_EQ(event_json(event(3, engine::Notice{"preview_unavailable", "no taesd"}), encoding()),
            with({{"type", "notice"}, {"code", "preview_unavailable"}, {"message", "no taesd"}}));
  EXPECT_EQ(event_json(event(3, engine::Error{"internal", "boom"}), encoding()),
            with({{"type", "error"}, {"code", "internal"}, {"message", "boom"}}));
  EXPECT_EQ(event_json(event(3, engine::Error{"internal", "boom"}), encoding(true)),
            with({{"type", "error"}, {"code", "internal"}, {"message", "boom"}}));
  EXPECT_EQ(event_json(event(3, engine::Cancelled{"requested"}), encoding()),
            with({{"type", "cancelled"}, {"reason", "requested"}}));
}

TEST(EventJson, InlinesPreviewsAsBase64OfTheSharedEncoding) {
  const auto body = preview_body();
  const json j = event_json(event(9, body), encoding());
  EXPECT_EQ(j["type"], "preview");
  EXPECT_EQ(j["seq"], 9);
  EXPECT_EQ(j["step"], 7);
  EXPECT_EQ(j["total"], 20);
  EXPECT_EQ(j["sigma"], 3.25);
  EXPECT_EQ(j["index"], 2);
  EXPECT_EQ(j["method"], "latent2rgb");
  EXPECT_EQ(j["width"], 32);
  EXPECT_EQ(j["height"], 24);
  EXPECT_EQ(j["content_type"], "image/jpeg");
  EXPECT_FALSE(j.contains("url"));
  const auto bytes = base64::decode(j["image"].get<std::string>());
  EXPECT_EQ(bytes, *body.image->encoded(image::Format::jpeg, 70));
  EXPECT_EQ(image::decode_jpeg(bytes).width, 32);
}

TEST(EventJson, PointsUrlDeliveryAtThePreviewEndpoint) {
  auto e = encoding(true);
  e.preview.delivery = preview::Delivery::url;
  const json j = event_json(event(9, preview_body()), e);
  EXPECT_EQ(j["url"], "/v1/jobs/j1/preview");
  EXPECT_FALSE(j.contains("image"));
}

TEST(EventJson, GivesMsgpackPreviewsBinImagesAndNoOtherDialectsKeys) {
  const auto body = preview_body();
  const json j = event_json(event(9, body), encoding(true));
  ASSERT_TRUE(j["image"].is_binary());
  EXPECT_FALSE(j["image"].get_binary().has_subtype());  // msgpack bin, not ext
  EXPECT_EQ(static_cast<const std::vector<uint8_t>&>(j["image"].get_binary()), *body.image->encoded(image::Format::jpeg, 70));
  EXPECT_EQ(j["sigma"], 3.25);
  for (const char* novelai : {"event_type", "samp_ix", "step_ix", "gen_id"}) EXPECT_FALSE(j.contains(novelai)) << novelai;
}

TEST(EventJson, ListsCompletedImagesByUrl) {
  const json j = event_json(event(30, completed_body()), encoding());
  const json expected = {{"type", "completed"},
                         {"seq", 30},
                         {"job_id", "j1"},
                         {"time_s", 1.5},
                         {"seed", 42},
                         {"timings", {{"denoising", 1.25}, {"total", 2.5}}},
                         {"images",
                          {{{"index", 0}, {"url", "/v1/jobs/j1/images/0"}, {"width", 16}, {"height", 8}, {"content_type", "image/png"}},
                           {{"index", 1}, {"url", "/v1/jobs/j1/images/1"}, {"width", 8}, {"height", 16}, {"content_type", "image/png"}}}}};
  EXPECT_EQ(j, expected);
}

TEST(EventJson, EmbedsCompletedPngsWithTheirTextInMsgpack) {
  const auto body = completed_body();
  auto e = encoding(true);
  e.png_text = {{"parameters", "a cat\nSteps: 20"}};
  const json j = event_json(event(30, body), e);
  EXPECT_FALSE(j.contains("event_type"));
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& png = j["images"][i]["image"].get_binary();
    EXPECT_EQ(image::decode_png(png).pixels, body.images[i]->pixels);
  }
  EXPECT_FALSE(j.contains("image"));  // each image in its own entry
  const auto path = std::filesystem::temp_directory_path() / "darkroom_event_json_test.png";
  const auto& first = j["images"][0]["image"].get_binary();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(first.data()),
                                              static_cast<std::streamsize>(first.size()));
  EXPECT_EQ(image::read_png_text(path), e.png_text);
  std::filesystem::remove(path);
}

// A result the encoder refuses (here: PNG text with a NUL, which no PNG chunk can hold) still ends the
// stream with a terminal event: an error in its place, same seq and time.
TEST(EventJson, AResultThatCannotBeEncodedBecomesAnErrorEvent) {
  auto e = encoding(true);
  e.png_text = {{"parameters", std::string("a\0cat", 5)}};
  const auto done = event(30, completed_body());
  try {
    (void)event_json(done, e);
    FAIL() << "the encoder accepted a NUL in PNG text";
  } catch (const std::exception& error) {
    const auto failure = encoding_failure(done, error);
    EXPECT_TRUE(failure.terminal());
    EXPECT_EQ(failure.seq, 30u);
    EXPECT_EQ(failure.time_s, done.time_s);
    const json j = event_json(failure, e);
    EXPECT_EQ(j["type"], "error");
    EXPECT_EQ(j["code"], "encoding_failed");
    EXPECT_NE(j["message"].get<std::string>().find("NUL"), std::string::npos) << j.dump();
  }
}

TEST(EventJson, RefusesAPreviewWithoutItsImage) {
  EXPECT_THROW(event_json(event(1, engine::Preview{}), encoding()), std::logic_error);
}

TEST(EventJson, ReportsATruncatedReplay) {
  EXPECT_EQ(replay_truncated_json("j1", 3, 10),
            (json{{"type", "replay_truncated"},
                  {"seq", 0},
                  {"job_id", "j1"},
                  {"after", 3},
                  {"oldest_seq", 10},
                  {"message", "events 4..9 are no longer retained; the stream continues from event 10"}}));
}

}  // namespace
}  // namespace darkroom::server
