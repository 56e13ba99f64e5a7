#include "darkroom/preview/options.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace darkroom::preview {
namespace {

// The message of the std::invalid_argument that validate() throws, or "" when it accepts.
std::string rejection(const std::function<void(PreviewOptions&)>& change) {
  PreviewOptions options;
  change(options);
  try {
    validate(options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(PreviewOptions, DefaultsAreValidAndOptIn) {
  PreviewOptions options;
  EXPECT_NO_THROW(validate(options));
  EXPECT_EQ(options.method, Method::none);
  EXPECT_EQ(options.source, Source::denoised);
}

TEST(PreviewOptions, AcceptsEachThrottleAlone) {
  EXPECT_EQ(rejection([](auto& o) { o.every_n_steps = 5; }), "");
  EXPECT_EQ(rejection([](auto& o) { o.count = 4; }), "");
  EXPECT_EQ(rejection([](auto& o) { o.min_interval_ms = 250; }), "");
  EXPECT_EQ(rejection([](auto& o) { o.max_size = 256; o.quality = 100; o.format = image::Format::webp; }), "");
}

TEST(PreviewOptions, ErrorsNameTheField) {
  const std::pair<std::string, std::function<void(PreviewOptions&)>> cases[] = {
      {"preview.every_n_steps", [](auto& o) { o.every_n_steps = -1; }},
      {"preview.count", [](auto& o) { o.count = -3; }},
      {"preview.min_interval_ms", [](auto& o) { o.min_interval_ms = -10; }},
      {"preview.count", [](auto& o) { o.every_n_steps = 2; o.count = 4; }},
      {"preview.min_interval_ms", [](auto& o) { o.count = 4; o.min_interval_ms = 100; }},
      {"preview.min_interval_ms", [](auto& o) { o.every_n_steps = 2; o.min_interval_ms = 100; }},
      {"preview.max_size", [](auto& o) { o.max_size = -1; }},
      {"preview.max_size", [](auto& o) { o.max_size = 4; }},
      {"preview.quality", [](auto& o) { o.quality = -1; }},
      {"preview.quality", [](auto& o) { o.quality = 101; }},
  };
  for (const auto& [field, change] : cases) {
    const auto message = rejection(change);
    EXPECT_EQ(message.rfind(field + ":", 0), 0u) << "expected an error starting with " << field << ", got: " << message;
  }
}

TEST(PreviewOptions, NamesRoundTrip) {
  for (auto m : {Method::none, Method::auto_, Method::latent2rgb, Method::taesd, Method::vae})
    EXPECT_EQ(parse_method(method_name(m)), m);
  EXPECT_EQ(method_name(Method::auto_), "auto");
  for (auto s : {Source::denoised, Source::noisy}) EXPECT_EQ(parse_source(source_name(s)), s);
  for (auto d : {Delivery::inline_, Delivery::url}) EXPECT_EQ(parse_delivery(delivery_name(d)), d);
  EXPECT_EQ(delivery_name(Delivery::inline_), "inline");
}

TEST(PreviewOptions, UnknownNamesNameTheFieldAndTheChoices) {
  try {
    parse_method("tiny");
    FAIL() << "accepted an unknown method";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("preview.method"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("latent2rgb"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_source("x0"), std::invalid_argument);
  EXPECT_THROW(parse_delivery("inline_"), std::invalid_argument);
}

}  // namespace
}  // namespace darkroom::preview
