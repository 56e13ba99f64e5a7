#pragma once
// Server-Sent Events framing (WHATWG HTML, "Server-sent events"): the writer the server streams with, and
// an incremental parser that reads a stream as a browser's EventSource does, for tests and fuzzing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace darkroom::server {

// "event: NAME\nid: ID\ndata: LINE\n...\n\n". An empty name writes no event line (the data-only form, a
// "message" event to EventSource); id 0 writes no id line (the client keeps its last id, which
// is what the synthetic seq-0 events need). Every line break in data (\n, \r\n or \r) starts a new data:
// line, so a client reads the data back with each break as "\n". Throws std::invalid_argument for a name
// with a line break, which would end the field early.
std::string sse_event(std::string_view name, uint64_t id, std::string_view data);
// ": TEXT\n\n"; each line of a multi-line text becomes its own comment line. Heartbeat: sse_comment("keep-alive").
std::string sse_comment(std::string_view text);
// "retry: MS\n\n": the client's reconnection delay. Throws std::invalid_argument for a negative delay.
std::string sse_retry(int ms);

struct SseEvent {
  std::string event;  // "message" when the stream named none
  std::string id;     // the last event ID at dispatch (ids persist across events, as in the browser)
  std::string data;   // data lines joined with "\n"

  bool operator==(const SseEvent&) const = default;
};

// Feed bytes in chunks of any size; complete events come out in order. Follows the WHATWG processing
// rules: lines end with CRLF, LF or CR (a CRLF split across chunks included); a leading UTF-8 BOM is
// skipped; "field:value" drops one space after the colon; unknown fields are ignored; an id containing
// NUL is ignored; retry takes only ASCII digits; a block with no data dispatches nothing; an event that
// the stream ends inside is never dispatched. Bytes are passed through, not UTF-8 validated.
class SseParser {
 public:
  std::vector<SseEvent> feed(std::string_view bytes);

  std::optional<uint64_t> retry_ms() const { return retry_ms_; }  // the newest valid retry: field
  std::size_t comments() const { return comments_; }               // comment lines seen (heartbeats)
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void process_line(std::vector<SseEvent>& out);

  std::string line_;
  bool started_ = false;      // past the optional BOM
  bool after_cr_ = false;     // the previous chunk ended in CR: a leading LF belongs to it
  std::string event_type_;
  std::string data_;
  std::string id_buffer_;      // the newest id: field; becomes last_event_id_ when an event dispatches
  std::string last_event_id_;
  std::optional<uint64_t> retry_ms_;
  std::size_t comments_ = 0;
};

}  // namespace darkroom::server
