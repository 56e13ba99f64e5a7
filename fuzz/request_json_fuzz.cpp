// Request bodies are the server's most exposed input: any bytes through parse_json_body and each dialect's
// parser (native, OpenAI, A1111, DiffuGen, NovelAI, fal) and validator must either succeed or throw RequestError, whose message
// names its field and serialises as JSON (valid UTF-8) in every dialect's error shape. Anything else (a
// crash, another exception type, a sanitizer report) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "darkroom/server/a1111.hpp"
#include "darkroom/server/diffugen.hpp"
#include "darkroom/server/fal.hpp"
#include "darkroom/server/novelai.hpp"
#include "darkroom/server/openai.hpp"
#include "darkroom/server/request_json.hpp"

namespace {

using namespace darkroom::server;

void check_error(const RequestError& error) {
  const std::string what = error.what();
  if (what.find(error.field()) == std::string::npos) std::abort();
  (void)openai_error_json(error).dump();  // throws (and so fails) on invalid UTF-8
  (void)a1111_error_json(error).dump();
  const Failure failure{Failure::Kind::invalid_request, what, error.field(), "", 0};
  (void)diffugen_error(failure).body.dump();
  (void)native_error(failure).body.dump();
  (void)novelai_error(failure).body.dump();
  (void)fal_error(failure).body.dump();
}

template <typename Call>
void expect_request_error_only(Call call) {
  try {
    call();
  } catch (const RequestError& error) {
    check_error(error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RequestDefaults defaults{"default-model", {}};
  defaults.limits.max_side = 1024;
  nlohmann::json body;
  try {
    body = parse_json_body(text);
  } catch (const RequestError& error) {
    check_error(error);
    return 0;
  }
  expect_request_error_only([&] {
    const auto request = parse_native_request(body, defaults, size % 2 == 0);
    validate_for_model(request, defaults, 8);
  });
  expect_request_error_only([&] {
    const auto request = parse_openai_request(body, defaults);
    validate_openai_request(request, defaults, 8);
  });
  expect_request_error_only([&] {
    const auto request = parse_a1111_txt2img(body, defaults);
    validate_a1111_request(request, defaults, 8);
    (void)request.parameters.dump();  // echoed back by txt2img
  });
  expect_request_error_only([&] {
    const auto request = parse_fal_request(body, "default-model");
    validate_fal_request(request, defaults, 8);
  });
  expect_request_error_only([&] {
    const auto request = parse_novelai_request(body, defaults);
    validate_novelai_request(request, defaults, 8);
  });
  for (const auto route : {DiffugenRoute::any, DiffugenRoute::openwebui}) {
    expect_request_error_only([&] {
      const auto request = parse_diffugen_request(body, route);
      validate_diffugen_request(request, defaults, 8);
    });
  }
  return 0;
}
