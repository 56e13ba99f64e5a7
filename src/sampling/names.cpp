// Names of samplers, sigma schedules and spacings, as the request, the CLI and the infotext spell them.
#include <stdexcept>
#include <string>

#include "darkroom/sampling/schedule.hpp"

namespace darkroom::sampling {
namespace {

template <typename Enum, std::size_t N, typename NameFn>
Enum parse(std::string_view what, std::string_view name, const std::array<Enum, N>& values, NameFn name_of) {
  for (auto value : values)
    if (name_of(value) == name) return value;
  std::string valid;
  for (auto value : values) valid += (valid.empty() ? "" : ", ") + std::string(name_of(value));
  throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(name) + "' (valid: " + valid + ")");
}

}  // namespace

std::string_view sampler_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::euler: return "euler";
    case SamplerKind::euler_a: return "euler_a";
    case SamplerKind::dpmpp_2m: return "dpm++2m";
    case SamplerKind::ddim: return "ddim";
    case SamplerKind::lcm: return "lcm";
  }
  throw std::invalid_argument("invalid SamplerKind value");
}

std::string_view sigma_schedule_name(SigmaSchedule schedule) {
  switch (schedule) {
    case SigmaSchedule::discrete: return "discrete";
    case SigmaSchedule::karras: return "karras";
  }
  throw std::invalid_argument("invalid SigmaSchedule value");
}

std::string_view spacing_name(Spacing spacing) {
  switch (spacing) {
    case Spacing::leading: return "leading";
    case Spacing::linspace: return "linspace";
    case Spacing::trailing: return "trailing";
  }
  throw std::invalid_argument("invalid Spacing value");
}

SamplerKind parse_sampler(std::string_view name) { return parse("sampler", name, kSamplerKinds, sampler_name); }

SigmaSchedule parse_sigma_schedule(std::string_view name) {
  return parse("scheduler", name, kSigmaSchedules, sigma_schedule_name);
}

Spacing parse_spacing(std::string_view name) { return parse("spacing", name, kSpacings, spacing_name); }

// Here, with the names, so that torch-free code (the server's wire layer, its fuzzers) can say what a
// request's spacing will be.
Spacing default_spacing(SamplerKind) { return Spacing::leading; }

}  // namespace darkroom::sampling
