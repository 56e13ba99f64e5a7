#pragma once
// The generate command's progress on stderr: a bar redrawn in place on a terminal, one plain line per
// event otherwise (logs, pipes, CI).
#include <string>

#include "darkroom/engine/event.hpp"

namespace darkroom::cli {

class ProgressDisplay {
 public:
  ProgressDisplay();
  void show(const engine::Event& event);
  void line(const std::string& text);  // a message on its own line

 private:
  void end_bar();
  bool tty_;
  bool bar_open_ = false;
  double denoise_start_s_ = 0;  // job time at which denoising began, for it/s
};

}  // namespace darkroom::cli
