#include "serve_command.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "darkroom/io/model_source.hpp"
#include "darkroom/models/cpu_threads.hpp"
#include "darkroom/server/server.hpp"
#include "default_model.hpp"

namespace darkroom::cli {
namespace {

struct ServeOptions {
  server::ServerOptions server;
  std::string vocab;
  std::string taesd;
  std::string taesdxl;
  std::string prediction;
  int threads = 0;
  double heartbeat_s = 15;
  double grace_s = 30;
  double job_ttl_s = 600;
  double job_timeout_s = 0;
  double max_body_mb = 16;
  double write_timeout_s = 30;
  double model_memory_gb = 0;
};

int run_serve(ServeOptions o) {
  auto& s = o.server;
  if (s.models_dirs.empty()) {
    const auto model = default_model();
    s.models_dirs.push_back(model.parent_path());
    if (s.default_model.empty()) s.default_model = model.stem().string();
  }
  models::use_cpu_threads(o.threads);
  if (!o.vocab.empty()) s.engine.load.vocab = o.vocab;
  if (!o.taesd.empty()) s.engine.taesd = o.taesd;
  if (!o.taesdxl.empty()) s.engine.taesdxl = o.taesdxl;
  if (!o.prediction.empty()) s.engine.load.prediction = io::parse_prediction(o.prediction);
  if (s.api_key.empty())
    if (const char* key = std::getenv("DARKROOM_API_KEY")) s.api_key = key;
  const auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)); };
  s.heartbeat = ms(o.heartbeat_s);
  s.disconnect_grace = ms(o.grace_s);
  s.write_timeout = ms(o.write_timeout_s);
  s.engine.job_ttl = ms(o.job_ttl_s);
  s.engine.job_timeout = ms(o.job_timeout_s);
  s.max_body_bytes = static_cast<std::size_t>(o.max_body_mb * (1 << 20));
  s.engine.model_memory_budget = static_cast<std::size_t>(o.model_memory_gb * (1 << 30));

  server::Server server(s);
  // The port line is what scripts and tests wait for: printed once the socket listens and SIGTERM is handled.
  server.run(true, [&] { std::cout << "darkroom serving on http://" << s.host << ':' << server.port() << std::endl; });
  std::cout << "darkroom: stopped" << std::endl;
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  auto& s = options->server;
  auto& limits = s.engine.limits;
  auto* cmd = app.add_subcommand("serve", "Serve generation over HTTP: SSE, msgpack, WebSocket, OpenAI and A1111 APIs");
  cmd->add_option("--models-dir", s.models_dirs,
                  "Folder of models (.safetensors files, diffusers folders); repeatable (default: the embedded model's)");
  cmd->add_option("--default-model", s.default_model, "Model id for requests that name none (default: the only model)");
  cmd->add_option("--host", s.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--vocab", options->vocab, "CLIP BPE vocabulary for models that carry no tokenizer");
  cmd->add_option("--taesd", options->taesd, "Tiny autoencoder decoder (.safetensors) for taesd previews");
  cmd->add_option("--taesdxl", options->taesdxl, "Tiny autoencoder decoder for SDXL models' taesd previews (default: --taesd)");
  cmd->add_option("--prediction", options->prediction, "Override every model's prediction type: epsilon | v_prediction");
  cmd->add_option("--model-memory-gb", options->model_memory_gb,
                  "Weights to keep loaded; past it idle models unload, least recently used first (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--workers", s.engine.workers, "Jobs that run at the same time")->capture_default_str();
  cmd->add_option("--jobs-per-model", s.engine.jobs_per_model,
                  "Jobs of one model that run at the same time; the next job of another model may pass (0: up to --workers)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-queue", s.engine.max_queued, "Jobs that may wait (0: no limit); more get 429")->capture_default_str();
  cmd->add_option("--job-ttl", options->job_ttl_s, "Seconds a finished job and its events stay for resume")->capture_default_str();
  cmd->add_option("--job-timeout", options->job_timeout_s,
                  "Seconds a job may take from submission (queued or running); past it, it ends with error 'timeout'. "
                  "Requests may ask for less with timeout_s (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--heartbeat", options->heartbeat_s, "Seconds between SSE heartbeats / WebSocket pings")->capture_default_str();
  cmd->add_option("--disconnect-grace", options->grace_s,
                  "Seconds a streamed job survives with no client watching (resume window)")
      ->capture_default_str();
  cmd->add_option("--api-key", s.api_key, "Require this key (Bearer, or ?access_token=); default: $DARKROOM_API_KEY");
  cmd->add_option("--cors-origin", s.cors_origin, "Allow browser pages from this origin (or *); default: CORS off");
  cmd->add_option("--max-body-mb", options->max_body_mb, "Largest request body")->capture_default_str();
  cmd->add_option("--max-side", limits.max_side, "Largest width or height")->capture_default_str();
  cmd->add_option("--max-steps", limits.max_steps, "Most denoising steps")->capture_default_str();
  cmd->add_option("--max-batch", limits.max_batch, "Most images per request")->capture_default_str();
  cmd->add_option("--max-prompt-bytes", limits.max_prompt_bytes, "Longest prompt")->capture_default_str();
  cmd->add_option("--max-pixels", limits.max_pixels,
                  "Most width x height x batch in one job: its memory and longest single operation (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-work", limits.max_work,
                  "Work budget of one job: latent pixels x batch x steps, (width/8) x (height/8) for SD (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--write-timeout", options->write_timeout_s,
                  "Seconds one write may wait for a client that does not read; then the connection is dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", options->threads, "CPU threads for generation (default: all cores)");
  cmd->callback([options] {
    const int code = run_serve(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace darkroom::cli
