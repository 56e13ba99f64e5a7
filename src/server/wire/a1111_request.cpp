// The A1111 requests: txt2img parsing and the sampler names it takes (a1111_response.cpp builds answers).
#include <algorithm>
#include <array>
#include <optional>
#include <cctype>

#include "darkroom/server/a1111.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using sampling::SamplerKind;
using wire::FieldReader;

// A1111's display names and aliases (its /sdapi/v1/samplers), each mapped onto a darkroom sampler.
// "DPM++ 2M Karras" is the pre-1.9 spelling of sampler + Karras schedule, which many clients still send.
struct SamplerName {
  std::string_view name;
  SamplerKind kind;
  bool karras;
  std::array<std::string_view, 2> aliases;  // "": none
};
constexpr std::array<SamplerName, 6> kSamplers{{
    {"Euler", SamplerKind::euler, false, {"k_euler", ""}},
    {"Euler a", SamplerKind::euler_a, false, {"k_euler_a", "k_euler_ancestral"}},
    {"DPM++ 2M", SamplerKind::dpmpp_2m, false, {"k_dpmpp_2m", ""}},
    {"DPM++ 2M Karras", SamplerKind::dpmpp_2m, true, {"k_dpmpp_2m_ka", ""}},
    {"DDIM", SamplerKind::ddim, false, {"", ""}},
    {"LCM", SamplerKind::lcm, false, {"k_lcm", ""}},
}};

// A1111 (1.9+) schedulers by name and label. Each maps to darkroom's schedule with the timestep spacing
// that makes the same sigmas: "Uniform"/"Normal" space timesteps evenly from the top (linspace), "Simple"
// and "SGM Uniform" step back from the end (trailing), "DDIM" uses DDIM's uniform steps (leading).
struct SchedulerName {
  std::string_view name;
  std::optional<sampling::SigmaSchedule> schedule;  // nullopt: "automatic", the sampler's own
  std::optional<sampling::Spacing> spacing;
};
constexpr std::array<SchedulerName, 9> kSchedulers{{
    {"automatic", std::nullopt, std::nullopt},
    {"karras", sampling::SigmaSchedule::karras, std::nullopt},
    {"uniform", sampling::SigmaSchedule::discrete, sampling::Spacing::linspace},
    {"normal", sampling::SigmaSchedule::discrete, sampling::Spacing::linspace},
    {"simple", sampling::SigmaSchedule::discrete, sampling::Spacing::trailing},
    {"sgm_uniform", sampling::SigmaSchedule::discrete, sampling::Spacing::trailing},
    {"sgm uniform", sampling::SigmaSchedule::discrete, sampling::Spacing::trailing},
    {"ddim", sampling::SigmaSchedule::discrete, sampling::Spacing::leading},
    {"discrete", sampling::SigmaSchedule::discrete, std::nullopt},
}};

// A1111 looks names up case-insensitively.
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct SamplerChoice {
  SamplerKind kind;
  bool karras;
};

std::optional<SamplerChoice> find_sampler(std::string_view value) {
  for (const auto& s : kSamplers) {
    const bool alias = std::any_of(s.aliases.begin(), s.aliases.end(),
                                   [&](std::string_view a) { return !a.empty() && same_name(value, a); });
    if (alias || same_name(value, s.name)) return SamplerChoice{s.kind, s.karras};
  }
  for (auto kind : sampling::kSamplerKinds)
    if (value == sampling::sampler_name(kind)) return SamplerChoice{kind, false};
  return std::nullopt;
}

void set_sampler(const std::string& field, std::string_view value, pipeline::GenerationRequest& g) {
  auto choice = find_sampler(value);
  // Older A1111 spelled any Karras variant as "<sampler> Karras".
  constexpr std::string_view kKarras = " karras";
  if (!choice && value.size() > kKarras.size() && same_name(value.substr(value.size() - kKarras.size()), kKarras)) {
    choice = find_sampler(value.substr(0, value.size() - kKarras.size()));
    if (choice) choice->karras = true;
  }
  if (!choice) {
    std::string names;
    for (const auto& s : kSamplers) names += (names.empty() ? "" : ", ") + std::string(s.name);
    throw field_error(field, "unknown sampler \"" + wire::excerpt(value) + "\" (accepted: " + names + ")");
  }
  g.sampler = choice->kind;
  if (choice->karras) g.scheduler = sampling::SigmaSchedule::karras;
}

void set_scheduler(const std::string& value, pipeline::GenerationRequest& g) {
  if (value.empty()) return;  // A1111 treats "" like no scheduler: Automatic
  for (const auto& s : kSchedulers) {
    if (!same_name(value, s.name)) continue;
    if (s.schedule) g.scheduler = *s.schedule;
    if (s.spacing) g.spacing = s.spacing;
    return;
  }
  throw field_error("scheduler", "unsupported scheduler \"" + wire::excerpt(value) +
                                     "\" (accepted: Automatic, Karras, Uniform, Normal, Simple, SGM Uniform, DDIM)");
}

}  // namespace

A1111Request parse_a1111_txt2img(const json& body, const RequestDefaults& defaults) {
  FieldReader in(body, "");
  A1111Request r;
  r.parameters = body;
  auto& g = r.job.generation;
  g.steps = 50;  // A1111's default, which its clients rely on when they leave it out (cfg_scale: prepare)

  r.job.model = defaults.model;
  g.prompt = in.string("prompt").value_or("");
  g.negative_prompt = in.string("negative_prompt").value_or("");
  if (auto v = in.integer("width")) g.width = *v;
  if (auto v = in.integer("height")) g.height = *v;
  if (auto v = in.integer("steps")) g.steps = *v;
  if (auto v = in.number("cfg_scale")) g.cfg = *v;
  if (auto v = in.int64("seed")) g.seed = *v;
  if (auto v = in.integer("batch_size")) g.batch = *v;
  if (auto v = in.integer("n_iter"); v && *v != 1)
    throw field_error("n_iter", "must be 1: one request runs one batch (use batch_size for more images)");

  // A1111 takes `sampler_name or sampler_index`: the legacy field counts when the new one is absent or "".
  const auto name = in.string("sampler_name").value_or("");
  const auto index = in.string("sampler_index").value_or("");
  r.sampler_name = !name.empty() ? name : !index.empty() ? index : "Euler";
  set_sampler(!name.empty() ? "sampler_name" : "sampler_index", r.sampler_name, g);
  if (auto v = in.string("scheduler")) set_scheduler(*v, g);

  if (const auto* settings = in.find("override_settings")) {
    FieldReader s(*settings, "override_settings");
    if (auto v = s.integer("CLIP_stop_at_last_layers")) g.clip_skip = *v;
    if (auto v = s.string("sd_model_checkpoint")) r.job.model = *v;
    if (auto v = s.integer("show_progress_every_n_steps"))
      r.preview_every_n_steps = check_a1111_preview_period(*v, s.path("show_progress_every_n_steps"));
  }
  if (r.job.model.empty())
    throw field_error("override_settings.sd_model_checkpoint", "required (the server has no default model)");
  try {
    check_model_id(r.job.model);
  } catch (const RequestError& error) {
    throw with_field(error, "override_settings.sd_model_checkpoint");
  }
  return r;
}

int check_a1111_preview_period(int steps, const std::string& field) {
  if (steps < -1) throw field_error(field, "must be a number of steps, or 0 or -1 for no live previews");
  return steps;
}

void validate_a1111_request(const A1111Request& request, const RequestDefaults& defaults, int latent_scale) {
  validate_job_as(request.job, defaults.limits, latent_scale, [](const std::string& f) {
    return f == "cfg"         ? "cfg_scale"
           : f == "batch"     ? "batch_size"
           : f == "clip_skip" ? "override_settings.CLIP_stop_at_last_layers"
                              : f;
  });
}

json a1111_error_json(const RequestError& error) {
  return {{"error", "RequestError"}, {"detail", error.what()}, {"errors", error.what()}, {"field", error.field()}};
}

ErrorReply a1111_error(const Failure& failure) {
  using Kind = Failure::Kind;
  if (failure.kind == Kind::invalid_request && failure.code.empty())
    return {422, a1111_error_json(RequestError(failure.field, failure.message))};
  const json body{{"error", failure.code_or_kind()}, {"detail", failure.message}, {"errors", failure.message}};
  return {failure.kind == Kind::invalid_request ? 422u : default_status(failure.kind), body};
}

json a1111_samplers_json() {
  json list = json::array();
  for (const auto& s : kSamplers) {
    json aliases = json::array();
    for (auto alias : s.aliases)
      if (!alias.empty()) aliases.push_back(alias);
    json options = json::object();
    if (s.karras) options["scheduler"] = "karras";
    list.push_back({{"name", s.name}, {"aliases", std::move(aliases)}, {"options", std::move(options)}});
  }
  return list;
}

}  // namespace darkroom::server
