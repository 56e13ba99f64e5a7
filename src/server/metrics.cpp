#include "metrics.hpp"

#include <sstream>

namespace darkroom::server {
namespace {

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string Metrics::render(const engine::EngineStats& engine) const {
  std::ostringstream out;
  family(out, "darkroom_queue_depth", "gauge", "Jobs waiting for a worker.");
  out << "darkroom_queue_depth " << engine.queued << '\n';
  family(out, "darkroom_jobs", "gauge", "Jobs the engine holds, by state (finished ones within their TTL).");
  out << "darkroom_jobs{state=\"queued\"} " << engine.queued << '\n'
      << "darkroom_jobs{state=\"running\"} " << engine.running << '\n'
      << "darkroom_jobs{state=\"finished\"} " << engine.finished << '\n';
  family(out, "darkroom_step_seconds", "summary", "Time per denoising step.");
  out << "darkroom_step_seconds_sum " << engine.step_seconds << "\ndarkroom_step_seconds_count " << engine.steps << '\n';
  family(out, "darkroom_preview_decode_seconds", "summary", "Time per preview decode.");
  out << "darkroom_preview_decode_seconds_sum " << engine.preview_decode_seconds
      << "\ndarkroom_preview_decode_seconds_count " << engine.preview_decodes << '\n';
  family(out, "darkroom_models_loaded", "gauge", "Models held in memory.");
  out << "darkroom_models_loaded " << engine.loaded_models << '\n';
  family(out, "darkroom_model_bytes", "gauge", "Bytes of the loaded models' weights (float32).");
  out << "darkroom_model_bytes " << engine.loaded_model_bytes << '\n';
  family(out, "darkroom_streams_connected", "gauge", "Open event streams (SSE and msgpack).");
  out << "darkroom_streams_connected " << streams_open_ << '\n';
  family(out, "darkroom_streams_total", "counter", "Event streams opened.");
  out << "darkroom_streams_total " << streams_total_ << '\n';
  family(out, "darkroom_websockets_connected", "gauge", "Open WebSocket connections.");
  out << "darkroom_websockets_connected " << websockets_open_ << '\n';
  family(out, "darkroom_stream_bytes_total", "counter", "Bytes sent on event streams and WebSockets.");
  out << "darkroom_stream_bytes_total " << stream_bytes_ << '\n';
  family(out, "darkroom_http_responses_total", "counter", "Complete (non-streamed) HTTP responses by class.");
  out << "darkroom_http_responses_total{class=\"2xx_3xx\"} " << ok_ << '\n'
      << "darkroom_http_responses_total{class=\"4xx\"} " << client_errors_ << '\n'
      << "darkroom_http_responses_total{class=\"5xx\"} " << server_errors_ << '\n';
  family(out, "darkroom_queue_full_total", "counter", "Submissions refused with 429 because the queue was full.");
  out << "darkroom_queue_full_total " << queue_full_ << '\n';
  return out.str();
}

}  // namespace darkroom::server
