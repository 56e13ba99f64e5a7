#include "darkroom/server/sse.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace darkroom::server {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Appends "<prefix>LINE\n" for every line of text, splitting on \r\n, \r and \n as the parser does.
void add_lines(std::string& out, std::string_view prefix, std::string_view text) {
  while (true) {
    const auto end = text.find_first_of("\r\n");
    out += prefix;
    out += text.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) return;
    text.remove_prefix(end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1));
  }
}

}  // namespace

std::string sse_event(std::string_view name, uint64_t id, std::string_view data) {
  if (name.find_first_of("\r\n") != std::string_view::npos)
    throw std::invalid_argument("SSE event name with a line break");
  std::string out;
  out.reserve(name.size() + data.size() + 48);
  if (!name.empty()) {
    out += "event: ";
    out += name;
    out += '\n';
  }
  if (id != 0) out += "id: " + std::to_string(id) + "\n";
  add_lines(out, "data: ", data);
  out += '\n';
  return out;
}

std::string sse_comment(std::string_view text) {
  std::string out;
  add_lines(out, ": ", text);
  out += '\n';
  return out;
}

std::string sse_retry(int ms) {
  if (ms < 0) throw std::invalid_argument("SSE retry must be >= 0 ms");
  return "retry: " + std::to_string(ms) + "\n\n";
}

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  if (!started_) {
    // A BOM may arrive split across chunks: hold the bytes back while they could still be one.
    line_ += bytes;
    const std::size_t n = std::min(line_.size(), kBom.size());
    if (n < kBom.size() && line_.compare(0, n, kBom.substr(0, n)) == 0) return out;
    started_ = true;
    const std::string held = std::move(line_);
    line_.clear();
    return feed(std::string_view(held).substr(held.compare(0, kBom.size(), kBom) == 0 ? kBom.size() : 0));
  }
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const auto end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_ += bytes;
      break;
    }
    line_ += bytes.substr(0, end);
    after_cr_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
    process_line(out);
  }
  return out;
}

void SseParser::process_line(std::vector<SseEvent>& out) {
  const std::string_view line = line_;
  if (line.empty()) {  // dispatch
    last_event_id_ = id_buffer_;
    if (!data_.empty()) {
      data_.pop_back();  // the "\n" after the last data line
      out.push_back({event_type_.empty() ? "message" : event_type_, last_event_id_, std::move(data_)});
    }
    data_.clear();
    event_type_.clear();
  } else if (line.front() == ':') {
    ++comments_;
  } else {
    const auto colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      event_type_ = value;
    } else if (field == "data") {
      data_ += value;
      data_ += '\n';
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) id_buffer_ = value;
    } else if (field == "retry") {
      uint64_t ms = 0;
      bool valid = true;
      for (char c : value) {
        if (c < '0' || c > '9' || ms > (UINT64_MAX - 9) / 10) {  // not a number, or past 64 bits: ignored
          valid = false;
          break;
        }
        ms = ms * 10 + static_cast<uint64_t>(c - '0');
      }
      if (valid && !value.empty()) retry_ms_ = ms;
    }
  }
  line_.clear();
}

}  // namespace darkroom::server
