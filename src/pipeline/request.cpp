#include "darkroom/pipeline/request.hpp"

#include <stdexcept>
#include <string>

namespace darkroom::pipeline {
namespace {

void require(bool ok, const std::string& field, const std::string& rule) {
  if (!ok) throw std::invalid_argument(field + ": " + rule);
}

}  // namespace

ModelDefaults model_defaults(const io::ModelSource& source) {
  ModelDefaults defaults;
  defaults.image_size = source.image_size;
  if (source.noise_schedule.timestep_spacing) defaults.spacing = sampling::parse_spacing(*source.noise_schedule.timestep_spacing);
  defaults.cfg = source.guidance_scale;
  return defaults;
}

void use_model_defaults(GenerationRequest& request, const ModelDefaults& defaults) {
  if (request.width == 0) request.width = defaults.image_size;
  if (request.height == 0) request.height = defaults.image_size;
  if (!request.spacing) request.spacing = defaults.spacing;
  if (!request.cfg) request.cfg = defaults.cfg.value_or(kDefaultGuidanceScale);
}

void validate(const GenerationRequest& r, const RequestLimits& limits, int latent_scale) {
  const std::string side = "a multiple of " + std::to_string(latent_scale) + " between " +
                           std::to_string(latent_scale) + " and " + std::to_string(limits.max_side);
  // 0 is the model's own size, filled in by use_model_defaults once the model is known.
  const auto side_ok = [&](int v) {
    return v == 0 || (v >= latent_scale && v <= limits.max_side && v % latent_scale == 0);
  };
  require(side_ok(r.width), "width", "must be " + side + " (or 0: the model's own size), got " + std::to_string(r.width));
  require(side_ok(r.height), "height", "must be " + side + " (or 0: the model's own size), got " + std::to_string(r.height));
  require(r.steps >= 1 && r.steps <= limits.max_steps, "steps",
          "must be between 1 and " + std::to_string(limits.max_steps) + ", got " + std::to_string(r.steps));
  require(!r.cfg || (*r.cfg >= 0 && *r.cfg <= 100), "cfg", "must be between 0 and 100");
  require(r.batch >= 1 && r.batch <= limits.max_batch, "batch",
          "must be between 1 and " + std::to_string(limits.max_batch) + ", got " + std::to_string(r.batch));
  require(r.clip_skip >= 1 && r.clip_skip <= 12, "clip_skip", "must be between 1 and 12");
  require(r.seed >= -1, "seed", "must be -1 (random) or a non-negative integer");
  require(r.prompt.size() <= limits.max_prompt_bytes, "prompt",
          "is longer than " + std::to_string(limits.max_prompt_bytes) + " bytes");
  require(r.negative_prompt.size() <= limits.max_prompt_bytes, "negative_prompt",
          "is longer than " + std::to_string(limits.max_prompt_bytes) + " bytes");
  if (r.init_image) {
    require(r.strength > 0 && r.strength <= 1, "strength", "must be in (0, 1]");
    require(r.init_image->width == r.width && r.init_image->height == r.height, "init_image",
            "must be " + std::to_string(r.width) + "x" + std::to_string(r.height) + " (the requested size)");
  }
}

}  // namespace darkroom::pipeline
