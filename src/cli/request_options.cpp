#include "request_options.hpp"

namespace darkroom::cli {

CLI::Option* add_cfg_option(CLI::App* command, pipeline::GenerationRequest& request) {
  return command->add_option_function<double>(
      "--cfg,--cfg-scale", [&request](double scale) { request.cfg = scale; },
      "Classifier-free guidance scale, <= 1 disables guidance (default: the model's recommendation, else 7.5)");
}

}  // namespace darkroom::cli
