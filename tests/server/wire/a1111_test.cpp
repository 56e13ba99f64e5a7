#include "darkroom/server/a1111.hpp"

#include <gtest/gtest.h>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/server/base64.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using sampling::SamplerKind;
using sampling::SigmaSchedule;
using testing::error_field;

const RequestDefaults kDefaults{"sd15", {}};

A1111Request parse(const std::string& body) { return parse_a1111_txt2img(json::parse(body), kDefaults); }

TEST(A1111Txt2Img, ReadsItsFieldsAndIgnoresTheRest) {
  const std::string body = R"({"prompt": "a cat", "negative_prompt": "dog", "width": 640, "height": 448,
    "steps": 25, "cfg_scale": 6.5, "seed": 77, "sampler_name": "DPM++ 2M Karras", "batch_size": 3, "n_iter": 1,
    "override_settings": {"CLIP_stop_at_last_layers": 2, "sd_model_checkpoint": "sdxl.safetensors", "eta_noise_seed_delta": 31337},
    "enable_hr": true, "restore_faces": false, "script_args": [], "alwayson_scripts": {}})";
  const auto r = parse(body);
  const auto& g = r.job.generation;
  EXPECT_EQ(r.job.model, "sdxl.safetensors");
  EXPECT_EQ(g.prompt, "a cat");
  EXPECT_EQ(g.negative_prompt, "dog");
  EXPECT_EQ(g.width, 640);
  EXPECT_EQ(g.height, 448);
  EXPECT_EQ(g.steps, 25);
  EXPECT_EQ(g.cfg, 6.5);
  EXPECT_EQ(g.seed, 77);
  EXPECT_EQ(g.sampler, SamplerKind::dpmpp_2m);
  EXPECT_EQ(g.scheduler, SigmaSchedule::karras);
  EXPECT_EQ(g.batch, 3);
  EXPECT_EQ(g.clip_skip, 2);
  EXPECT_EQ(r.sampler_name, "DPM++ 2M Karras");
  EXPECT_EQ(r.parameters, json::parse(body));
}

TEST(A1111Txt2Img, UsesA1111sDefaults) {
  const auto r = parse("{}");
  EXPECT_EQ(r.job.model, "sd15");
  EXPECT_EQ(r.job.generation.prompt, "");
  EXPECT_EQ(r.job.generation.steps, 50);
  EXPECT_FALSE(r.job.generation.cfg);  // A1111's 7 or the model's own scale, once the model is known
  EXPECT_EQ(r.job.generation.sampler, SamplerKind::euler);
  EXPECT_EQ(r.job.generation.scheduler, SigmaSchedule::discrete);
  EXPECT_EQ(r.sampler_name, "Euler");
}

TEST(A1111Txt2Img, TakesA1111AndDarkroomSamplerNames) {
  struct Case {
    std::string sampler;
    std::string scheduler;
    SamplerKind kind;
    SigmaSchedule schedule;
    std::optional<sampling::Spacing> spacing;
  };
  const std::vector<Case> cases = {
      {"Euler a", "", SamplerKind::euler_a, SigmaSchedule::discrete, std::nullopt},
      {"euler A", "Automatic", SamplerKind::euler_a, SigmaSchedule::discrete, std::nullopt},
      {"k_euler_ancestral", "", SamplerKind::euler_a, SigmaSchedule::discrete, std::nullopt},
      {"euler_a", "", SamplerKind::euler_a, SigmaSchedule::discrete, std::nullopt},
      {"Euler a Karras", "", SamplerKind::euler_a, SigmaSchedule::karras, std::nullopt},
      {"DPM++ 2M", "Karras", SamplerKind::dpmpp_2m, SigmaSchedule::karras, std::nullopt},
      {"dpm++2m", "karras", SamplerKind::dpmpp_2m, SigmaSchedule::karras, std::nullopt},
      {"DPM++ 2M Karras", "Automatic", SamplerKind::dpmpp_2m, SigmaSchedule::karras, std::nullopt},
      {"DPM++ 2M Karras", "Uniform", SamplerKind::dpmpp_2m, SigmaSchedule::discrete, sampling::Spacing::linspace},
      {"DDIM", "DDIM", SamplerKind::ddim, SigmaSchedule::discrete, sampling::Spacing::leading},
      {"Euler", "SGM Uniform", SamplerKind::euler, SigmaSchedule::discrete, sampling::Spacing::trailing},
      {"Euler", "sgm_uniform", SamplerKind::euler, SigmaSchedule::discrete, sampling::Spacing::trailing},
      {"LCM", "Simple", SamplerKind::lcm, SigmaSchedule::discrete, sampling::Spacing::trailing},
      {"", "Normal", SamplerKind::euler, SigmaSchedule::discrete, sampling::Spacing::linspace},
  };
  for (const auto& c : cases) {
    const auto r = parse(json{{"sampler_name", c.sampler}, {"scheduler", c.scheduler}}.dump());
    EXPECT_EQ(r.job.generation.sampler, c.kind) << c.sampler << " / " << c.scheduler;
    EXPECT_EQ(r.job.generation.scheduler, c.schedule) << c.sampler << " / " << c.scheduler;
    EXPECT_EQ(r.job.generation.spacing, c.spacing) << c.sampler << " / " << c.scheduler;
  }
  EXPECT_EQ(parse(R"({"sampler_index": "Euler a"})").job.generation.sampler, SamplerKind::euler_a);
  EXPECT_EQ(parse(R"({"sampler_index": "Euler a", "sampler_name": "DDIM"})").job.generation.sampler, SamplerKind::ddim);
}

TEST(A1111Txt2Img, NamesTheFieldOfEveryBadInput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", ""},
      {R"({"prompt": ["a"]})", "prompt"},
      {R"({"steps": "20"})", "steps"},
      {R"({"width": 512.5})", "width"},
      {R"({"cfg_scale": "7"})", "cfg_scale"},
      {R"({"seed": "42"})", "seed"},
      {R"({"batch_size": false})", "batch_size"},
      {R"({"n_iter": 2})", "n_iter"},
      {R"({"sampler_name": "Heun"})", "sampler_name"},
      {R"({"sampler_name": "Heun Karras"})", "sampler_name"},
      {R"({"sampler_name": 3})", "sampler_name"},
      {R"({"sampler_index": "UniPC"})", "sampler_index"},
      {R"({"scheduler": "Beta"})", "scheduler"},
      {R"({"override_settings": "x"})", "override_settings"},
      {R"({"override_settings": {"CLIP_stop_at_last_layers": "2"}})", "override_settings.CLIP_stop_at_last_layers"},
      {R"({"override_settings": {"sd_model_checkpoint": "../x"}})", "override_settings.sd_model_checkpoint"},
  };
  // (pairs, not structured bindings: clang 14 cannot capture those in a lambda)
  for (const auto& c : cases) EXPECT_EQ(error_field([&] { parse(c.first); }), c.second) << c.first;
  EXPECT_EQ(error_field([] { parse_a1111_txt2img(json::object(), RequestDefaults{}); }),
            "override_settings.sd_model_checkpoint");
}

TEST(A1111Txt2Img, ValidationNamesTheA1111Field) {
  const auto validate = [](const char* body) {
    return error_field([&] { validate_a1111_request(parse(body), kDefaults, 8); });
  };
  EXPECT_EQ(validate(R"({"cfg_scale": 200})"), "cfg_scale");
  EXPECT_EQ(validate(R"({"batch_size": 100})"), "batch_size");
  EXPECT_EQ(validate(R"({"steps": 0})"), "steps");
  EXPECT_EQ(validate(R"({"override_settings": {"CLIP_stop_at_last_layers": 13}})"),
            "override_settings.CLIP_stop_at_last_layers");
  EXPECT_EQ(validate(R"({"steps": 20})"), "<no error>");
}

TEST(A1111Response, CarriesPngsInfoAndTheRequest) {
  const auto r = parse(R"({"prompt": "a cat", "sampler_name": "Euler a", "batch_size": 2, "width": 16, "height": 8})");
  const std::vector<std::shared_ptr<const image::Image>> images = {
      std::make_shared<const image::Image>(testing::gradient(16, 8)),
      std::make_shared<const image::Image>(testing::gradient(16, 8))};
  const json j = a1111_txt2img_response(r, images, 1234);
  ASSERT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(image::decode_png(base64::decode(j["images"][1].get<std::string>())).pixels, images[1]->pixels);
  EXPECT_EQ(j["parameters"], r.parameters);
  const json info = json::parse(j["info"].get<std::string>());
  EXPECT_EQ(info["seed"], 1234);
  EXPECT_EQ(info["all_seeds"], json({1234, 1234}));
  EXPECT_EQ(info["prompt"], "a cat");
  EXPECT_EQ(info["sampler_name"], "Euler a");
  EXPECT_EQ(info["sd_model_name"], "sd15");
  EXPECT_EQ(info["infotexts"][0], pipeline::infotext(r.job.generation, 1234, "sd15"));
}

TEST(A1111Progress, HasA1111sShape) {
  A1111Progress p;
  p.progress = 0.5;
  p.eta_relative = 3.0;
  p.job = "job-1";
  p.job_count = 1;
  p.sampling_step = 10;
  p.sampling_steps = 20;
  p.textinfo = "denoising";
  json expected = json::parse(R"({"progress": 0.5, "eta_relative": 3.0, "state": {"skipped": false,
    "interrupted": false, "job": "job-1", "job_count": 1, "job_no": 0, "sampling_step": 10, "sampling_steps": 20},
    "current_image": null, "textinfo": "denoising"})");
  EXPECT_EQ(a1111_progress_json(p), expected);
  p.current_image = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{1, 2, 3});
  expected["current_image"] = "AQID";
  EXPECT_EQ(a1111_progress_json(p), expected);
}

TEST(A1111Lists, ListSamplersThatParseBackAndModels) {
  const json samplers = a1111_samplers_json();
  ASSERT_EQ(samplers.size(), 6u);
  for (const auto& s : samplers) {
    const auto r = parse(json{{"sampler_name", s["name"]}}.dump());
    EXPECT_EQ(r.job.generation.scheduler == SigmaSchedule::karras, s["options"].value("scheduler", "") == "karras");
    for (const auto& alias : s["aliases"])
      EXPECT_EQ(parse(json{{"sampler_name", alias}}.dump()).job.generation.sampler, r.job.generation.sampler);
  }
  EXPECT_EQ(samplers[1], json::parse(R"({"name": "Euler a", "aliases": ["k_euler_a", "k_euler_ancestral"], "options": {}})"));
  EXPECT_EQ(a1111_models_json({{"v1-5.safetensors", "/models/v1-5.safetensors"}, {"sdxl-turbo", "/models/sdxl-turbo"}}),
            json::parse(R"([{"title": "v1-5.safetensors", "model_name": "v1-5", "hash": null, "sha256": null,
                              "filename": "/models/v1-5.safetensors", "config": null},
                             {"title": "sdxl-turbo", "model_name": "sdxl-turbo", "hash": null, "sha256": null,
                              "filename": "/models/sdxl-turbo", "config": null}])"));
}

}  // namespace
}  // namespace darkroom::server
