// Interruption points inside every model pass of a generation: a stop request is looked at many times a
// step, in the text encoder, the UNet and the VAE, and what the check throws ends generate() right there.
#include <gtest/gtest.h>

#include <map>

#include "darkroom/models/interruption.hpp"
#include "tiny_model.hpp"

namespace darkroom::pipeline {
namespace {

struct Stop {};

GenerationRequest tiny_request(int steps) {
  GenerationRequest request;
  request.prompt = "a red circle";
  request.width = request.height = 64;
  request.steps = steps;
  request.seed = 1;
  return request;
}

// Counts the checks each phase makes; `stop_in` throws Stop at that phase's first check.
struct PhaseChecks {
  Phase phase = Phase::loading_model;
  std::map<Phase, int> checks;
  int steps = 0;
  std::optional<Phase> stop_in;

  GenerationObserver observer() {
    GenerationObserver o;
    o.on_phase = [this](Phase p) { phase = p; };
    o.on_step = [this](const sampling::StepInfo&) { ++steps; };
    o.interrupt = [this] {
      ++checks[phase];
      if (stop_in == phase) throw Stop{};
    };
    return o;
  }
};

TEST(Interruption, EveryModelPassIsCheckedManyTimesAStep) {
  const auto model = golden::tiny_sd1(golden::TinyLayout::single_file);
  PhaseChecks record;
  model->generate(tiny_request(2), record.observer());
  const int text_layers = static_cast<int>(model->source().text_config.layers);
  // Prompt and negative prompt: every text encoder layer of each.
  EXPECT_GE(record.checks[Phase::encoding_prompt], 2 * text_layers);
  // At least every resnet (twice) and transformer block (three times) of the UNet, every step.
  EXPECT_GE(record.checks[Phase::denoising], 2 * 20);
  EXPECT_GE(record.checks[Phase::decoding], 10);
}

TEST(Interruption, AThrowingCheckEndsTheGenerationInItsPhase) {
  const auto model = golden::tiny_sd1(golden::TinyLayout::single_file);
  for (const auto phase : {Phase::encoding_prompt, Phase::denoising, Phase::decoding}) {
    PhaseChecks record;
    record.stop_in = phase;
    EXPECT_THROW(model->generate(tiny_request(3), record.observer()), Stop) << phase_name(phase);
    EXPECT_EQ(record.phase, phase);
    EXPECT_EQ(record.checks[phase], 1) << "stopped at the first check of " << phase_name(phase);
    // Stopped inside the first UNet pass: no step completed.
    if (phase != Phase::decoding) EXPECT_EQ(record.steps, 0) << phase_name(phase);
  }
}

TEST(Interruption, ScopesNestAndEndWithTheirOwner) {
  int outer = 0, inner = 0;
  {
    const models::InterruptionScope a([&] { ++outer; });
    models::interruption_point();
    {
      const models::InterruptionScope b([&] { ++inner; });
      models::interruption_point();
    }
    models::interruption_point();
  }
  models::interruption_point();  // no scope: nothing runs
  EXPECT_EQ(outer, 2);
  EXPECT_EQ(inner, 1);
}

}  // namespace
}  // namespace darkroom::pipeline
