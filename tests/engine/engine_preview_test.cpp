// Previews over real runs: which steps get one (exactly as the throttle says), what they show (the vae
// preview of the last step is the final image), decoding off the loop, tiny AE, and unavailable methods.
#include "../pipeline/tiny_model.hpp"
#include "darkroom/preview/preview_image.hpp"
#include "darkroom/preview/throttle.hpp"
#include "engine_fixture.hpp"
#include "support/golden.hpp"

namespace darkroom::engine::testing {
namespace {

std::vector<int> preview_steps(const std::vector<Event>& events) {
  std::vector<int> steps;
  for (const auto& p : bodies<Preview>(events)) steps.push_back(p.step);
  return steps;
}

// The throttle replayed over the run's own clock readings (Progress::elapsed_s is the time the engine
// gave the throttle at each step), so even min_interval_ms has one exact answer.
std::vector<int> throttle_steps(const preview::PreviewOptions& options, const std::vector<Progress>& progress) {
  preview::PreviewThrottle throttle(options, static_cast<int>(progress.size()));
  std::vector<int> steps;
  for (const auto& p : progress)
    if (throttle.due(p.step - 1, p.elapsed_s)) steps.push_back(p.step);
  return steps;
}

TEST(EnginePreviews, StepsAreExactlyTheThrottles) {
  auto options = tiny_options();
  options.preview_decoding = PreviewDecoding::inline_;  // every due preview is decoded (a decoder thread skips stale ones)
  Engine engine(options);
  struct Rule {
    std::string name;
    preview::PreviewOptions options;
  };
  std::vector<Rule> rules(4);
  for (auto& rule : rules) rule.options.method = preview::Method::latent2rgb;
  rules[0].name = "every step";
  rules[1].name = "every_n_steps 6";
  rules[1].options.every_n_steps = 6;
  rules[2].name = "count 4";
  rules[2].options.count = 4;
  rules[3].name = "min_interval_ms 25";
  rules[3].options.min_interval_ms = 25;
  std::map<std::pair<std::string, int>, std::vector<int>> seen;
  for (int steps : {1, 2, 4, 20, 50}) {
    for (const auto& rule : rules) {
      SCOPED_TRACE(rule.name + ", " + std::to_string(steps) + " steps");
      auto request = tiny_request(steps);
      request.preview = rule.options;
      auto job = run(engine, request);
      ASSERT_EQ(job->state(), JobState::completed);
      const auto events = all_events(*job);
      const auto progress = bodies<Progress>(events);
      ASSERT_EQ(progress.size(), static_cast<std::size_t>(steps));
      const auto steps_seen = preview_steps(events);
      EXPECT_EQ(steps_seen, throttle_steps(rule.options, progress));
      ASSERT_FALSE(steps_seen.empty());
      EXPECT_EQ(steps_seen.back(), steps);  // every rule previews the last step
      seen[{rule.name, steps}] = steps_seen;

      const auto previews = bodies<Preview>(events);
      for (std::size_t i = 0; i < previews.size(); ++i) {
        EXPECT_EQ(previews[i].index, static_cast<int>(i));
        EXPECT_EQ(previews[i].total, steps);
        EXPECT_EQ(previews[i].sigma, progress[previews[i].step - 1].sigma);
        EXPECT_EQ(previews[i].method, "latent2rgb");
        EXPECT_EQ(previews[i].image->width(), 8);  // latent resolution
      }
      // Inline: each preview follows its step's progress event directly.
      for (std::size_t i = 1; i < events.size(); ++i)
        if (auto p = events[i].as<Preview>()) EXPECT_EQ(events[i - 1].as<Progress>()->step, p->step);
    }
  }
  // The documented examples, by hand.
  const auto at = [&](const std::string& rule, int steps) { return seen[{rule, steps}]; };
  EXPECT_EQ(at("every_n_steps 6", 20), (std::vector<int>{6, 12, 18, 20}));
  EXPECT_EQ(at("count 4", 50), (std::vector<int>{13, 25, 38, 50}));
  EXPECT_EQ(at("count 4", 2), (std::vector<int>{1, 2}));
  EXPECT_EQ(at("every step", 4), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(at("every_n_steps 6", 4), (std::vector<int>{4}));
  EXPECT_EQ(at("min_interval_ms 25", 1), (std::vector<int>{1}));
}

image::Image final_image(const Job& job) {
  return *job.events()->latest(EventType::completed)->as<Completed>()->images.at(0);
}

TEST(EnginePreviews, VaePreviewOfTheLastStepIsTheFinalImage) {
  for (bool inline_previews : {false, true}) {
    for (auto source : {preview::Source::denoised, preview::Source::noisy}) {
      SCOPED_TRACE(std::string(inline_previews ? "inline " : "off-loop ") + std::string(preview::source_name(source)));
      auto options = tiny_options();
      options.preview_decoding = inline_previews ? PreviewDecoding::inline_ : PreviewDecoding::off_loop;
      Engine engine(options);
      auto request = tiny_request(8);
      request.preview.method = preview::Method::vae;
      request.preview.source = source;
      request.preview.count = 1;
      auto job = run(engine, request);
      const auto previews = bodies<Preview>(all_events(*job));
      ASSERT_EQ(previews.size(), 1u);
      EXPECT_EQ(previews[0].step, 8);
      EXPECT_EQ(previews[0].method, "vae");
      const auto& preview = previews[0].image->rgb();
      const auto final = final_image(*job);
      EXPECT_EQ(preview.width, final.width);
      EXPECT_EQ(preview.height, final.height);
      EXPECT_EQ(preview.pixels, final.pixels);
    }
  }
}

TEST(EnginePreviews, NoisyAndDenoisedDifferBeforeTheLastStep) {
  auto options = tiny_options();
  options.preview_decoding = PreviewDecoding::inline_;
  Engine engine(options);
  std::map<preview::Source, std::vector<Preview>> previews;
  for (auto source : {preview::Source::denoised, preview::Source::noisy}) {
    auto request = tiny_request(6);
    request.preview.method = preview::Method::vae;
    request.preview.source = source;
    previews[source] = bodies<Preview>(all_events(*run(engine, request)));
    ASSERT_EQ(previews[source].size(), 6u);
  }
  EXPECT_NE(previews[preview::Source::denoised][1].image->rgb().pixels,
            previews[preview::Source::noisy][1].image->rgb().pixels);
}

TEST(EnginePreviews, OffTheLoopTheNewestSnapshotWins) {
  Engine engine(tiny_options());
  auto request = tiny_request(20);
  request.preview.method = preview::Method::vae;  // the costliest decoder, every step
  request.preview.max_size = 32;
  auto job = run(engine, request);
  ASSERT_EQ(job->state(), JobState::completed);
  const auto events = all_events(*job);
  const auto previews = bodies<Preview>(events);
  ASSERT_FALSE(previews.empty());
  for (std::size_t i = 0; i < previews.size(); ++i) {
    EXPECT_EQ(previews[i].index, static_cast<int>(i));
    if (i > 0) EXPECT_GT(previews[i].step, previews[i - 1].step);
    EXPECT_EQ(previews[i].image->width(), 32);  // capped
    EXPECT_EQ(previews[i].image->height(), 32);
  }
  EXPECT_EQ(previews.back().step, 20);                              // the last step's preview is always delivered...
  EXPECT_EQ(events[events.size() - 2].type(), EventType::preview);  // ...before `completed`
  std::cout << "off-loop vae previews of a 20-step run: " << previews.size() << " decoded\n";
}

TEST(EnginePreviews, CheapDecodersRunInlineByDefault) {
  Engine engine(tiny_options());  // PreviewDecoding::by_cost
  auto request = tiny_request(10);
  request.preview.method = preview::Method::latent2rgb;
  const auto events = all_events(*run(engine, request));
  // Inline, each step's preview comes right after its progress event and before the next step's.
  int previews = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto* preview = events[i].as<Preview>();
    if (!preview) continue;
    ++previews;
    ASSERT_GT(i, 0u);
    const auto* progress = events[i - 1].as<Progress>();
    ASSERT_NE(progress, nullptr) << "preview " << preview->index << " does not follow a progress event";
    EXPECT_EQ(progress->step, preview->step);
  }
  EXPECT_EQ(previews, 10);
}

TEST(EnginePreviews, TinyAutoencoderAndAuto) {
  auto options = tiny_options();
  options.taesd = golden::path("taesd/taesd_tiny_random_decoder.safetensors");
  options.workers = 2;  // two jobs share the one tiny decoder
  Engine engine(options);
  const auto caps = engine.capabilities("tiny");
  EXPECT_TRUE(caps.taesd);
  EXPECT_TRUE(caps.latent2rgb);
  EXPECT_TRUE(caps.vae);
  EXPECT_EQ(caps.auto_method, preview::Method::taesd);
  auto request = tiny_request(4);
  request.preview.method = preview::Method::auto_;
  auto first = engine.submit(request);
  auto second = engine.submit(request);
  for (const auto& job : {first, second}) {
    job->wait();
    const auto previews = bodies<Preview>(all_events(*job));
    ASSERT_FALSE(previews.empty());
    EXPECT_EQ(previews.back().method, "taesd");
    EXPECT_EQ(previews.back().image->width(), 64);  // full resolution
  }
}

TEST(EnginePreviews, AnUnavailableMethodIsSkippedWithANotice) {
  Engine engine(tiny_options());  // no tiny autoencoder
  EXPECT_EQ(engine.capabilities("tiny").auto_method, preview::Method::latent2rgb);
  auto request = tiny_request(4);
  request.preview.method = preview::Method::taesd;
  auto job = run(engine, request);
  EXPECT_EQ(job->state(), JobState::completed);
  const auto events = all_events(*job);
  EXPECT_TRUE(bodies<Preview>(events).empty());
  const auto notices = bodies<Notice>(events);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].code, "preview_unavailable");
  EXPECT_NE(notices[0].message.find("taesd"), std::string::npos) << notices[0].message;
}

}  // namespace
}  // namespace darkroom::engine::testing
