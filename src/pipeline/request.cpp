#include "darkroom/pipeline/request.hpp"

#include <stdexcept>
#include <string>

namespace darkroom::pipeline {
namespace {

void require(bool ok, const std::string& field, const std::string& rule) {
  if (!ok) throw std::invalid_argument(field + ": " + rule);
}

}  // namespace

void validate(const GenerationRequest& r, const RequestLimits& limits, int latent_scale) {
  const std::string side = "a multiple of " + std::to_string(latent_scale) + " between " +
                           std::to_string(latent_scale) + " and " + std::to_string(limits.max_side);
  require(r.width >= latent_scale && r.width <= limits.max_side && r.width % latent_scale == 0, "width",
          "must be " + side + ", got " + std::to_string(r.width));
  require(r.height >= latent_scale && r.height <= limits.max_side && r.height % latent_scale == 0, "height",
          "must be " + side + ", got " + std::to_string(r.height));
  require(r.steps >= 1 && r.steps <= limits.max_steps, "steps",
          "must be between 1 and " + std::to_string(limits.max_steps) + ", got " + std::to_string(r.steps));
  require(r.cfg >= 0 && r.cfg <= 100, "cfg", "must be between 0 and 100");
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
