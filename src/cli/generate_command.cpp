#include "generate_command.hpp"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "darkroom/image/png.hpp"
#include "darkroom/pipeline/infotext.hpp"
#include "darkroom/pipeline/stable_diffusion.hpp"

namespace darkroom::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string vocab;
  std::string prediction;
  std::string sampler = "euler";
  std::string scheduler = "discrete";
  std::string spacing;
  std::string out = "darkroom.png";
  std::string init_image;
  int threads = 0;
  pipeline::GenerationRequest request;
};

std::filesystem::path numbered(const std::filesystem::path& out, int index, int count) {
  if (count == 1) return out;
  auto p = out;
  p.replace_filename(out.stem().string() + "-" + std::to_string(index + 1) + out.extension().string());
  return p;
}

// One line per step: overwritten in place on a terminal, appended otherwise (logs, pipes).
class ProgressLine {
 public:
  ProgressLine() : tty_(::isatty(STDERR_FILENO) != 0) {}
  void phase(pipeline::Phase p) {
    end_line();
    std::cerr << pipeline::phase_name(p) << "\n";
    phase_start_ = std::chrono::steady_clock::now();
  }
  void step(const sampling::StepInfo& info) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_start_).count();
    const double rate = (info.step + 1) / std::max(1e-9, elapsed);
    char line[160];
    std::snprintf(line, sizeof line, "step %d/%d  sigma %.4f  %.2f it/s", info.step + 1, info.total, info.sigma, rate);
    std::cerr << (tty_ ? "\r" : "") << line << (tty_ ? "" : "\n") << std::flush;
    open_ = tty_;
  }
  void end_line() {
    if (open_) std::cerr << "\n";
    open_ = false;
  }

 private:
  bool tty_;
  bool open_ = false;
  std::chrono::steady_clock::time_point phase_start_ = std::chrono::steady_clock::now();
};

void run_generate(const GenerateOptions& o) {
  if (o.model.empty()) throw std::invalid_argument("--model: no model given (a checkpoint .safetensors or a diffusers folder)");
  at::set_num_threads(o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));

  pipeline::LoadOptions load;
  if (!o.vocab.empty()) load.vocab = o.vocab;
  if (!o.prediction.empty()) load.prediction = io::parse_prediction(o.prediction);
  auto request = o.request;
  request.sampler = sampling::parse_sampler(o.sampler);
  request.scheduler = sampling::parse_sigma_schedule(o.scheduler);
  if (!o.spacing.empty()) request.spacing = sampling::parse_spacing(o.spacing);
  if (!o.init_image.empty()) request.init_image = image::read_png(o.init_image);

  ProgressLine progress;
  progress.phase(pipeline::Phase::loading_model);
  auto model = pipeline::StableDiffusion::load(o.model, load);
  pipeline::GenerationObserver observer;
  observer.on_phase = [&](pipeline::Phase p) { progress.phase(p); };
  observer.on_step = [&](const sampling::StepInfo& info) { progress.step(info); };
  const auto result = model->generate(request, observer);
  progress.end_line();

  const auto model_name = std::filesystem::path(o.model).stem().string();
  const auto parameters = pipeline::infotext(request, result.seed, model_name);
  for (std::size_t i = 0; i < result.images.size(); ++i) {
    const auto path = numbered(o.out, static_cast<int>(i), static_cast<int>(result.images.size()));
    image::write_png(path, result.images[i], {{"parameters", parameters}});
    std::cerr << "wrote " << path.string() << "\n";
  }
  std::cerr << "seed " << result.seed << "; prompt " << result.timings.encode_prompt_s << " s, denoise "
            << result.timings.denoise_s << " s, decode " << result.timings.decode_s << " s\n";
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  auto& r = options->request;
  auto* cmd = app.add_subcommand("generate", "Generate an image from a prompt");
  cmd->add_option("prompt_text", r.prompt, "Prompt (or use --prompt)");
  cmd->add_option("--prompt,-p", r.prompt, "Prompt");
  cmd->add_option("--negative,--negative-prompt,-n", r.negative_prompt, "Negative prompt");
  cmd->add_option("--model,-m", options->model, "Checkpoint .safetensors file or diffusers model folder");
  cmd->add_option("--vocab", options->vocab, "CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for models without a tokenizer");
  cmd->add_option("--width,-W", r.width, "Image width in pixels (multiple of 8)")->capture_default_str();
  cmd->add_option("--height,-H", r.height, "Image height in pixels (multiple of 8)")->capture_default_str();
  cmd->add_option("--steps", r.steps, "Denoising steps")->capture_default_str();
  cmd->add_option("--cfg,--cfg-scale", r.cfg, "Classifier-free guidance scale (<= 1 disables guidance)")->capture_default_str();
  cmd->add_option("--sampler", options->sampler, "euler | euler_a | dpm++2m | ddim | lcm")->capture_default_str();
  cmd->add_option("--scheduler", options->scheduler, "Sigma schedule: discrete | karras")->capture_default_str();
  cmd->add_option("--spacing", options->spacing,
                  "Timestep spacing: leading | linspace | trailing (default: leading, as the SD1.5/SD2 scheduler "
                  "configs that diffusers' pipelines use for every sampler)");
  cmd->add_option("--seed", r.seed, "Seed; -1 picks a random one (printed)")->capture_default_str();
  cmd->add_option("--batch", r.batch, "Images per prompt")->capture_default_str();
  cmd->add_option("--clip-skip", r.clip_skip, "1 = last CLIP layer, 2 = penultimate")->capture_default_str();
  cmd->add_option("--init-image", options->init_image, "PNG to start from (img2img); must have the output size");
  cmd->add_option("--strength", r.strength, "img2img: how much of the schedule re-noises the init image")->capture_default_str();
  cmd->add_option("--prediction", options->prediction, "Override the model's prediction type: epsilon | v_prediction");
  cmd->add_option("--out,-o", options->out, "Output PNG (with -N suffixes for --batch > 1)")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU threads (default: all cores)");
  cmd->callback([options] { run_generate(*options); });
}

}  // namespace darkroom::cli
