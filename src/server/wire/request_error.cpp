#include "darkroom/server/request_error.hpp"

#include <algorithm>
#include <cctype>

namespace darkroom::server {

RequestError::RequestError(std::string field, const std::string& message)
    : std::invalid_argument(message), field_(std::move(field)) {}

RequestError field_error(std::string field, std::string_view rule) {
  std::string message = field.empty() ? std::string(rule) : field + ": " + std::string(rule);
  return RequestError(std::move(field), message);
}

RequestError as_request_error(const std::invalid_argument& error) {
  const std::string_view message = error.what();
  const auto colon = message.find(':');
  const std::string_view prefix = message.substr(0, colon == std::string_view::npos ? 0 : colon);
  // Only a dotted identifier is a field name; "unknown sampler 'x:y'" has a colon but names no field.
  const bool is_field = !prefix.empty() && std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.';
  });
  return RequestError(is_field ? std::string(prefix) : std::string(), std::string(message));
}

RequestError with_field(const RequestError& error, std::string field) {
  std::string_view rule = error.what();
  if (const std::string prefix = error.field() + ": "; !error.field().empty() && rule.starts_with(prefix))
    rule.remove_prefix(prefix.size());
  return field_error(std::move(field), rule);
}

}  // namespace darkroom::server
