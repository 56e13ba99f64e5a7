#pragma once
// What every training stage shares: the learning-rate schedule, the loss log, checkpoints that resume, the
// exponential moving average of the weights, and the time limit.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "darkroom/training/trainer.hpp"

namespace darkroom::training {

// Linear warm-up to the stage's rate, then cosine decay to a tenth of it at the last step.
double learning_rate_at(const StageOptions& stage, int64_t step);
void set_learning_rate(torch::optim::Optimizer& optimizer, double rate);

using NamedModules = std::vector<std::pair<std::string, torch::nn::Module*>>;

// Modules and optimizer state with the number of steps done; written to a temporary file and renamed,
// so an interrupted save leaves the previous checkpoint intact.
void save_checkpoint(const std::filesystem::path& file, int64_t step, const NamedModules& modules,
                     torch::optim::Optimizer* optimizer);
// The steps done, or 0 when the file does not exist (the modules are left as they are).
int64_t load_checkpoint(const std::filesystem::path& file, const NamedModules& modules,
                        torch::optim::Optimizer* optimizer, torch::Device device);

// average = decay * average + (1 - decay) * weights, parameter by parameter (same architecture).
void update_ema(torch::nn::Module& average, const torch::nn::Module& weights, double decay);
void copy_weights(torch::nn::Module& to, const torch::nn::Module& from);

// Mean loss over each log_every steps, appended to NAME_loss.csv (step, loss, learning_rate, seconds) and
// printed; the file survives restarts (rows after a resumed step are dropped first).
class LossLog {
 public:
  LossLog(const std::filesystem::path& csv, std::string stage, int64_t resumed_step, int64_t every);
  void add(int64_t step, double loss, double learning_rate);

 private:
  std::filesystem::path csv_;
  std::string stage_;
  int64_t every_;
  double sum_ = 0;
  int64_t count_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double seconds_before_ = 0;  // training time recorded before a resume
};

// Stops a stage after options.time_limit_minutes (0: never).
class TimeLimit {
 public:
  explicit TimeLimit(double minutes) : minutes_(minutes) {}
  bool reached() const;

 private:
  double minutes_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace darkroom::training
