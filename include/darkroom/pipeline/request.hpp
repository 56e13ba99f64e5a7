#pragma once
// One generation request. The library struct, the server's JSON body and the CLI flags share these
// names (see docs and ../shared/design.md, "The request").
#include <cstdint>
#include <optional>
#include <string>

#include "darkroom/image/png.hpp"
#include "darkroom/io/model_source.hpp"
#include "darkroom/sampling/schedule.hpp"

namespace darkroom::pipeline {

// The classifier-free guidance scale of SD's reference pipelines, for models that recommend none.
inline constexpr double kDefaultGuidanceScale = 7.5;

// SDXL's size conditioning, in pixels.
struct ImageSize {
  int width = 0;
  int height = 0;
  bool operator==(const ImageSize&) const = default;
};
struct CropOffset {
  int x = 0;  // left
  int y = 0;  // top
  bool operator==(const CropOffset&) const = default;
};

struct GenerationRequest {
  std::string prompt;
  // Absent is not the same as empty for SDXL models (io::ModelSource::force_zeros_for_empty_prompt): no
  // negative prompt guides away from zero conditioning, as diffusers does; "" encodes the empty prompt.
  // Other families encode "" either way.
  std::optional<std::string> negative_prompt;
  int width = 0;   // 0: the model's native size (io::ModelSource::image_size; 512 for SD1)
  int height = 0;
  int steps = 20;
  std::optional<double> cfg;  // absent: the model's (io::ModelSource::guidance_scale), else kDefaultGuidanceScale
  sampling::SamplerKind sampler = sampling::SamplerKind::euler;
  sampling::SigmaSchedule scheduler = sampling::SigmaSchedule::discrete;
  std::optional<sampling::Spacing> spacing;  // absent: the model's, else what the reference pipeline uses
  int64_t seed = -1;                          // -1: random, reported back in the result
  int batch = 1;
  int clip_skip = 1;                          // 1 = last layer; 2 = penultimate (A1111 "CLIP skip 2")
  std::optional<image::Image> init_image;     // img2img when present
  double strength = 0.75;                     // img2img: fraction of the schedule that is re-noised
  // SDXL micro-conditioning (diffusers' original_size, crops_coords_top_left, target_size): the size the
  // model is told the training image had, where it was cropped, and the size to aim for. Absent: the
  // image size, 0,0 and the image size. Models of other families have no such input and ignore them.
  std::optional<ImageSize> original_size;
  std::optional<CropOffset> crop_top_left;
  std::optional<ImageSize> target_size;
};

// Limits a request must respect: the defaults are what a server and the CLI accept unless configured
// otherwise (engine::EngineOptions::limits).
struct RequestLimits {
  int max_side = 2048;
  int max_steps = 200;
  int max_batch = 16;
  std::size_t max_prompt_bytes = 16 * 1024;
  // The work budget, whatever the side and batch limits allow on their own. max_pixels bounds one
  // job's images, width x height x batch, which is what every step's activations and the VAE decode
  // grow with (memory, and the longest single operation a cancel may wait for): by default one
  // 1024x1024 image or four 512x512. max_work bounds the whole denoising run, latent pixels x batch x
  // steps (for SD's 8x latents, (width/8) x (height/8) x batch x steps): by default one 1024x1024 image
  // at 50 steps, or four 512x512 at 50 steps. 0: no limit. docs/server.md says what they cost.
  uint64_t max_pixels = uint64_t{1024} * 1024;
  uint64_t max_work = uint64_t{128} * 128 * 50;

  // What the pipeline itself can run at all (buffers that can be allocated and indexed, no more steps
  // than the 1000 training timesteps, no budget); policy lives in the caller's limits, which may be
  // wider or narrower than the defaults.
  static constexpr RequestLimits runnable() { return {16384, 1000, 1024, std::size_t{1} << 20, 0, 0}; }
};

// What a request that leaves a field unset gets from the model it runs on.
struct ModelDefaults {
  int image_size = 512;                      // for a width or height of 0: the native size
  std::optional<sampling::Spacing> spacing;  // for no spacing, when the model's scheduler config names one
  std::optional<double> cfg;                 // for no cfg, when the model's config recommends one
};
// The defaults a model's files declare (io::ModelSource::image_size, noise_schedule and guidance_scale).
ModelDefaults model_defaults(const io::ModelSource& source);
// The largest clip_skip the model's text encoders have layers for: SD2 single files keep a layer SD2
// never uses, and SDXL starts from the penultimate layer of both encoders.
int max_clip_skip(const io::ModelSource& source);

// Fills a width or height of 0, an absent spacing and an absent cfg (kDefaultGuidanceScale when the model
// recommends none) from the model's defaults.
void use_model_defaults(GenerationRequest& request, const ModelDefaults& defaults);

// Throws std::invalid_argument naming the offending field and the accepted range.
void validate(const GenerationRequest& request, const RequestLimits& limits, int latent_scale);
// The img2img checks of validate() for a start image of this size, for a caller that holds the image
// still encoded: its size is the request's, and strength leaves at least one step.
void validate_img2img(const GenerationRequest& request, int image_width, int image_height);

}  // namespace darkroom::pipeline
