#pragma once
// The one error type of request parsing: a 4xx answer that names the field at fault, so every dialect
// (native, OpenAI, A1111) can put that field where its clients look for it.
#include <stdexcept>
#include <string>
#include <string_view>

namespace darkroom::server {

class RequestError : public std::invalid_argument {
 public:
  // field: dotted path of the one field at fault ("steps", "preview.count"), or "" when the request as a
  // whole is (malformed JSON, not an object). message: the full text, which names the field.
  RequestError(std::string field, const std::string& message);

  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// The form the library's validators use: what() = "field: rule", e.g. "steps: must be between 1 and 200".
RequestError field_error(std::string field, std::string_view rule);

// Wraps a library std::invalid_argument whose message reads "field: rule" (pipeline::validate,
// preview::validate, the preview parsers), taking the field from the text before the first ':'. A message
// without such a prefix becomes an error of the whole request (field "").
RequestError as_request_error(const std::invalid_argument& error);

// The same error under another name, for dialects that call a field differently ("cfg" is A1111's
// "cfg_scale"): the message's leading "old_field: " becomes "field: ".
RequestError with_field(const RequestError& error, std::string field);

}  // namespace darkroom::server
