// An SDXL model served beside SD1 ones, end to end over SSE: its capabilities follow its family (SDXL's
// latent2rgb table, the SDXL tiny autoencoder, a native size of 1024), previews stream with latent2rgb
// and the tiny AE, and the image equals diffusers' StableDiffusionXLPipeline's (loops/sdxl_euler.png).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "darkroom/image/png.hpp"
#include "darkroom/server/sse.hpp"
#include "server_fixture.hpp"
#include "support/golden.hpp"

namespace darkroom::server::testing {
namespace {

// The golden random tiny AE stands in for TAESDXL: same architecture, 4 latent channels.
ServerOptions with_sdxl_tiny_autoencoder() {
  auto options = tiny_server_options();
  options.engine.taesdxl = golden::path("taesd/taesd_tiny_random_decoder.safetensors");
  return options;
}

// The golden loop's request: no negative prompt (zero conditioning), Euler, 4 steps, cfg 5, seed 42.
nlohmann::json golden_loop_request(const std::string& preview_method) {
  return {{"model", "sdxl_tiny"}, {"prompt", "a red apple on a wooden table"}, {"width", 64}, {"height", 64},
          {"steps", 4}, {"cfg", 5.0}, {"sampler", "euler"}, {"seed", 42},
          {"preview", {{"method", preview_method}, {"every_n_steps", 1}}}};
}

TEST(SdxlServing, CapabilitiesFollowTheFamily) {
  TestServer server(with_sdxl_tiny_autoencoder());
  const auto caps = get(server.port(), "/v1/capabilities").json();
  std::map<std::string, nlohmann::json> models;
  for (const auto& model : caps.at("models")) models[model.at("id")] = model;
  ASSERT_TRUE(models.contains("sdxl_tiny"));
  const auto& xl = models["sdxl_tiny"];
  EXPECT_EQ(xl.at("family"), "SDXL");
  EXPECT_EQ(xl.at("auto_preview"), "taesd");
  EXPECT_EQ(xl.at("preview_methods"), nlohmann::json({"none", "auto", "latent2rgb", "taesd", "vae"}));
  EXPECT_EQ(xl.at("defaults").at("width"), 1024);
  // --taesdxl is SDXL's alone: the SD1 model still previews with its latent2rgb table.
  EXPECT_EQ(models["sd1_tiny"].at("auto_preview"), "latent2rgb");
}

TEST(SdxlServing, StreamsPreviewsAndTheGoldenImageOverSse) {
  TestServer server(with_sdxl_tiny_autoencoder());
  const auto golden_image = image::read_png(golden::path("loops/sdxl_euler.png"));
  for (const std::string method : {"latent2rgb", "taesd"}) {
    SCOPED_TRACE(method);
    const auto reply = post_json(server.port(), "/v1/generate", golden_loop_request(method), {{"Accept", "text/event-stream"}});
    ASSERT_EQ(reply.status, 200u) << reply.body;
    SseParser parser;
    const auto events = parser.feed(reply.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().event, "completed") << events.back().data;
    int previews = 0;
    for (const auto& event : events) {
      if (event.event != "preview") continue;
      const auto data = nlohmann::json::parse(event.data);
      ++previews;
      EXPECT_EQ(data.at("method"), method);
      // latent2rgb draws one pixel per latent cell; the tiny AE decodes to full size.
      EXPECT_EQ(data.at("width"), method == "latent2rgb" ? 8 : 64);
      EXPECT_FALSE(data.at("image").get<std::string>().empty());
    }
    EXPECT_GE(previews, 1);

    const auto completed = nlohmann::json::parse(events.back().data);
    const auto png = get(server.port(), completed.at("images").at(0).at("url").get<std::string>());
    ASSERT_EQ(png.status, 200u);
    const auto ours = image::decode_png({reinterpret_cast<const uint8_t*>(png.body.data()), png.body.size()});
    ASSERT_EQ(ours.pixels.size(), golden_image.pixels.size());
    int max_diff = 0;
    for (std::size_t i = 0; i < ours.pixels.size(); ++i)
      max_diff = std::max(max_diff, std::abs(int(ours.pixels[i]) - int(golden_image.pixels[i])));
    EXPECT_LE(max_diff, 1);
  }
}

}  // namespace
}  // namespace darkroom::server::testing
