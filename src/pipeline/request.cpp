#include "darkroom/pipeline/request.hpp"

#include <algorithm>
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

int max_clip_skip(const io::ModelSource& source) {
  int layers = static_cast<int>(source.text_config.layers) - source.text_skip_offset;
  if (source.text_encoder_2) layers = std::min(layers, static_cast<int>(source.text_encoder_2->config.layers)) - 1;
  return layers;
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
  require(r.negative_prompt.value_or("").size() <= limits.max_prompt_bytes, "negative_prompt",
          "is longer than " + std::to_string(limits.max_prompt_bytes) + " bytes");
  const auto pixels = uint64_t(r.width) * uint64_t(r.height) * uint64_t(r.batch);
  require(limits.max_pixels == 0 || pixels <= limits.max_pixels, "batch",
          "width x height x batch is " + std::to_string(pixels) + " pixels, more than the " +
              std::to_string(limits.max_pixels) + " this server allows in one job (max_pixels); ask for fewer or smaller images");
  const auto latent = uint64_t(r.width / latent_scale) * uint64_t(r.height / latent_scale);
  const auto work = latent * uint64_t(r.batch) * uint64_t(r.steps);
  require(limits.max_work == 0 || work <= limits.max_work, "steps",
          "latent pixels x batch x steps is " + std::to_string(work) + ", more than the work budget of " +
              std::to_string(limits.max_work) + " this server allows in one job (max_work); ask for fewer steps, fewer or smaller images");
  const auto size_ok = [](const std::optional<ImageSize>& size) {
    return !size || (size->width >= 1 && size->width <= 16384 && size->height >= 1 && size->height <= 16384);
  };
  require(size_ok(r.original_size), "original_size", "width and height must be between 1 and 16384");
  require(size_ok(r.target_size), "target_size", "width and height must be between 1 and 16384");
  require(!r.crop_top_left || (r.crop_top_left->x >= 0 && r.crop_top_left->x <= 16384 && r.crop_top_left->y >= 0 &&
                               r.crop_top_left->y <= 16384),
          "crop_top_left", "x and y must be between 0 and 16384");
  if (r.init_image) validate_img2img(r, r.init_image->width, r.init_image->height);
}

void validate_img2img(const GenerationRequest& r, int image_width, int image_height) {
  require(r.strength > 0 && r.strength <= 1, "strength", "must be in (0, 1]");
  // img2img runs the last steps x strength steps of the schedule (rounded down, as diffusers does).
  require(static_cast<int>(r.steps * r.strength) >= 1, "strength",
          "with " + std::to_string(r.steps) + " steps, strength " + std::to_string(r.strength) +
              " leaves no denoising step (steps x strength must be at least 1)");
  require(image_width == r.width && image_height == r.height, "init_image",
          "must be " + std::to_string(r.width) + "x" + std::to_string(r.height) + " (the requested size), got " +
              std::to_string(image_width) + "x" + std::to_string(image_height));
}

}  // namespace darkroom::pipeline
