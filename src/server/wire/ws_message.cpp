#include "darkroom/server/ws_message.hpp"

#include <array>

#include "darkroom/server/request_json.hpp"
#include "json_fields.hpp"

namespace darkroom::server {
namespace {

using wire::FieldReader;
using Type = WsMessage::Type;

// Indexed by Type, in the enum's order.
constexpr std::array<std::string_view, 5> kTypeNames{"submit", "subscribe", "unsubscribe", "cancel", "feature_flags"};
static_assert(kTypeNames.size() == static_cast<std::size_t>(Type::feature_flags) + 1);
constexpr std::string_view kAccepted = "(accepted: submit | subscribe | unsubscribe | cancel | feature_flags)";

std::string type_name(Type type) { return std::string(kTypeNames[static_cast<std::size_t>(type)]); }

Type read_type(FieldReader& in) {
  const auto type = in.string("type");
  if (!type) throw field_error("type", "required " + std::string(kAccepted));
  for (std::size_t i = 0; i < kTypeNames.size(); ++i)
    if (*type == kTypeNames[i]) return static_cast<Type>(i);
  throw field_error("type", "unknown message type \"" + wire::excerpt(*type) + "\" " + std::string(kAccepted));
}

// The JSON-RPC rule for ids: a string or a number, which every client can compare with what it sent.
nlohmann::json read_request_id(FieldReader& in) {
  const auto* value = in.find("request_id");
  if (!value) return nullptr;
  if (!value->is_string() && !value->is_number())
    throw field_error("request_id", std::string("must be a string or a number, got ") + value->type_name());
  return *value;
}

nlohmann::json read_request(FieldReader& in) {
  const auto* value = in.find("request");
  if (!value) throw field_error("request", "required: submit carries the native request body as an object");
  if (!value->is_object())
    throw field_error("request", std::string("must be the native request body as an object, got ") + value->type_name());
  return *value;
}

std::string read_job_id(FieldReader& in) {
  auto id = in.string("job_id");
  if (!id) throw field_error("job_id", "required (the id that \"submitted\" or POST /v1/jobs answered)");
  return std::move(*id);
}

uint64_t read_after(FieldReader& in) {
  const auto* value = in.find("after");
  if (!value) return 0;
  if (value->is_number_unsigned()) return value->get<uint64_t>();
  // "-0" parses as a signed integer; it is still 0.
  if (value->is_number_integer() && value->get<int64_t>() == 0) return 0;
  const std::string got = value->is_number() ? value->dump() : value->type_name();
  throw field_error("after", "must be an event sequence number (an integer, 0 or more), got " + got);
}

// Absent or null "data" is an empty flag set. Flags this server does not know are ignored (see the header).
bool read_preview_metadata(FieldReader& in) {
  const auto* data = in.find("data");
  if (!data) return false;
  FieldReader flags(*data, "data");
  return flags.boolean("supports_preview_metadata").value_or(false);
}

// FieldReader names the unknown field; the message type says where it was unknown ("after" is a field of
// subscribe, not of cancel).
void reject_unknown(const FieldReader& in, Type type) {
  try {
    in.reject_unknown();
  } catch (const RequestError& error) {
    throw RequestError(error.field(), std::string(error.what()) + " in a " + type_name(type) + " message");
  }
}

}  // namespace

WsMessage parse_ws_message(std::string_view text) {
  const auto body = parse_json_body(text);
  FieldReader in(body, "");
  WsMessage message;
  message.type = read_type(in);
  message.request_id = read_request_id(in);
  switch (message.type) {
    case Type::submit:
      message.request = read_request(in);
      break;
    case Type::subscribe:
      message.job_id = read_job_id(in);
      message.after = read_after(in);
      break;
    case Type::unsubscribe:
    case Type::cancel:
      message.job_id = read_job_id(in);
      break;
    case Type::feature_flags:
      message.preview_metadata = read_preview_metadata(in);
      break;
  }
  reject_unknown(in, message.type);
  return message;
}

nlohmann::json ws_request_id(std::string_view text) {
  try {
    const auto body = parse_json_body(text);
    const auto it = body.find("request_id");
    if (it != body.end() && (it->is_string() || it->is_number())) return *it;
  } catch (const RequestError&) {  // malformed, or not an object: there is no request_id to read
  }
  return nullptr;
}

}  // namespace darkroom::server
