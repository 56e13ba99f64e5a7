// The A1111 dialect end to end: txt2img, live progress with its preview image, interrupt, and the lists
// A1111 clients read, against a real server and the tiny model.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "darkroom/image/png.hpp"
#include "darkroom/server/base64.hpp"
#include "server_fixture.hpp"
#include "support/wait.hpp"

namespace darkroom::server::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = boost::beast::http;
using darkroom::testing::wait_until;

json txt2img_request(int steps) {
  return {{"prompt", "a red circle"}, {"negative_prompt", "blur"}, {"width", 64}, {"height", 64}, {"steps", steps},
          {"seed", 7}, {"sampler_name", "Euler a"}, {"cfg_scale", 5}, {"n_iter", 1},
          // Fields A1111 clients send that mean nothing here are ignored.
          {"enable_hr", false}, {"restore_faces", false}, {"script_args", json::array()}};
}

TEST(A1111, Txt2imgReturnsPngsWithParametersAndInfo) {
  TestServer server;
  auto body = txt2img_request(4);
  body["batch_size"] = 2;
  const auto reply = post_json(server.port(), "/sdapi/v1/txt2img", body);
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const auto answer = reply.json();
  EXPECT_EQ(answer.at("parameters"), body);
  ASSERT_EQ(answer.at("images").size(), 2u);
  for (const auto& b64 : answer.at("images")) {
    const auto png = base64::decode(b64.get<std::string>());
    const auto picture = image::decode_png(png);
    EXPECT_EQ(picture.width, 64);
    EXPECT_EQ(picture.height, 64);
    const std::string bytes(png.begin(), png.end());
    EXPECT_NE(bytes.find("parameters"), std::string::npos);  // the infotext chunk, uncompressed tEXt
    EXPECT_NE(bytes.find("Seed: 7"), std::string::npos);
  }
  const auto info = json::parse(answer.at("info").get<std::string>());
  EXPECT_EQ(info.at("seed"), 7);
  EXPECT_EQ(info.at("all_seeds"), json({7, 7}));
  EXPECT_EQ(info.at("prompt"), "a red circle");
  EXPECT_EQ(info.at("sampler_name"), "Euler a");
  EXPECT_EQ(info.at("cfg_scale"), 5);
  EXPECT_EQ(info.at("infotexts").size(), 2u);

  body.erase("cfg_scale");  // A1111's own default, as the model (SD1) recommends none
  body["batch_size"] = 1;
  const auto defaulted = post_json(server.port(), "/sdapi/v1/txt2img", body);
  ASSERT_EQ(defaulted.status, 200u) << defaulted.body;
  EXPECT_EQ(json::parse(defaulted.json().at("info").get<std::string>()).at("cfg_scale"), 7);
}

TEST(A1111, BadRequestsAnswer422NamingTheField) {
  TestServer server;
  const std::vector<std::pair<json, std::string>> bad{
      {{{"n_iter", 2}}, "n_iter"},
      {{{"steps", 0}}, "steps"},
      {{{"sampler_name", "Heun"}}, "sampler_name"},
      {{{"cfg_scale", "high"}}, "cfg_scale"},
      {{{"width", 63}}, "width"},
      {{{"override_settings", {{"sd_model_checkpoint", "nope"}}}}, "override_settings.sd_model_checkpoint"},
      {{{"override_settings", {{"show_progress_every_n_steps", -5}}}}, "override_settings.show_progress_every_n_steps"},
  };
  for (const auto& [change, field] : bad) {
    SCOPED_TRACE(field);
    auto body = txt2img_request(4);
    body.update(change);
    const auto reply = post_json(server.port(), "/sdapi/v1/txt2img", body);
    EXPECT_EQ(reply.status, 422u) << reply.body;
    const auto error = reply.json();
    EXPECT_EQ(error.at("field"), field) << reply.body;
    EXPECT_TRUE(error.at("error").is_string());
    EXPECT_NE(error.at("detail").get<std::string>().find(field), std::string::npos) << reply.body;
    EXPECT_EQ(error.at("errors"), error.at("detail"));
  }
  const auto malformed = request(server.port(), http::verb::post, "/sdapi/v1/txt2img", "{", {{"Content-Type", "application/json"}});
  EXPECT_EQ(malformed.status, 422u);
  EXPECT_TRUE(malformed.json().contains("detail"));
}

// While a long txt2img runs, /progress shows its step and newest preview; /interrupt ends it, and the
// txt2img call then answers as A1111 does, with no images. The preview period comes from the request's
// override_settings, so the test waits for a few steps, not ten, on a machine that may be slow.
TEST(A1111, ProgressShowsThePreviewAndInterruptCancels) {
  TestServer server;
  const auto port = server.port();
  const auto idle = get(port, "/sdapi/v1/progress").json();
  EXPECT_EQ(idle.at("progress"), 0);
  EXPECT_EQ(idle.at("current_image"), nullptr);
  EXPECT_EQ(idle.at("state").at("job_count"), 0);

  constexpr int kPreviewEvery = 2;
  HttpReply generated;
  std::atomic<bool> answered = false;
  std::thread caller([&] {
    auto body = txt2img_request(1000);  // 10 s unless interrupted
    body["override_settings"] = {{"show_progress_every_n_steps", kPreviewEvery}};
    generated = post_json(port, "/sdapi/v1/txt2img", body);
    answered = true;
  });
  // Polled until it shows a preview, or the call answered (too early: the assertions below say how).
  json progress;
  const bool watched = wait_until(
      [&] {
        progress = get(port, "/sdapi/v1/progress?skip_current_image=false").json();
        return answered || !progress.at("current_image").is_null();
      },
      120s, 20ms);
  const auto without_image = get(port, "/sdapi/v1/progress?skip_current_image=true").json();
  const auto bad_flag = get(port, "/sdapi/v1/progress?skip_current_image=maybe");
  const auto interrupted = request(port, http::verb::post, "/sdapi/v1/interrupt");
  caller.join();
  ASSERT_TRUE(watched) << "neither a preview nor the txt2img answer within 120 s: " << progress.dump();
  EXPECT_EQ(interrupted.status, 200u);

  ASSERT_TRUE(progress.at("current_image").is_string()) << progress.dump() << "\n" << generated.body.substr(0, 500);
  const auto preview = image::decode_png(base64::decode(progress.at("current_image").get<std::string>()));
  EXPECT_GT(preview.width, 0);
  EXPECT_GT(progress.at("progress").get<double>(), 0.0);
  EXPECT_LT(progress.at("progress").get<double>(), 1.0);
  EXPECT_EQ(progress.at("state").at("sampling_steps"), 1000);
  // The first preview is after step 2, and a progress never reports a step older than its image.
  EXPECT_GE(progress.at("state").at("sampling_step").get<int>(), kPreviewEvery) << progress.at("state").dump();
  EXPECT_EQ(progress.at("state").at("job_count"), 1);
  EXPECT_EQ(without_image.at("current_image"), nullptr);
  EXPECT_EQ(without_image.at("state").at("job_count"), 1);
  EXPECT_EQ(bad_flag.status, 422u);
  ASSERT_EQ(generated.status, 200u) << generated.body;
  EXPECT_TRUE(generated.json().at("images").empty());
  EXPECT_EQ(get(port, "/sdapi/v1/progress").json().at("progress"), 0);
  EXPECT_EQ(request(port, http::verb::post, "/sdapi/v1/interrupt").status, 200u);  // nothing to interrupt: still 200
}

// show_progress_every_n_steps 0 (A1111: "disabled") means no live previews at all.
TEST(A1111, APreviewPeriodOfZeroShowsNoPreviews) {
  TestServer server;
  const auto port = server.port();
  EXPECT_EQ(get(port, "/sdapi/v1/options").json().at("show_progress_every_n_steps"), 10);
  ASSERT_EQ(post_json(port, "/sdapi/v1/options", {{"show_progress_every_n_steps", 0}}).status, 200u);
  EXPECT_EQ(get(port, "/sdapi/v1/options").json().at("show_progress_every_n_steps"), 0);

  // A long job, watched until it is past step 20 (two of the default periods), then interrupted: however
  // slow the machine, the polls see those steps and never an image.
  HttpReply generated;
  std::atomic<bool> answered = false;
  std::thread caller([&] {
    generated = post_json(port, "/sdapi/v1/txt2img", txt2img_request(1000));
    answered = true;
  });
  int step = 0;
  const bool watched = wait_until(
      [&] {
        if (answered) return true;  // too early: the assertions below say how
        const auto progress = get(port, "/sdapi/v1/progress").json();
        EXPECT_EQ(progress.at("current_image"), nullptr);
        step = progress.at("state").at("sampling_step").get<int>();
        return step >= 20;
      },
      120s, 5ms);
  EXPECT_EQ(request(port, http::verb::post, "/sdapi/v1/interrupt").status, 200u);
  caller.join();
  EXPECT_TRUE(watched) << "neither step 20 nor the txt2img answer within 120 s";
  EXPECT_GE(step, 20);
  ASSERT_EQ(generated.status, 200u) << generated.body;
  EXPECT_TRUE(generated.json().at("images").empty());  // interrupted
}

TEST(A1111, SamplersModelsAndOptions) {
  TestServer server;
  const auto port = server.port();
  const auto samplers = get(port, "/sdapi/v1/samplers").json();
  std::vector<std::string> names;
  for (const auto& sampler : samplers) {
    names.push_back(sampler.at("name"));
    EXPECT_TRUE(sampler.at("aliases").is_array());
    EXPECT_TRUE(sampler.at("options").is_object());
  }
  for (const auto* name : {"Euler", "Euler a", "DPM++ 2M", "DDIM", "LCM"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;

  const auto models = get(port, "/sdapi/v1/sd-models").json();
  ASSERT_EQ(models.size(), 3u);  // sd1_tiny, sd1_tiny_unconfigured, sdxl_tiny
  EXPECT_EQ(models[0].at("title"), "sd1_tiny");
  EXPECT_EQ(models[0].at("model_name"), "sd1_tiny");
  EXPECT_EQ(models[0].at("filename"), "sd1_tiny.safetensors");
  EXPECT_EQ(models[0].at("hash"), nullptr);

  EXPECT_EQ(get(port, "/sdapi/v1/options").json().at("sd_model_checkpoint"), "sd1_tiny");
  const auto unknown = post_json(port, "/sdapi/v1/options", {{"sd_model_checkpoint", "nope"}});
  EXPECT_EQ(unknown.status, 422u);
  EXPECT_EQ(unknown.json().at("field"), "sd_model_checkpoint");
  const json options{{"sd_model_checkpoint", "sd1_tiny"}, {"samples_format", "png"}};
  EXPECT_EQ(post_json(port, "/sdapi/v1/options", options).status, 200u);

  // A bad setting changes nothing, not even the good settings beside it.
  const json half_bad{{"show_progress_every_n_steps", 3}, {"sd_model_checkpoint", "nope"}};
  EXPECT_EQ(post_json(port, "/sdapi/v1/options", half_bad).status, 422u);
  EXPECT_EQ(get(port, "/sdapi/v1/options").json().at("show_progress_every_n_steps"), 10);
  for (const json& period : {json(-2), json("often"), json(2.5)}) {
    const auto bad = post_json(port, "/sdapi/v1/options", {{"show_progress_every_n_steps", period}});
    EXPECT_EQ(bad.status, 422u) << period;
    EXPECT_EQ(bad.json().at("field"), "show_progress_every_n_steps") << period;
  }
}

}  // namespace
}  // namespace darkroom::server::testing
