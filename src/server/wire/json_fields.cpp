#include "json_fields.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace darkroom::server::wire {
namespace {

std::string type_error(const std::string& field, std::string_view expected, const nlohmann::json& value) {
  return field + ": must be " + std::string(expected) + ", got " + value.type_name();
}

// Edit distance for the "did you mean" hint; keys are short, so the quadratic table is cheap.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The integral value of a JSON number within [lo, hi]; a number in float syntax counts when it is whole
// (Python's json writes 512.0 for a float that a client computed).
template <typename Int>
Int integral(const nlohmann::json& value, const std::string& field) {
  constexpr auto lo = std::numeric_limits<Int>::min();
  constexpr auto hi = std::numeric_limits<Int>::max();
  const std::string range = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(hi)) throw RequestError(field, field + ": must be " + range);
    return static_cast<Int>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v < static_cast<int64_t>(lo) || v > static_cast<int64_t>(hi))
      throw RequestError(field, field + ": must be " + range + ", got " + std::to_string(v));
    return static_cast<Int>(v);
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (v != std::floor(v)) throw RequestError(field, field + ": must be an integer, got " + value.dump());
    // hi + 1 is a power of two, exact as a double even where hi is not (int64: hi rounds up to 2^63).
    if (!(v >= static_cast<double>(lo) && v < static_cast<double>(hi) + 1.0))
      throw RequestError(field, field + ": must be " + range + ", got " + value.dump());
    return static_cast<Int>(v);
  }
  throw RequestError(field, type_error(field, "an integer", value));
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return std::string(text.substr(0, end)) + "...";
}

FieldReader::FieldReader(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {
  if (!object_.is_object()) {
    const std::string what = prefix_.empty() ? "the request body" : prefix_;
    throw RequestError(prefix_, what + ": must be a JSON object, got " + object_.type_name());
  }
}

std::string FieldReader::path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

const nlohmann::json* FieldReader::find(std::string_view key) {
  known_.emplace_back(key);
  const auto it = object_.find(key);
  return it == object_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> FieldReader::string(std::string_view key) {
  const auto* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) throw RequestError(path(key), type_error(path(key), "a string", *value));
  return value->get<std::string>();
}

std::optional<int> FieldReader::integer(std::string_view key) {
  const auto* value = find(key);
  return value ? std::optional(integral<int>(*value, path(key))) : std::nullopt;
}

std::optional<int64_t> FieldReader::int64(std::string_view key) {
  const auto* value = find(key);
  return value ? std::optional(integral<int64_t>(*value, path(key))) : std::nullopt;
}

std::optional<double> FieldReader::number(std::string_view key) {
  const auto* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_number()) throw RequestError(path(key), type_error(path(key), "a number", *value));
  return value->get<double>();
}

std::optional<bool> FieldReader::boolean(std::string_view key) {
  const auto* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) throw RequestError(path(key), type_error(path(key), "true or false", *value));
  return value->get<bool>();
}

void FieldReader::reject_unknown() const {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    const std::string field = path(excerpt(key));
    std::string message = "unknown field '" + field + "'";
    // Suggest only near misses, a typo and not another word: "x" is not a misspelt "n".
    std::size_t best_distance = key.size() >= 5 ? 3 : key.size() >= 3 ? 2 : 1;
    const std::string* best = nullptr;
    if (key.size() <= 64)
      for (const auto& candidate : known_)
        if (const auto d = edit_distance(key, candidate); d < best_distance) best = &candidate, best_distance = d;
    if (best) message += " (did you mean '" + path(*best) + "'?)";
    throw RequestError(field, message);
  }
}

std::chrono::milliseconds parse_timeout_s(FieldReader& in, std::string_view key) {
  constexpr double kYear = 365.0 * 24 * 3600;
  const auto seconds = in.number(key);
  if (!seconds) return std::chrono::milliseconds(0);
  if (!(*seconds > 0) || *seconds > kYear)
    throw field_error(std::string(key), "must be a number of seconds above 0 (at most a year), got " + nlohmann::json(*seconds).dump());
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(*seconds * 1000)));
}

}  // namespace darkroom::server::wire
