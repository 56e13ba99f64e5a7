#include "eval_command.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "darkroom/image/png.hpp"
#include "darkroom/models/cpu_threads.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"
#include "darkroom/scenes/adherence.hpp"
#include "darkroom/scenes/caption.hpp"
#include "darkroom/scenes/prompt.hpp"
#include "darkroom/scenes/render.hpp"
#include "default_model.hpp"
#include "request_options.hpp"

namespace darkroom::cli {
namespace {

struct EvalOptions {
  std::string model;
  int prompts = 100;
  uint64_t prompt_seed = 0;
  pipeline::GenerationRequest request;  // generate's defaults: what the gate measures
  std::string sampler = "euler";
  std::string images_dir;
  std::string json_out;
  int threads = 0;
  bool autoencoder = false;
};

nlohmann::json name_or_null(const auto& value) {
  if (!value) return nullptr;
  return std::string(scenes::name(*value));
}

nlohmann::json result_json(const std::string& prompt, const scenes::Adherence& a) {
  return {{"prompt", prompt},          {"colour_ok", a.colour_ok},
          {"position_ok", a.position_ok}, {"count_ok", a.count_ok},
          {"colour", name_or_null(a.dominant_colour)}, {"region", name_or_null(a.region)},
          {"count", a.count}};
}

// The held-out scene through the model's autoencoder alone (posterior mean, then decode): what the
// diffusion model can at best produce, since it draws in that autoencoder's latent space.
image::Image round_trip(const pipeline::StableDiffusion& model, const scenes::Scene& scene) {
  const int size = model.source().image_size > 0 ? model.source().image_size : 64;
  const auto picture = pipeline::from_image(scenes::render(scene, size, size));
  return pipeline::to_images(model.decode_latents(model.encode_image_mean(picture))).front();
}

int run_eval(EvalOptions o) {
  if (o.model.empty()) o.model = default_model().string();
  if (o.prompts < 1) throw std::invalid_argument("--prompts: must be at least 1");
  models::use_cpu_threads(o.threads);
  o.request.sampler = sampling::parse_sampler(o.sampler);
  const auto model = pipeline::StableDiffusion::load(o.model);
  pipeline::use_model_defaults(o.request, pipeline::model_defaults(model->source()));  // the report says what ran
  if (!o.images_dir.empty()) std::filesystem::create_directories(o.images_dir);

  scenes::AdherenceTally tally;
  nlohmann::json results = nlohmann::json::array();
  const auto examples = scenes::evaluation_examples(o.prompts, o.prompt_seed);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const std::string& prompt = examples[i].caption;
    auto request = o.request;
    request.prompt = prompt;
    request.seed = o.request.seed + static_cast<int64_t>(i);
    const auto image = o.autoencoder ? round_trip(*model, examples[i].scene) : model->generate(request).images.front();
    const auto adherence = scenes::measure(image, *scenes::parse_prompt(prompt));
    tally.add(adherence);
    results.push_back(result_json(prompt, adherence));
    const auto& measured = results.back();
    const auto text = [](const nlohmann::json& name, const char* none) {
      return name.is_string() ? name.get<std::string>() : std::string(none);
    };
    std::printf("%s %-70s colour %s, %s, %d object(s)\n", adherence.all_ok() ? "ok  " : "MISS", prompt.c_str(),
                text(measured.at("colour"), "none").c_str(), text(measured.at("region"), "nowhere").c_str(),
                adherence.count);
    std::fflush(stdout);
    if (!o.images_dir.empty()) {
      char name[32];
      std::snprintf(name, sizeof(name), "%03zu.png", i);
      image::write_png(std::filesystem::path(o.images_dir) / name, image, {{"parameters", prompt}});
    }
  }
  std::printf("%s\n", tally.summary().c_str());
  if (!o.json_out.empty()) {
    const nlohmann::json report{
        {"model", o.model},
        {"settings",
         {{"measured", o.autoencoder ? "autoencoder" : "generation"},
          {"steps", o.request.steps}, {"cfg", *o.request.cfg}, {"sampler", o.sampler}, {"seed", o.request.seed},
          {"prompt_seed", o.prompt_seed}}},
        {"percent",
         {{"colour", scenes::AdherenceTally::percent(tally.colour, tally.measured)},
          {"position", scenes::AdherenceTally::percent(tally.position, tally.measured)},
          {"count", scenes::AdherenceTally::percent(tally.count, tally.measured)},
          {"all", scenes::AdherenceTally::percent(tally.all, tally.measured)}}},
        {"prompts", tally.measured},
        {"results", results}};
    std::ofstream(o.json_out) << report.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  auto& r = options->request;
  r.seed = 0;
  auto* cmd = app.add_subcommand("eval", "Measure prompt adherence (colour, position, count) on held-out scene prompts");
  cmd->add_option("--model,-m", options->model, "Checkpoint (default: the embedded model)");
  cmd->add_option("--prompts", options->prompts, "Held-out single-object prompts to generate")->capture_default_str();
  cmd->add_option("--prompt-seed", options->prompt_seed, "Which held-out prompts")->capture_default_str();
  cmd->add_option("--steps", r.steps, "Denoising steps")->capture_default_str();
  add_cfg_option(cmd, r);
  cmd->add_option("--sampler", options->sampler, "euler | euler_a | dpm++2m | ddim | lcm")->capture_default_str();
  cmd->add_option("--seed", r.seed, "Seed of the first prompt's image; the others count up")->capture_default_str();
  cmd->add_option("--images", options->images_dir, "Write each generated image here");
  cmd->add_option("--json", options->json_out, "Write the per-prompt results and percentages here");
  cmd->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  cmd->add_flag("--autoencoder", options->autoencoder,
                "Measure the autoencoder instead: each held-out scene encoded (posterior mean) and decoded");
  cmd->callback([options] {
    const int code = run_eval(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace darkroom::cli
