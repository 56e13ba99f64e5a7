#include "progress_display.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace darkroom::cli {

ProgressDisplay::ProgressDisplay() : tty_(::isatty(STDERR_FILENO) != 0) {}

void ProgressDisplay::end_bar() {
  if (bar_open_) std::cerr << "\n";
  bar_open_ = false;
}

void ProgressDisplay::line(const std::string& text) {
  end_bar();
  std::cerr << text << "\n" << std::flush;
}

void ProgressDisplay::show(const engine::Event& event) {
  if (const auto* phase = event.as<engine::PhaseChanged>()) {
    if (phase->phase == "denoising") denoise_start_s_ = event.time_s;
    return line(phase->phase);
  }
  if (const auto* queued = event.as<engine::Queued>()) return line("queued at position " + std::to_string(queued->position));
  if (const auto* notice = event.as<engine::Notice>()) return line("note: " + notice->message);
  if (const auto* preview = event.as<engine::Preview>()) {
    if (!tty_) line("preview " + std::to_string(preview->index) + " at step " + std::to_string(preview->step));
    return;
  }
  const auto* p = event.as<engine::Progress>();
  if (!p) return;
  const double denoising_s = event.time_s - denoise_start_s_;
  const double rate = denoising_s > 0 ? p->step / denoising_s : 0;
  char stats[128];
  std::snprintf(stats, sizeof stats, "step %d/%d  %.2f it/s  ETA %.1f s  sigma %.3f", p->step, p->total, rate,
                p->eta_s, p->sigma);
  if (!tty_) return line(stats);
  constexpr int kWidth = 30;
  const int filled = p->total > 0 ? kWidth * p->step / p->total : 0;
  std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << stats << "  "
            << std::flush;
  bar_open_ = true;
}

}  // namespace darkroom::cli
