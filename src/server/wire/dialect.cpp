#include "darkroom/server/dialect.hpp"

namespace darkroom::server {

using Kind = Failure::Kind;

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::invalid_request: return "invalid_request";
    case Kind::unauthorized: return "unauthorized";
    case Kind::not_found: return "not_found";
    case Kind::method_not_allowed: return "method_not_allowed";
    case Kind::queue_full: return "queue_full";
    case Kind::stopping: return "stopping";
    case Kind::timeout: return "timeout";
    case Kind::cancelled: return "cancelled";
    case Kind::job_failed: return "job_failed";
    case Kind::internal: return "internal";
  }
  return "internal";
}

std::string Failure::code_or_kind() const { return code.empty() ? std::string(kind_name(kind)) : code; }

unsigned default_status(Kind kind) {
  switch (kind) {
    case Kind::invalid_request: return 400;
    case Kind::unauthorized: return 401;
    case Kind::not_found: return 404;
    case Kind::method_not_allowed: return 405;
    case Kind::queue_full: return 429;
    case Kind::stopping: return 503;
    case Kind::timeout: return 504;
    case Kind::cancelled: return 409;
    case Kind::job_failed:
    case Kind::internal: return 500;
  }
  return 500;
}

std::optional<Failure> job_failure(const engine::Event& event) {
  if (const auto* error = event.as<engine::Error>()) {
    auto kind = Kind::job_failed;
    if (error->code == "invalid_request") kind = Kind::invalid_request;
    else if (error->code == "timeout") kind = Kind::timeout;
    return Failure{kind, error->message, "", error->code, 0};
  }
  if (const auto* cancelled = event.as<engine::Cancelled>()) {
    if (cancelled->reason == "shutdown") return Failure{Kind::stopping, "the server is shutting down", "", "", 0};
    return Failure{Kind::cancelled, "the generation was cancelled (" + cancelled->reason + ")", "", "", 0};
  }
  return std::nullopt;
}

ErrorReply native_error(const Failure& failure) {
  nlohmann::json error{{"code", failure.code_or_kind()}, {"message", failure.message}};
  if (!failure.field.empty()) error["field"] = failure.field;
  return {default_status(failure.kind), {{"error", std::move(error)}}};
}

nlohmann::json fastapi_validation_detail(const Failure& failure) {
  auto loc = nlohmann::json::array({"body"});
  std::string_view rest = failure.field;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    loc.push_back(std::string(rest.substr(0, dot)));
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return nlohmann::json::array({{{"loc", loc}, {"msg", failure.message}, {"type", "value_error"}}});
}

}  // namespace darkroom::server
