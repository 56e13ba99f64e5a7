#pragma once
// msgpack stream framing (the native msgpack stream, and NovelAI's image stream): [u32 big-endian length]
// [one msgpack map].
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace darkroom::server {

// One frame holding `map` (json::to_msgpack; a json::binary_t without subtype becomes msgpack bin).
// Throws std::invalid_argument when `map` is not an object or encodes to 4 GiB or more.
std::string msgpack_frame(const nlohmann::json& map);

// Reads a stream of frames fed in chunks of any size, for clients (tests) and fuzzing. Maps nest at most
// 64 levels deep (decoding is recursive; a deeper frame could otherwise exhaust the stack).
class MsgpackFrameReader {
 public:
  explicit MsgpackFrameReader(std::size_t max_frame_bytes = std::size_t{64} << 20);

  // The maps completed by these bytes, in order. Throws std::runtime_error for a frame longer than the
  // limit, malformed or trailing msgpack bytes, a value that is not a map, or nesting past the limit;
  // the reader is then broken and throws again on every call.
  std::vector<nlohmann::json> feed(std::string_view bytes);

  // No partial frame is buffered: a stream that ends here ended between frames.
  bool idle() const { return buffer_.empty(); }

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  bool broken_ = false;
};

}  // namespace darkroom::server
