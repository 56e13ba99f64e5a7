#include "stage.hpp"

#include <cmath>
#include <cstdio>
#include <numbers>
#include <sstream>

namespace darkroom::training {

namespace fs = std::filesystem;

double learning_rate_at(const StageOptions& stage, int64_t step) {
  if (step < stage.warmup_steps) return stage.learning_rate * static_cast<double>(step + 1) / stage.warmup_steps;
  const double span = std::max<int64_t>(1, stage.steps - stage.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - stage.warmup_steps) / span);
  return stage.learning_rate * (0.1 + 0.9 * 0.5 * (1 + std::cos(std::numbers::pi * progress)));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(rate);
}

void save_checkpoint(const fs::path& file, int64_t step, const NamedModules& modules,
                     torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive root;
  root.write("step", torch::tensor(step));
  for (const auto& [name, module] : modules) {
    torch::serialize::OutputArchive archive;
    module->save(archive);
    root.write(name, archive);
  }
  if (optimizer) {
    torch::serialize::OutputArchive archive;
    optimizer->save(archive);
    root.write("optimizer", archive);
  }
  const fs::path partial = file.string() + ".partial";
  root.save_to(partial.string());
  fs::rename(partial, file);
}

int64_t load_checkpoint(const fs::path& file, const NamedModules& modules, torch::optim::Optimizer* optimizer,
                        torch::Device device) {
  if (!fs::exists(file)) return 0;
  torch::serialize::InputArchive root;
  root.load_from(file.string(), device);
  torch::Tensor step;
  root.read("step", step);
  for (const auto& [name, module] : modules) {
    torch::serialize::InputArchive archive;
    if (!root.try_read(name, archive))
      throw std::runtime_error(file.string() + ": checkpoint has no '" + name + "'");
    module->load(archive);
  }
  if (optimizer) {
    torch::serialize::InputArchive archive;
    if (root.try_read("optimizer", archive)) optimizer->load(archive);
  }
  return step.item<int64_t>();
}

void update_ema(torch::nn::Module& average, const torch::nn::Module& weights, double decay) {
  torch::NoGradGuard no_grad;
  auto to = average.parameters();
  const auto from = weights.parameters();
  for (size_t i = 0; i < to.size(); ++i) to[i].mul_(decay).add_(from[i].detach(), 1 - decay);
}

void copy_weights(torch::nn::Module& to, const torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  auto target = to.parameters();
  const auto source = from.parameters();
  for (size_t i = 0; i < target.size(); ++i) target[i].copy_(source[i]);
  auto target_buffers = to.buffers();
  const auto source_buffers = from.buffers();
  for (size_t i = 0; i < target_buffers.size(); ++i) target_buffers[i].copy_(source_buffers[i]);
}

LossLog::LossLog(const fs::path& csv, std::string stage, int64_t resumed_step, int64_t every)
    : csv_(csv), stage_(std::move(stage)), every_(std::max<int64_t>(1, every)) {
  // Keep the rows up to the resumed step: a run stopped after its last checkpoint logged steps it will redo.
  std::string kept = "step,loss,learning_rate,seconds\n";
  if (std::ifstream in(csv_); in && resumed_step > 0) {
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream row(line);
      int64_t step = 0;
      char comma = 0;
      double loss = 0, rate = 0, seconds = 0;
      if (row >> step >> comma >> loss >> comma >> rate >> comma >> seconds && step <= resumed_step) {
        kept += line + "\n";
        seconds_before_ = seconds;
      }
    }
  }
  std::ofstream(csv_, std::ios::trunc) << kept;
}

void LossLog::add(int64_t step, double loss, double learning_rate) {
  sum_ += loss;
  ++count_;
  if ((step + 1) % every_ != 0) return;
  const double seconds =
      seconds_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double mean = sum_ / count_;
  std::ofstream(csv_, std::ios::app) << step + 1 << "," << mean << "," << learning_rate << "," << seconds << "\n";
  std::printf("%s step %lld  loss %.5f  lr %.2e  %.0f s\n", stage_.c_str(), static_cast<long long>(step + 1), mean,
              learning_rate, seconds);
  std::fflush(stdout);
  sum_ = 0;
  count_ = 0;
}

bool TimeLimit::reached() const {
  if (minutes_ <= 0) return false;
  return std::chrono::duration<double, std::ratio<60>>(std::chrono::steady_clock::now() - start_).count() >= minutes_;
}

}  // namespace darkroom::training
