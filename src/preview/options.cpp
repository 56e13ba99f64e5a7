#include "darkroom/preview/options.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace darkroom::preview {
namespace {

void require(bool ok, std::string_view field, const std::string& what) {
  if (!ok) throw std::invalid_argument("preview." + std::string(field) + ": " + what);
}

// One table per enum so that names and parsers cannot drift apart.
template <typename Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Names<Method, 5> method_names{{{Method::none, "none"},
                                         {Method::auto_, "auto"},
                                         {Method::latent2rgb, "latent2rgb"},
                                         {Method::taesd, "taesd"},
                                         {Method::vae, "vae"}}};
constexpr Names<Source, 2> source_names{{{Source::denoised, "denoised"}, {Source::noisy, "noisy"}}};
constexpr Names<Delivery, 2> delivery_names{{{Delivery::inline_, "inline"}, {Delivery::url, "url"}}};

template <typename Enum, std::size_t N>
std::string_view name_of(const Names<Enum, N>& names, Enum value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "?";
}

template <typename Enum, std::size_t N>
Enum parse(const Names<Enum, N>& names, std::string_view field, std::string_view name) {
  std::string accepted;
  for (const auto& [value, n] : names) {
    if (n == name) return value;
    accepted += (accepted.empty() ? "" : " | ") + std::string(n);
  }
  throw std::invalid_argument("preview." + std::string(field) + ": unknown value \"" + std::string(name) +
                              "\" (accepted: " + accepted + ")");
}

}  // namespace

void validate(const PreviewOptions& o) {
  require(o.every_n_steps >= 0, "every_n_steps", "must be >= 0 (0: not used), not " + std::to_string(o.every_n_steps));
  require(o.count >= 0, "count", "must be >= 0 (0: not used), not " + std::to_string(o.count));
  require(o.min_interval_ms >= 0, "min_interval_ms",
          "must be >= 0 (0: not used), not " + std::to_string(o.min_interval_ms));
  const int throttles = (o.every_n_steps > 0) + (o.count > 0) + (o.min_interval_ms > 0);
  require(throttles <= 1, o.count > 0 && o.every_n_steps > 0 ? "count" : "min_interval_ms",
          "only one of preview.every_n_steps, preview.count and preview.min_interval_ms may be set");
  require(o.max_size == 0 || o.max_size >= 8, "max_size",
          "must be 0 (no cap) or at least 8 pixels, not " + std::to_string(o.max_size));
  require(o.quality >= 0 && o.quality <= 100, "quality", "must be in 0..100, not " + std::to_string(o.quality));
}

std::string_view method_name(Method method) { return name_of(method_names, method); }
Method parse_method(std::string_view name) { return parse(method_names, "method", name); }
std::string_view source_name(Source source) { return name_of(source_names, source); }
Source parse_source(std::string_view name) { return parse(source_names, "source", name); }
std::string_view delivery_name(Delivery delivery) { return name_of(delivery_names, delivery); }
Delivery parse_delivery(std::string_view name) { return parse(delivery_names, "delivery", name); }

}  // namespace darkroom::preview
