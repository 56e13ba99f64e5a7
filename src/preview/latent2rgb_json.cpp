// The JSON form of a latent2rgb table (see latent2rgb.hpp).
#include <nlohmann/json.hpp>

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "darkroom/preview/latent2rgb.hpp"

namespace darkroom::preview {
namespace {

constexpr std::string_view format_tag = "darkroom.latent2rgb";
constexpr int format_version = 1;

using nlohmann::json;

[[noreturn]] void fail(std::string_view source, const std::string& what) {
  throw std::invalid_argument(std::string(source) + ": " + what);
}

const json& field(const json& object, const char* name, std::string_view source) {
  const auto it = object.find(name);
  if (it == object.end()) fail(source, std::string("missing \"") + name + "\"");
  return *it;
}

std::array<float, 3> rgb(const json& value, const std::string& where, std::string_view source) {
  if (!value.is_array() || value.size() != 3) fail(source, where + " must be an array of 3 numbers");
  std::array<float, 3> out{};
  for (std::size_t c = 0; c < 3; ++c) {
    if (!value[c].is_number()) fail(source, where + "[" + std::to_string(c) + "] is not a number");
    out[c] = value[c].get<float>();
  }
  return out;
}

// The float's shortest decimal as a double, so that files read 0.3512 rather than 0.35119998455047607;
// it still reads back as the same float.
double shortest(float value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  double out = 0;
  std::from_chars(text, end, out);
  return out;
}

json rgb_json(const std::array<float, 3>& values) {
  return json::array({shortest(values[0]), shortest(values[1]), shortest(values[2])});
}

}  // namespace

std::string table_to_json(const Latent2RgbTable& table) {
  // Written by hand rather than json::dump(2) to keep the fields in reading order and one row per line.
  std::string out = "{\n  \"format\": \"" + std::string(format_tag) + "\",\n  \"version\": " +
                    std::to_string(format_version) + ",\n  \"latent_channels\": " +
                    std::to_string(table.factors.size()) + ",\n  \"factors\": [\n";
  for (std::size_t k = 0; k < table.factors.size(); ++k)
    out += "    " + rgb_json(table.factors[k]).dump() + (k + 1 < table.factors.size() ? ",\n" : "\n");
  return out + "  ],\n  \"bias\": " + rgb_json(table.bias).dump() + "\n}\n";
}

Latent2RgbTable table_from_json(std::string_view text, std::string_view source) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, "not valid JSON");
  if (!j.is_object()) fail(source, "expected a JSON object");
  if (field(j, "format", source) != format_tag) fail(source, "\"format\" must be \"" + std::string(format_tag) + "\"");
  if (field(j, "version", source) != format_version)
    fail(source, "unsupported \"version\" " + field(j, "version", source).dump() + " (this build reads 1)");
  const auto& channels = field(j, "latent_channels", source);
  if (!channels.is_number_unsigned() || channels.get<std::size_t>() == 0 || channels.get<std::size_t>() > 1024)
    fail(source, "\"latent_channels\" must be an integer in 1..1024");
  const auto& factors = field(j, "factors", source);
  if (!factors.is_array() || factors.size() != channels.get<std::size_t>())
    fail(source, "\"factors\" must be an array of latent_channels (" + channels.dump() + ") rows");
  Latent2RgbTable table;
  for (std::size_t k = 0; k < factors.size(); ++k)
    table.factors.push_back(rgb(factors[k], "\"factors\"[" + std::to_string(k) + "]", source));
  table.bias = rgb(field(j, "bias", source), "\"bias\"", source);
  return table;
}

void write_table(const std::filesystem::path& path, const Latent2RgbTable& table) {
  std::ofstream out(path, std::ios::binary);
  out << table_to_json(table);
  out.close();
  if (!out) throw std::runtime_error("cannot write latent2rgb table " + path.string());
}

Latent2RgbTable read_table(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read latent2rgb table " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return table_from_json(text.str(), path.string());
}

}  // namespace darkroom::preview
