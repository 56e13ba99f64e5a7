// The A1111 answers that carry results: txt2img images and info, progress, the model list. Apart from
// a1111_request.cpp because these need pipeline::infotext and the PNG encoder, which the request fuzzer
// does without.
#include <stdexcept>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/server/a1111.hpp"
#include "darkroom/server/base64.hpp"

namespace darkroom::server {

using nlohmann::json;

namespace {

// A1111 lists a checkpoint by its file name without the extension; a diffusers folder has none.
std::string model_name(const std::string& id) {
  for (std::string_view extension : {".safetensors", ".ckpt"})
    if (id.size() > extension.size() && id.ends_with(extension)) return id.substr(0, id.size() - extension.size());
  return id;
}

}  // namespace

json a1111_txt2img_response(const A1111Request& request, const std::vector<std::shared_ptr<const image::Image>>& images,
                            int64_t seed) {
  const auto& g = request.job.generation;
  const std::string text = pipeline::infotext(g, seed, request.job.model);
  const auto n = images.size();
  json encoded = json::array();
  for (const auto& image : images) {
    if (!image) throw std::invalid_argument("a1111_txt2img_response: missing image");
    encoded.push_back(base64::encode(image::encode_png(*image, {{"parameters", text}})));
  }
  // A1111 clients read these keys of info (json.loads(response["info"])) to label and reproduce images.
  const json info = {{"prompt", g.prompt},
                     {"all_prompts", json::array_t(n, g.prompt)},
                     {"negative_prompt", g.negative_prompt.value_or("")},
                     {"all_negative_prompts", json::array_t(n, g.negative_prompt.value_or(""))},
                     {"seed", seed},
                     {"all_seeds", json::array_t(n, seed)},
                     {"width", g.width},
                     {"height", g.height},
                     {"sampler_name", request.sampler_name},
                     {"cfg_scale", g.cfg.value_or(pipeline::kDefaultGuidanceScale)},
                     {"steps", g.steps},
                     {"batch_size", g.batch},
                     {"clip_skip", g.clip_skip},
                     {"sd_model_name", request.job.model},
                     {"index_of_first_image", 0},
                     {"infotexts", json::array_t(n, text)},
                     {"version", "darkroom"}};
  return {{"images", std::move(encoded)}, {"parameters", request.parameters}, {"info", info.dump(-1, ' ', false, json::error_handler_t::replace)}};
}

json a1111_progress_json(const A1111Progress& p) {
  return {{"progress", p.progress},
          {"eta_relative", p.eta_relative},
          {"state",
           {{"skipped", false},
            {"interrupted", p.interrupted},
            {"job", p.job},
            {"job_count", p.job_count},
            {"job_no", p.job_no},
            {"sampling_step", p.sampling_step},
            {"sampling_steps", p.sampling_steps}}},
          {"current_image", p.current_image ? json(base64::encode(*p.current_image)) : json(nullptr)},
          {"textinfo", p.textinfo}};
}

json a1111_models_json(const std::vector<A1111Model>& models) {
  json list = json::array();
  for (const auto& m : models) {
    list.push_back({{"title", m.id},
                    {"model_name", model_name(m.id)},
                    {"hash", nullptr},
                    {"sha256", nullptr},
                    {"filename", m.filename},
                    {"config", nullptr}});
  }
  return list;
}

}  // namespace darkroom::server
