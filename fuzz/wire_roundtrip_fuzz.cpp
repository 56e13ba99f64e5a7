// The stream framings, both ways. Arbitrary bytes through SseParser and MsgpackFrameReader (what a client
// of the server reads) must never crash; and what the writers produce from fuzzed events and maps must
// parse back to the same data, however the stream is cut into chunks.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/sse.hpp"

namespace {

using nlohmann::json;
using namespace darkroom::server;

// Feeds `stream` in chunks whose sizes the fuzzer picks.
template <typename Feed>
void feed_in_chunks(FuzzedDataProvider& in, std::string_view stream, Feed feed) {
  while (!stream.empty()) {
    const auto n = std::min(stream.size(), in.ConsumeIntegralInRange<std::size_t>(1, 64));
    feed(stream.substr(0, n));
    stream.remove_prefix(n);
  }
}

void raw_bytes(FuzzedDataProvider& in) {
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  SseParser sse;
  for (const auto& event : sse.feed(bytes))
    if (event.event.empty()) std::abort();  // a dispatched event always has a type
  MsgpackFrameReader reader(1 << 16);
  try {
    for (const auto& map : reader.feed(bytes))
      if (!map.is_object()) std::abort();
  } catch (const std::runtime_error&) {
  }
}

// SSE data as a client reads it back: every line break (\r\n, \r, \n) becomes "\n".
std::string normalized(std::string_view data) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') continue;
    out += data[i] == '\r' ? '\n' : data[i];
  }
  return out;
}

void sse_round_trip(FuzzedDataProvider& in) {
  std::string stream;
  std::vector<SseEvent> expected;
  std::string last_id;
  while (in.remaining_bytes() > 0 && expected.size() < 16) {
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0:
        stream += sse_comment(in.ConsumeRandomLengthString(32));
        break;
      case 1:
        stream += sse_retry(in.ConsumeIntegralInRange(0, 1 << 30));
        break;
      default: {
        std::string name = in.ConsumeRandomLengthString(16);
        std::erase_if(name, [](char c) { return c == '\r' || c == '\n'; });
        const uint64_t id = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint64_t>();
        const std::string data = in.ConsumeRandomLengthString(256);
        stream += sse_event(name, id, data);
        if (id != 0) last_id = std::to_string(id);
        expected.push_back({name.empty() ? "message" : name, last_id, normalized(data)});
      }
    }
  }
  SseParser parser;
  std::vector<SseEvent> parsed;
  feed_in_chunks(in, stream, [&](std::string_view chunk) {
    for (auto& event : parser.feed(chunk)) parsed.push_back(std::move(event));
  });
  if (parsed != expected) std::abort();
}

// A map of bounded depth with every kind of value the event maps use, bin included. No NaN: it never
// compares equal, even to itself.
json random_value(FuzzedDataProvider& in, int depth) {
  switch (in.ConsumeIntegralInRange(0, depth > 0 ? 8 : 6)) {
    case 0: return nullptr;
    case 1: return in.ConsumeBool();
    case 2: return in.ConsumeIntegral<int64_t>();
    case 3: return in.ConsumeIntegral<uint64_t>();
    case 4: {
      const double v = in.ConsumeFloatingPoint<double>();
      return std::isnan(v) ? 0.0 : v;
    }
    case 5: return in.ConsumeRandomLengthString(64);
    case 6: return json::binary(in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 512)));
    case 7: {
      json array = json::array();
      for (int n = in.ConsumeIntegralInRange(0, 4); n > 0; --n) array.push_back(random_value(in, depth - 1));
      return array;
    }
    default: {
      json map = json::object();
      for (int n = in.ConsumeIntegralInRange(0, 4); n > 0; --n) map[in.ConsumeRandomLengthString(16)] = random_value(in, depth - 1);
      return map;
    }
  }
}

void msgpack_round_trip(FuzzedDataProvider& in) {
  std::vector<json> maps;
  std::string stream;
  for (int n = in.ConsumeIntegralInRange(1, 4); n > 0; --n) {
    json map = json::object();
    for (int k = in.ConsumeIntegralInRange(0, 6); k > 0; --k) map[in.ConsumeRandomLengthString(16)] = random_value(in, 4);
    stream += msgpack_frame(map);
    maps.push_back(std::move(map));
  }
  MsgpackFrameReader reader;
  std::vector<json> parsed;
  feed_in_chunks(in, stream, [&](std::string_view chunk) {
    for (auto& map : reader.feed(chunk)) parsed.push_back(std::move(map));
  });
  if (parsed != maps || !reader.idle()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: raw_bytes(in); break;
    case 1: sse_round_trip(in); break;
    default: msgpack_round_trip(in); break;
  }
  return 0;
}
