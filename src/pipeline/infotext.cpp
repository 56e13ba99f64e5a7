#include "darkroom/pipeline/infotext.hpp"

#include <sstream>

namespace darkroom::pipeline {
namespace {

// A PNG text chunk cannot hold NUL (libpng's texts are C strings), and a prompt may carry one: it becomes
// U+FFFD, the replacement character, so the image can still be saved.
std::string without_nul(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\0')
      out += "\xEF\xBF\xBD";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string infotext(const GenerationRequest& r, int64_t seed, const std::string& model_name) {
  std::ostringstream s;
  s << without_nul(r.prompt) << "\n";
  if (r.negative_prompt && !r.negative_prompt->empty())
    s << "Negative prompt: " << without_nul(*r.negative_prompt) << "\n";
  const auto spacing = r.spacing.value_or(sampling::default_spacing(r.sampler));
  s << "Steps: " << r.steps << ", Sampler: " << sampling::sampler_name(r.sampler)
    << ", Schedule type: " << sampling::sigma_schedule_name(r.scheduler)
    << ", Spacing: " << sampling::spacing_name(spacing) << ", CFG scale: " << r.cfg.value_or(kDefaultGuidanceScale) << ", Seed: " << seed
    << ", Size: " << r.width << "x" << r.height << ", Model: " << model_name;
  if (r.clip_skip != 1) s << ", Clip skip: " << r.clip_skip;
  if (r.init_image) s << ", Denoising strength: " << r.strength;
  s << ", Version: darkroom";
  return s.str();
}

}  // namespace darkroom::pipeline
