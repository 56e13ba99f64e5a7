// WebSocket control messages arrive from any client that opens /v1/ws: any bytes through parse_ws_message
// must either give a well-formed message or throw RequestError whose message names its field, carries no
// library exception text and serialises as JSON; ws_request_id, called while answering a refused frame,
// must never throw and must agree with the parser. Anything else (a crash, another exception type, a
// sanitizer report) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "darkroom/server/ws_message.hpp"

namespace {

using namespace darkroom::server;
using Type = WsMessage::Type;

bool echoable(const nlohmann::json& request_id) {
  return request_id.is_null() || request_id.is_string() || request_id.is_number();
}

bool valid(const WsMessage& message) {
  if (!echoable(message.request_id)) return false;
  switch (message.type) {
    case Type::submit:
      return message.request.is_object();
    case Type::subscribe:
    case Type::unsubscribe:
    case Type::cancel:
    case Type::feature_flags:
      return message.request.is_null();
  }
  return false;  // a value outside the enum
}

void check_error(const RequestError& error) {
  const std::string what = error.what();
  if (what.find(error.field()) == std::string::npos) std::abort();
  // A library's text would lead the message or follow its "field: " prefix; later on, the message may
  // quote the client's own bytes, which can say anything.
  const auto library = what.find("[json.exception");
  if (library == 0 || library == error.field().size() + 2) std::abort();
  // The error reply is JSON: the default (strict) dump throws, and so fails, on invalid UTF-8.
  (void)nlohmann::json{{"message", what}, {"field", error.field()}}.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json request_id = ws_request_id(text);
  if (!echoable(request_id)) std::abort();
  try {
    const auto message = parse_ws_message(text);
    if (!valid(message) || message.request_id != request_id) std::abort();
  } catch (const RequestError& error) {
    check_error(error);
  }
  return 0;
}
