#pragma once
// Reading one JSON object of a request field by field, with errors that name the field (dotted for nested
// objects) and the JSON type that was expected. Shared by the native, OpenAI and A1111 parsers.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/server/request_error.hpp"

namespace darkroom::server::wire {

class FieldReader {
 public:
  // prefix: the object's own path ("" for the body, "preview" for a nested object). Throws RequestError
  // (field = prefix) when `object` is not a JSON object.
  FieldReader(const nlohmann::json& object, std::string prefix);

  // Each getter marks `key` as known. JSON null counts as absent: clients that serialise optional fields
  // as null mean "the default". Wrong types throw RequestError naming the field and the expected type.
  const nlohmann::json* find(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  std::optional<int> integer(std::string_view key);  // integral (20 or 20.0) and within int
  std::optional<int64_t> int64(std::string_view key);
  std::optional<double> number(std::string_view key);
  std::optional<bool> boolean(std::string_view key);

  std::string path(std::string_view key) const;  // "preview.count"
  // For dialects that reject typos: throws RequestError for the first key no getter asked for, with a
  // suggestion when a known key is close ("unknown field 'stpes' (did you mean 'steps'?)").
  void reject_unknown() const;

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<std::string> known_;
};

// A user-supplied string cut to at most max_bytes on a UTF-8 boundary, for error messages (which must stay
// valid UTF-8 to be serialised as JSON).
std::string excerpt(std::string_view text, std::size_t max_bytes = 64);

// Runs a library name parser (sampling::parse_sampler, ...) and names `field` in its error.
template <typename Parse>
auto parse_named(const std::string& field, const std::string& value, Parse parse) -> decltype(parse(value)) {
  try {
    return parse(value);
  } catch (const std::invalid_argument& error) {
    throw field_error(field, error.what());
  }
}

// A time limit in seconds (a number above 0, at most a year); absent: 0 (none).
std::chrono::milliseconds parse_timeout_s(FieldReader& in, std::string_view key);

}  // namespace darkroom::server::wire
