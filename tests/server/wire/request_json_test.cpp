#include "darkroom/server/request_json.hpp"

#include <gtest/gtest.h>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/probe.hpp"
#include "darkroom/image/webp.hpp"
#include "darkroom/server/base64.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using testing::error_field;

const RequestDefaults kDefaults{"sd15", {}};

NativeRequest parse(const std::string& body, bool allow_stream = true) {
  return parse_native_request(parse_json_body(body), kDefaults, allow_stream);
}

TEST(RequestError, TakesTheFieldFromALibraryMessage) {
  EXPECT_EQ(as_request_error(std::invalid_argument("steps: must be between 1 and 200")).field(), "steps");
  EXPECT_EQ(as_request_error(std::invalid_argument("preview.count: must be >= 0")).field(), "preview.count");
  const auto plain = as_request_error(std::invalid_argument("unknown sampler 'a:b' (valid: euler)"));
  EXPECT_EQ(plain.field(), "");
  EXPECT_STREQ(plain.what(), "unknown sampler 'a:b' (valid: euler)");
  const auto error = field_error("cfg", "must be a number");
  EXPECT_EQ(error.field(), "cfg");
  EXPECT_STREQ(error.what(), "cfg: must be a number");
}

TEST(NativeRequest, ReadsEveryField) {
  const auto r = parse(R"({"model": "sdxl.safetensors", "prompt": "a cat", "negative_prompt": "blurry",
    "width": 768, "height": 640, "steps": 30, "cfg": 5.5, "sampler": "dpm++2m", "scheduler": "karras",
    "spacing": "trailing", "seed": 9007199254740993, "batch": 2, "clip_skip": 2,
    "preview": {"method": "taesd", "source": "noisy", "every_n_steps": 2, "max_size": 256, "format": "webp",
                "quality": 60, "delivery": "url"},
    "stream": "msgpack", "cancel_on_disconnect": true, "animation": true})");
  const auto& g = r.job.generation;
  EXPECT_EQ(r.job.model, "sdxl.safetensors");
  EXPECT_EQ(g.prompt, "a cat");
  EXPECT_EQ(g.negative_prompt, "blurry");
  EXPECT_EQ(g.width, 768);
  EXPECT_EQ(g.height, 640);
  EXPECT_EQ(g.steps, 30);
  EXPECT_EQ(g.cfg, 5.5);
  EXPECT_EQ(g.sampler, sampling::SamplerKind::dpmpp_2m);
  EXPECT_EQ(g.scheduler, sampling::SigmaSchedule::karras);
  EXPECT_EQ(g.spacing, sampling::Spacing::trailing);
  EXPECT_EQ(g.seed, 9007199254740993);
  EXPECT_EQ(g.batch, 2);
  EXPECT_EQ(g.clip_skip, 2);
  EXPECT_FALSE(r.job.init_image);
  const auto& p = r.job.preview;
  EXPECT_EQ(p.method, preview::Method::taesd);
  EXPECT_EQ(p.source, preview::Source::noisy);
  EXPECT_EQ(p.every_n_steps, 2);
  EXPECT_EQ(p.max_size, 256);
  EXPECT_EQ(p.format, image::Format::webp);
  EXPECT_EQ(p.quality, 60);
  EXPECT_EQ(p.delivery, preview::Delivery::url);
  EXPECT_EQ(r.stream, StreamFormat::msgpack);
  EXPECT_TRUE(r.cancel_on_disconnect);
  EXPECT_TRUE(r.animation);
}

TEST(NativeRequest, ReadsSdxlSizeConditioning) {
  const auto r = parse(R"({"prompt": "a cat", "original_size": {"width": 2048, "height": 1536},
    "crop_top_left": {"x": 0, "y": 64}, "target_size": {"width": 1024, "height": 768}})");
  const auto& g = r.job.generation;
  EXPECT_EQ(g.original_size, (pipeline::ImageSize{2048, 1536}));
  EXPECT_EQ(g.crop_top_left, (pipeline::CropOffset{0, 64}));
  EXPECT_EQ(g.target_size, (pipeline::ImageSize{1024, 768}));
  const auto plain = parse(R"({"prompt": "a cat"})");
  EXPECT_FALSE(plain.job.generation.original_size || plain.job.generation.crop_top_left ||
               plain.job.generation.target_size);
  EXPECT_FALSE(plain.job.generation.negative_prompt);  // absent, not "": SDXL conditions on zeros
  EXPECT_EQ(parse(R"({"prompt": "a cat", "negative_prompt": ""})").job.generation.negative_prompt, "");

  EXPECT_EQ(error_field([] { parse(R"({"prompt": "", "original_size": [1024, 1024]})"); }), "original_size");
  EXPECT_EQ(error_field([] { parse(R"({"prompt": "", "original_size": {"width": 1024}})"); }), "original_size");
  EXPECT_EQ(error_field([] { parse(R"({"prompt": "", "target_size": {"width": 8, "height": 8, "depth": 1}})"); }),
            "target_size.depth");
  EXPECT_EQ(error_field([] { parse(R"({"prompt": "", "crop_top_left": {"x": "left", "y": 0}})"); }), "crop_top_left.x");
}

TEST(NativeRequest, LeavesDefaultsForAbsentAndNullFields) {
  const auto r = parse(R"({"prompt": "", "seed": null, "preview": null, "negative_prompt": null, "steps": 25.0})");
  const pipeline::GenerationRequest library_defaults;
  EXPECT_EQ(r.job.model, "sd15");
  EXPECT_EQ(r.job.generation.seed, -1);
  EXPECT_EQ(r.job.generation.steps, 25);  // a whole number in float syntax is an integer
  EXPECT_EQ(r.job.generation.width, library_defaults.width);
  EXPECT_EQ(r.job.generation.cfg, library_defaults.cfg);
  EXPECT_EQ(r.job.preview.method, preview::Method::none);
  EXPECT_FALSE(r.job.generation.spacing);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.cancel_on_disconnect);
  EXPECT_FALSE(r.animation);
}

// The init image stays encoded (the engine's worker decodes it); parsing reads its header only.
TEST(NativeRequest, ReadsInitImagesOfEachFormatByTheirHeaders) {
  const auto pixels = testing::gradient(24, 16);
  const auto png = image::encode_png(pixels);
  const auto webp = image::encode_webp(pixels, 100);  // lossless: exact pixels back
  const auto jpeg = image::encode_jpeg(pixels, 95);
  const std::vector<std::pair<std::string, image::Format>> cases = {
      {base64::encode(png), image::Format::png},
      {"data:image/webp;base64," + base64::encode(webp), image::Format::webp},
      {"data:image/jpeg;base64," + base64::encode(jpeg), image::Format::jpeg}};
  for (const auto& [text, format] : cases) {
    const auto r = parse(json{{"prompt", "x"}, {"init_image", text}, {"strength", 0.5}}.dump());
    EXPECT_FALSE(r.job.generation.init_image);
    ASSERT_TRUE(r.job.init_image);
    EXPECT_EQ(r.job.init_image->info.format, format);
    EXPECT_EQ(r.job.init_image->info.width, 24);
    EXPECT_EQ(r.job.init_image->info.height, 16);
    EXPECT_EQ(r.job.generation.strength, 0.5);
    if (format != image::Format::jpeg) EXPECT_EQ(image::decode(r.job.init_image->bytes).pixels, pixels.pixels);
  }
}

TEST(NativeRequest, NamesTheFieldOfEveryBadInput) {
  const auto png = image::encode_png(testing::gradient(8, 8));
  // Cut inside its header: refused when parsed (damaged pixel data past an intact header fails the job).
  const std::string truncated_png = base64::encode(std::span(png).first(20));
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"prompt", "x"}, {"stpes", 3}}, "stpes"},
      {{{"steps", 3}}, "prompt"},
      {{{"prompt", nullptr}}, "prompt"},
      {{{"prompt", 1}}, "prompt"},
      {{{"prompt", "x"}, {"steps", "20"}}, "steps"},
      {{{"prompt", "x"}, {"steps", 20.5}}, "steps"},
      {{{"prompt", "x"}, {"steps", 1e10}}, "steps"},
      {{{"prompt", "x"}, {"width", 4294967296}}, "width"},
      {{{"prompt", "x"}, {"height", -2147483649LL}}, "height"},
      {{{"prompt", "x"}, {"seed", 18446744073709551615ULL}}, "seed"},
      {{{"prompt", "x"}, {"seed", 1e19}}, "seed"},
      {{{"prompt", "x"}, {"cfg", "7"}}, "cfg"},
      {{{"prompt", "x"}, {"batch", true}}, "batch"},
      {{{"prompt", "x"}, {"clip_skip", json::array()}}, "clip_skip"},
      {{{"prompt", "x"}, {"strength", "high"}}, "strength"},
      {{{"prompt", "x"}, {"sampler", "heun"}}, "sampler"},
      {{{"prompt", "x"}, {"scheduler", "exponential"}}, "scheduler"},
      {{{"prompt", "x"}, {"spacing", "even"}}, "spacing"},
      {{{"prompt", "x"}, {"model", "../secret"}}, "model"},
      {{{"prompt", "x"}, {"model", "dir/model"}}, "model"},
      {{{"prompt", "x"}, {"model", "c:\\model"}}, "model"},
      {{{"prompt", "x"}, {"model", ""}}, "model"},
      {{{"prompt", "x"}, {"model", ".hidden"}}, "model"},
      {{{"prompt", "x"}, {"model", std::string("a\0b", 3)}}, "model"},
      {{{"prompt", "x"}, {"model", std::string(300, 'm')}}, "model"},
      {{{"prompt", "x"}, {"model", 3}}, "model"},
      {{{"prompt", "x"}, {"init_image", "not base64!"}}, "init_image"},
      {{{"prompt", "x"}, {"init_image", base64::encode(std::vector<uint8_t>{'G', 'I', 'F', '8'})}}, "init_image"},
      {{{"prompt", "x"}, {"init_image", truncated_png}}, "init_image"},
      {{{"prompt", "x"}, {"preview", "taesd"}}, "preview"},
      {{{"prompt", "x"}, {"preview", {{"method", "magic"}}}}, "preview.method"},
      {{{"prompt", "x"}, {"preview", {{"source", 1}}}}, "preview.source"},
      {{{"prompt", "x"}, {"preview", {{"count", "2"}}}}, "preview.count"},
      {{{"prompt", "x"}, {"preview", {{"formt", "png"}}}}, "preview.formt"},
      {{{"prompt", "x"}, {"preview", {{"format", "gif"}}}}, "preview.format"},
      {{{"prompt", "x"}, {"preview", {{"delivery", "email"}}}}, "preview.delivery"},
      {{{"prompt", "x"}, {"stream", "websocket"}}, "stream"},
      {{{"prompt", "x"}, {"stream", true}}, "stream"},
      {{{"prompt", "x"}, {"cancel_on_disconnect", "yes"}}, "cancel_on_disconnect"},
      {{{"prompt", "x"}, {"animation", 1}}, "animation"},
  };
  for (const auto& c : cases)  // (not a structured binding: clang 14 cannot capture one in a lambda)
    EXPECT_EQ(error_field([&] { parse_native_request(c.first, kDefaults, true); }), c.second) << c.first.dump();
  EXPECT_EQ(error_field([] { parse(R"({"prompt": "x", "stream": "sse"})", false); }), "stream");
  EXPECT_EQ(error_field([] { parse_native_request(json{{"prompt", "x"}}, RequestDefaults{}, false); }), "model");
  EXPECT_EQ(error_field([] { parse_native_request(json::array(), kDefaults, false); }), "");
}

TEST(NativeRequest, SuggestsTheFieldATypoMeant) {
  try {
    parse(R"({"prompt": "x", "preview": {"cuont": 3}})");
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_EQ(e.field(), "preview.cuont");
    EXPECT_STREQ(e.what(), "unknown field 'preview.cuont' (did you mean 'preview.count'?)");
  }
  const auto message = [](const char* body) {
    try {
      parse(body);
    } catch (const RequestError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(message(R"({"prompt": "x", "colour": 3})"), "unknown field 'colour'");
  EXPECT_EQ(message(R"({"prompt": "x", "sed": 3})"), "unknown field 'sed' (did you mean 'seed'?)");
  EXPECT_EQ(message(R"({"prompt": "x", "cf": 3})"), "unknown field 'cf'");  // too short to guess
}

TEST(JsonBody, RejectsMalformedJsonWithItsPosition) {
  try {
    parse_json_body(R"({"prompt": "x",})");
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_EQ(e.field(), "");
    EXPECT_NE(std::string(e.what()).find("malformed JSON (byte 16)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(error_field([] { parse_json_body("[1, 2]"); }), "");
  EXPECT_EQ(error_field([] { parse_json_body(""); }), "");
  EXPECT_EQ(error_field([] { parse_json_body("{\"a\": \"\xff\"}"); }), "");
  EXPECT_EQ(error_field([] { parse_json_body(R"({"steps": 1e400})"); }), "");  // out of double's range
  // The parser quotes what it stopped at; the message must stay valid UTF-8 to travel as JSON.
  try {
    parse_json_body("{\"a\": 1\x8e}");
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_NO_THROW((void)nlohmann::json(e.what()).dump());
  }
}

TEST(JsonBody, LimitsNesting) {
  const auto nested = [](int depth) {
    return "{\"a\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  EXPECT_NO_THROW(parse_json_body(nested(63)));
  EXPECT_EQ(error_field([&] { parse_json_body(nested(100000)); }), "");
}

TEST(ValidateForModel, NamesTheFieldOfEveryOutOfRangeValue) {
  const auto pixels = testing::gradient(16, 16);
  const std::string init = base64::encode(image::encode_png(pixels));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"prompt": "x", "steps": 0})", "steps"},
      {R"({"prompt": "x", "width": 500})", "width"},
      {R"({"prompt": "x", "height": 4096})", "height"},
      {R"({"prompt": "x", "cfg": -1})", "cfg"},
      {R"({"prompt": "x", "batch": 17})", "batch"},
      {R"({"prompt": "x", "seed": -2})", "seed"},
      {R"({"prompt": "x", "sampler": "ddim", "scheduler": "karras"})", "scheduler"},
      {R"({"prompt": "x", "preview": {"count": 2, "every_n_steps": 3}})", "preview.count"},
      {R"({"prompt": "x", "preview": {"quality": 101}})", "preview.quality"},
      {R"({"prompt": "x", "preview": {"max_size": 4}})", "preview.max_size"},
      {R"({"prompt": "x", "init_image": ")" + init + R"("})", "init_image"},
      {R"({"prompt": "x", "strength": 0, "width": 16, "height": 16, "init_image": ")" + init + R"("})", "strength"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(error_field([&] { validate_for_model(parse(c.first), kDefaults, 8); }), c.second) << c.first;
  EXPECT_NO_THROW(validate_for_model(parse(R"({"prompt": "x", "preview": {"count": 4}})"), kDefaults, 8));
  EXPECT_EQ(error_field([] { validate_for_model(parse(R"({"prompt": "x", "width": 520})"), kDefaults, 16); }), "width");
}

}  // namespace
}  // namespace darkroom::server
