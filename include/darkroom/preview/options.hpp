#pragma once
// Preview options of one request. Previews are opt-in: the defaults ask for none. The library struct, the
// server's JSON body ("preview": {...}) and the CLI flags share these names.
#include <string_view>

#include "darkroom/image/encode.hpp"

namespace darkroom::preview {

// auto_: the cheapest good decoder the model has (see PreviewCapabilities).
enum class Method { none, auto_, latent2rgb, taesd, vae };
// denoised: the step's x0 estimate (what every mature UI shows); noisy: the latent x_t itself.
enum class Source { denoised, noisy };
// inline_: encoded bytes travel in the event; url: the event carries a link the server serves.
enum class Delivery { inline_, url };

struct PreviewOptions {
  Method method = Method::none;
  Source source = Source::denoised;
  // Throttle: at most one of the three is non-zero; all zero means a preview after every step.
  // Exact schedules: see throttle.hpp.
  int every_n_steps = 0;
  int count = 0;
  int min_interval_ms = 0;
  int max_size = 0;  // longest side in pixels; 0: the decoder's own size
  image::Format format = image::Format::jpeg;
  int quality = 80;  // 0..100, for JPEG and WebP (WebP 100 is lossless); PNG ignores it
  Delivery delivery = Delivery::inline_;
};

// Throws std::invalid_argument naming the field as "preview.<field>" and what it accepts.
void validate(const PreviewOptions& options);

// Names as on the wire: "none" "auto" "latent2rgb" "taesd" "vae"; "denoised" "noisy"; "inline" "url".
// The parsers throw std::invalid_argument naming "preview.<field>" and the accepted names.
std::string_view method_name(Method method);
Method parse_method(std::string_view name);
std::string_view source_name(Source source);
Source parse_source(std::string_view name);
std::string_view delivery_name(Delivery delivery);
Delivery parse_delivery(std::string_view name);

}  // namespace darkroom::preview
