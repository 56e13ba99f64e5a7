#include "darkroom/server/msgpack_frame.hpp"

#include <cstdint>
#include <stdexcept>

namespace darkroom::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxDepth = 64;

// Builds the decoded value like json::from_msgpack, but refuses to nest past kMaxDepth before the
// recursive decoder descends further.
class DomBuilder final : public json::json_sax_t {
 public:
  json root;

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add(value); }
  bool number_unsigned(number_unsigned_t value) override { return add(value); }
  bool number_float(number_float_t value, const string_t&) override { return add(value); }
  bool string(string_t& value) override { return add(std::move(value)); }
  bool binary(binary_t& value) override {
    auto bytes = std::move(static_cast<binary_t::container_type&>(value));
    return add(value.has_subtype() ? json::binary(std::move(bytes), value.subtype()) : json::binary(std::move(bytes)));
  }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool key(string_t& value) override {
    key_ = std::move(value);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const json::exception& error) override {
    throw std::runtime_error("malformed msgpack frame at byte " + std::to_string(position) + ": " + error.what());
  }

 private:
  json* add(json value) {
    if (stack_.empty()) {
      root = std::move(value);
      return &root;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];  // a repeated key keeps the last value, as json::from_msgpack does
    slot = std::move(value);
    return &slot;
  }
  bool open(json container) {
    if (stack_.size() >= kMaxDepth)
      throw std::runtime_error("msgpack frame nests deeper than " + std::to_string(kMaxDepth) + " levels");
    stack_.push_back(add(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::vector<json*> stack_;  // the open containers; a pointer stays valid while its children are added
  std::string key_;
};

json decode_map(std::string_view bytes) {
  DomBuilder builder;
  json::sax_parse(bytes.begin(), bytes.end(), &builder, json::input_format_t::msgpack, /*strict=*/true);
  if (!builder.root.is_object())
    throw std::runtime_error(std::string("msgpack frame holds a ") + builder.root.type_name() + ", not a map");
  return std::move(builder.root);
}

}  // namespace

std::string msgpack_frame(const json& map) {
  if (!map.is_object()) throw std::invalid_argument("a msgpack frame holds a map");
  std::string frame(4, '\0');
  json::to_msgpack(map, frame);  // appends after the 4 length bytes
  const std::size_t length = frame.size() - 4;
  if (length > UINT32_MAX) throw std::invalid_argument("msgpack frame of 4 GiB or more");
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>(length >> (24 - 8 * i));
  return frame;
}

MsgpackFrameReader::MsgpackFrameReader(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

std::vector<json> MsgpackFrameReader::feed(std::string_view bytes) {
  if (broken_) throw std::runtime_error("msgpack stream is broken by an earlier error");
  buffer_ += bytes;
  std::vector<json> maps;
  std::size_t pos = 0;
  try {
    while (buffer_.size() - pos >= 4) {
      std::size_t length = 0;
      for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<uint8_t>(buffer_[pos + i]);
      if (length > max_frame_bytes_)
        throw std::runtime_error("msgpack frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                                 std::to_string(max_frame_bytes_));
      if (buffer_.size() - pos - 4 < length) break;
      maps.push_back(decode_map(std::string_view(buffer_).substr(pos + 4, length)));
      pos += 4 + length;
    }
  } catch (const std::exception& error) {
    broken_ = true;
    throw std::runtime_error(error.what());
  }
  buffer_.erase(0, pos);
  return maps;
}

}  // namespace darkroom::server
