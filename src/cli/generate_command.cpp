#include "generate_command.hpp"

#include <atomic>
#include <csignal>
#include <iostream>

#include "darkroom/engine/engine.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/models/cpu_threads.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "default_model.hpp"
#include "preview_output.hpp"
#include "progress_display.hpp"
#include "request_options.hpp"

namespace darkroom::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string model_config;
  std::string vocab;
  std::string taesd;
  std::string prediction;
  std::string sampler = "euler";
  std::string scheduler = "discrete";
  std::string spacing;
  std::string out = "darkroom.png";
  std::string init_image;
  int threads = 0;
  std::string preview_method = "none";
  std::string preview_source = "denoised";
  std::string preview_format = "jpeg";
  std::string preview_dir;
  std::string preview_anim;
  pipeline::GenerationRequest request;
  preview::PreviewOptions preview;
};

std::filesystem::path numbered(const std::filesystem::path& out, std::size_t index, std::size_t count) {
  if (count == 1) return out;
  auto p = out;
  p.replace_filename(out.stem().string() + "-" + std::to_string(index + 1) + out.extension().string());
  return p;
}

// Ctrl-C asks the running job to stop; a second Ctrl-C ends the process the usual way.
std::atomic<bool> interrupted{false};
extern "C" void on_interrupt(int) {
  interrupted = true;
  std::signal(SIGINT, SIG_DFL);
}

int run_generate(GenerateOptions o) {
  if (o.model.empty()) o.model = default_model().string();
  models::use_cpu_threads(o.threads);

  auto& request = o.request;
  request.sampler = sampling::parse_sampler(o.sampler);
  request.scheduler = sampling::parse_sigma_schedule(o.scheduler);
  if (!o.spacing.empty()) request.spacing = sampling::parse_spacing(o.spacing);
  if (!o.init_image.empty()) {
    request.init_image = image::read_png(o.init_image);
    if (request.width == 0) request.width = request.init_image->width;  // img2img keeps the picture's size
    if (request.height == 0) request.height = request.init_image->height;
  }
  o.preview.method = preview::parse_method(o.preview_method);
  o.preview.source = preview::parse_source(o.preview_source);
  const auto format = image::parse_format(o.preview_format);
  if (!format) throw std::invalid_argument("--preview-format: '" + o.preview_format + "' is not png, jpeg or webp");
  o.preview.format = *format;
  if (o.preview.method == preview::Method::none && (!o.preview_dir.empty() || !o.preview_anim.empty()))
    o.preview.method = preview::Method::auto_;  // asking for preview files asks for previews
  preview::validate(o.preview);

  engine::EngineOptions options;
  // The work budget protects a server shared by many clients; one local user may spend what they like.
  options.limits.max_pixels = 0;
  options.limits.max_work = 0;
  if (!o.vocab.empty()) options.load.vocab = o.vocab;
  if (!o.model_config.empty()) options.load.model_config = o.model_config;
  const io::OpenOptions open_options{options.load.model_config};
  if (!o.prediction.empty()) options.load.prediction = io::parse_prediction(o.prediction);
  if (!o.taesd.empty()) options.taesd = o.taesd;
  engine::Engine engine(std::move(options));

  PreviewOutput previews(o.preview_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.preview_dir),
                         o.preview_anim.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.preview_anim),
                         o.preview);
  ProgressDisplay display;
  interrupted = false;
  std::signal(SIGINT, on_interrupt);
  const auto job = engine.submit({o.model, request, o.preview});
  auto events = job->subscribe();
  int exit_code = 1;
  while (!events.ended()) {
    const auto event = events.next(std::chrono::milliseconds(100));
    if (interrupted.exchange(false)) {
      display.line("interrupted: cancelling");
      job->cancel();
    }
    if (!event) continue;
    display.show(*event);
    if (const auto* p = event->as<engine::Preview>()) previews.add(*p);
    if (const auto* done = event->as<engine::Completed>()) {
      const auto model_name = std::filesystem::path(o.model).filename().replace_extension().string();
      auto made = request;  // with the size and spacing the model chose where none was asked for
      pipeline::use_model_defaults(made, pipeline::model_defaults(io::open_model(o.model, open_options)));
      const auto parameters = pipeline::infotext(made, done->seed, model_name);
      for (std::size_t i = 0; i < done->images.size(); ++i) {
        const auto path = numbered(o.out, i, done->images.size());
        image::write_png(path, *done->images[i], {{"parameters", parameters}});
        display.line("wrote " + path.string());
      }
      previews.finish(*done->images.front());
      if (!o.preview_anim.empty()) display.line("wrote " + o.preview_anim);
      std::string timings = "seed " + std::to_string(done->seed) + ";";
      for (const auto& [phase, seconds] : done->timings) timings += " " + phase + " " + std::to_string(seconds) + " s";
      display.line(timings);
      exit_code = 0;
    }
    if (const auto* error = event->as<engine::Error>()) display.line("darkroom: " + error->message);
    if (event->as<engine::Cancelled>()) {
      display.line("cancelled");
      exit_code = 130;
    }
  }
  std::signal(SIGINT, SIG_DFL);
  return exit_code;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  auto& r = options->request;
  auto& p = options->preview;
  auto* cmd = app.add_subcommand("generate", "Generate an image from a prompt");
  cmd->add_option("prompt_text", r.prompt, "Prompt (or use --prompt)");
  cmd->add_option("--prompt,-p", r.prompt, "Prompt");
  add_negative_prompt_option(cmd, r);
  cmd->add_option("--model,-m", options->model, "Checkpoint .safetensors file or diffusers model folder (default: the embedded model)");
  cmd->add_option("--model-config", options->model_config,
                  "darkroom model config (JSON) to use instead of the one beside the checkpoint");
  cmd->add_option("--vocab", options->vocab, "CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for models without a tokenizer");
  cmd->add_option("--width,-W", r.width, "Image width in pixels (multiple of 8; default: the model's own size)");
  cmd->add_option("--height,-H", r.height, "Image height in pixels (multiple of 8; default: the model's own size)");
  cmd->add_option("--steps", r.steps, "Denoising steps")->capture_default_str();
  add_cfg_option(cmd, r);
  add_size_conditioning_options(cmd, r);
  cmd->add_option("--sampler", options->sampler, "euler | euler_a | dpm++2m | ddim | lcm")->capture_default_str();
  cmd->add_option("--scheduler", options->scheduler, "Sigma schedule: discrete | karras")->capture_default_str();
  cmd->add_option("--spacing", options->spacing,
                  "Timestep spacing: leading | linspace | trailing (default: the model's scheduler config, else leading, as the SD1.5/SD2 scheduler "
                  "configs that diffusers' pipelines use for every sampler)");
  cmd->add_option("--seed", r.seed, "Seed; -1 picks a random one (printed)")->capture_default_str();
  cmd->add_option("--batch", r.batch, "Images per prompt")->capture_default_str();
  cmd->add_option("--clip-skip", r.clip_skip, "1 = last CLIP layer, 2 = penultimate")->capture_default_str();
  auto* init = cmd->add_option("--init-image", options->init_image, "PNG to start from (img2img); must have the output size");
  cmd->add_option("--strength", r.strength, "img2img: how much of the schedule re-noises the init image")
      ->capture_default_str()
      ->needs(init);  // without an init image it would do nothing: say so instead
  cmd->add_option("--prediction", options->prediction, "Override the model's prediction type: epsilon | v_prediction");
  cmd->add_option("--out,-o", options->out, "Output PNG (with -N suffixes for --batch > 1)")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  cmd->add_option("--preview", options->preview_method, "Preview decoder: none | auto | latent2rgb | taesd | vae")->capture_default_str();
  cmd->add_option("--preview-source", options->preview_source, "denoised (x0) | noisy (x_t)")->capture_default_str();
  auto* every = cmd->add_option("--preview-every", p.every_n_steps, "A preview every N steps (and at the last)");
  auto* count = cmd->add_option("--preview-count", p.count, "N evenly spaced previews, the last at the last step");
  auto* interval = cmd->add_option("--preview-interval-ms", p.min_interval_ms, "At most one preview per interval");
  every->excludes(count, interval);
  count->excludes(interval);
  cmd->add_option("--preview-max-size", p.max_size, "Longest preview side in pixels (0: the decoder's size)");
  cmd->add_option("--preview-format", options->preview_format, "png | jpeg | webp, for --preview-dir")->capture_default_str();
  cmd->add_option("--preview-quality", p.quality, "JPEG/WebP quality 0..100")->capture_default_str();
  cmd->add_option("--preview-dir", options->preview_dir, "Write each preview to this folder as it arrives");
  cmd->add_option("--preview-anim", options->preview_anim, "Write an animated WebP of the image developing");
  cmd->add_option("--taesd", options->taesd, "Tiny autoencoder decoder (.safetensors) for --preview taesd");
  cmd->callback([options] {
    const int code = run_generate(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace darkroom::cli
