// Server load: many SSE watchers of one job, and several jobs at once with their watchers; for each load,
// the latency from an event's creation to its receipt by a watcher (p50/p99 over every event every watcher
// got), the server's RSS, and what a deliberately stalled reader costs (a client that never reads while
// its job streams previews). Runs the real server in-process on a loopback port with the golden tiny
// model (64x64, ~10 ms steps, a latent2rgb preview every step), so the event rate, not the model, is the
// load. Usage: darkroom_server_load_bench [--watchers 1,10,50,100,200] [--steps 200]
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/server/server.hpp"
#include "darkroom/server/sse.hpp"

namespace {

using namespace darkroom;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

std::string http_request(const std::string& method, const std::string& target, const std::string& body = "") {
  std::ostringstream out;
  out << method << ' ' << target << " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
      << body.size() << "\r\n\r\n"
      << body;
  return out.str();
}

tcp::socket connect(asio::io_context& io, uint16_t port) {
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

// Submits a job; returns its id and the client's clock just before the request (the job's events count
// time from a moment within the request, so receipt - (this + time_s) overstates latency by < 1 ms).
std::pair<std::string, Clock::time_point> submit(uint16_t port, int steps) {
  asio::io_context io;
  auto socket = connect(io, port);
  const nlohmann::json body{{"prompt", "a red circle"}, {"width", 64},  {"height", 64},
                            {"steps", steps},           {"seed", 1},    {"preview", {{"method", "latent2rgb"}}}};
  const auto start = Clock::now();
  asio::write(socket, asio::buffer(http_request("POST", "/v1/jobs", body.dump())));
  std::string reply;
  boost::system::error_code ec;
  char buffer[4096];
  while (reply.find("}") == std::string::npos) {
    const auto n = socket.read_some(asio::buffer(buffer), ec);
    if (ec) break;
    reply.append(buffer, n);
  }
  const auto json = nlohmann::json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
  return {json.at("id").get<std::string>(), start};
}

// Reads a job's SSE stream to its end; one latency sample per event.
void watch(uint16_t port, const std::string& id, Clock::time_point submitted, std::vector<double>& latencies_ms) {
  asio::io_context io;
  auto socket = connect(io, port);
  asio::write(socket, asio::buffer(http_request("GET", "/v1/jobs/" + id + "/events")));
  server::SseParser parser;
  char buffer[16384];
  boost::system::error_code ec;
  for (;;) {
    const auto n = socket.read_some(asio::buffer(buffer), ec);
    if (ec) return;
    const auto now = Clock::now();
    for (const auto& event : parser.feed({buffer, n})) {
      const double created_s = nlohmann::json::parse(event.data).at("time_s").get<double>();
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - submitted).count() - created_s * 1000);
      if (event.event == "completed" || event.event == "error" || event.event == "cancelled") return;
    }
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

void run_load(uint16_t port, int jobs, int watchers, int steps) {
  const auto rss_before = rss_mib();
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(watchers));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int j = 0; j < jobs; ++j) {
    const auto [id, submitted] = submit(port, steps);
    for (int w = j; w < watchers; w += jobs)
      threads.emplace_back([&, id = id, submitted = submitted, w] { watch(port, id, submitted, latencies[w]); });
  }
  double peak_rss = rss_before;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak_rss = std::max(peak_rss, rss_mib());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (auto& thread : threads) thread.join();
  done = true;
  sampler.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  std::size_t events = 0;
  for (const auto& per : latencies) {
    all.insert(all.end(), per.begin(), per.end());
    events += per.size();
  }
  std::printf("| %d | %d | %zu | %.0f | %.2f | %.2f | %.1f | %.0f |\n", jobs, watchers, events, events / seconds,
              percentile(all, 0.5), percentile(all, 0.99), seconds, peak_rss - rss_before);
  std::fflush(stdout);
}

// A client that asks for a job's events and never reads them, while the job streams a preview per step.
void stalled_reader(uint16_t port, int steps) {
  asio::io_context io;
  auto socket = connect(io, port);
  socket.set_option(asio::socket_base::receive_buffer_size(4096));
  const auto rss_before = rss_mib();
  const auto [id, submitted] = submit(port, steps);
  asio::write(socket, asio::buffer(http_request("GET", "/v1/jobs/" + id + "/events")));
  std::vector<double> latencies;
  watch(port, id, submitted, latencies);  // a second, normal reader: the job's pace is unaffected
  const auto rss_after = rss_mib();
  std::printf("\nstalled reader: a %d-step job with a preview per step finished with one client never reading;\n"
              "the normal reader got %zu events, p99 %.2f ms; RSS grew %.1f MiB while the stalled stream was open\n",
              steps, latencies.size(), percentile(latencies, 0.99), rss_after - rss_before);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> watcher_counts{1, 10, 50, 100, 200};
  int steps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--steps") {
      steps = std::stoi(argv[i + 1]);
    } else if (arg == "--watchers") {
      watcher_counts.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) watcher_counts.push_back(std::stoi(item));
    } else {
      std::cerr << "usage: " << argv[0] << " [--watchers 1,10,50] [--steps 200]\n";
      return 2;
    }
  }
  server::ServerOptions options;
  options.port = 0;
  // The golden tiny model beside its model config (the heads no tensor records), as the tests keep it.
  namespace fs = std::filesystem;
  const fs::path models = fs::temp_directory_path() / ("darkroom-load-bench-" + std::to_string(::getpid()));
  fs::create_directories(models);
  fs::create_symlink(fs::path(DARKROOM_GOLDEN_DIR) / "checkpoints" / "sd1_tiny.safetensors", models / "sd1_tiny.safetensors");
  fs::copy_file(fs::path(DARKROOM_TEST_DATA_DIR) / "golden_models" / "sd1_tiny.json", models / "sd1_tiny.json");
  options.models_dirs = {models};
  options.default_model = "sd1_tiny";
  options.engine.load.vocab = std::string(DARKROOM_GOLDEN_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";
  options.engine.workers = 2;
  options.engine.limits.max_steps = 1000;
  server::Server server(options);
  std::thread serving([&] { server.run(); });
  const auto port = server.port();
  submit(port, 1);  // load the model first

  std::printf("tiny model, 64x64, %d steps, a latent2rgb preview every step; latency = receipt - creation\n\n", steps);
  std::printf("| jobs | watchers | events received | events/s | p50 ms | p99 ms | seconds | RSS growth MiB |\n"
              "|---|---|---|---|---|---|---|---|\n");
  for (const int watchers : watcher_counts) run_load(port, 1, watchers, steps);
  for (const int watchers : watcher_counts)
    if (watchers >= 4) run_load(port, 4, watchers, steps);
  stalled_reader(port, std::max(steps, 500));
  server.stop();
  fs::remove_all(models);
  serving.join();
  return 0;
}
