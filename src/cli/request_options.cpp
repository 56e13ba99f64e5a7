#include "request_options.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace darkroom::cli {
namespace {

// "1024x768" or "1024,768" -> {1024, 768}; otherwise a CLI::ValidationError, which CLI11 reports with
// the option's name.
std::pair<int, int> parse_pair(const std::string& text, const char* option, const char* form) {
  const auto split = text.find_first_of("x,");
  std::size_t end_a = 0, end_b = 0;
  try {
    if (split == std::string::npos) throw std::invalid_argument("");
    const int a = std::stoi(text.substr(0, split), &end_a);
    const int b = std::stoi(text.substr(split + 1), &end_b);
    if (end_a != split || end_b != text.size() - split - 1) throw std::invalid_argument("");
    return {a, b};
  } catch (const std::exception&) {
    throw CLI::ValidationError(option, "'" + text + "' is not " + form);
  }
}

}  // namespace

CLI::Option* add_cfg_option(CLI::App* command, pipeline::GenerationRequest& request) {
  return command->add_option_function<double>(
      "--cfg,--cfg-scale", [&request](double scale) { request.cfg = scale; },
      "Classifier-free guidance scale, <= 1 disables guidance (default: the model's recommendation, else 7.5)");
}


CLI::Option* add_negative_prompt_option(CLI::App* command, pipeline::GenerationRequest& request) {
  return command->add_option_function<std::string>(
      "--negative,--negative-prompt,-n", [&request](const std::string& text) { request.negative_prompt = text; },
      "Negative prompt (left out: none, which SDXL models treat differently from \"\")");
}

void add_size_conditioning_options(CLI::App* command, pipeline::GenerationRequest& request) {
  const auto add = [command](const char* name, const char* form, const char* help, auto set) {
    command->add_option_function<std::string>(
        name, [=](const std::string& text) { set(parse_pair(text, name, form)); }, help);
  };
  add("--original-size", "WIDTHxHEIGHT", "SDXL: the training-image size to condition on, WxH (default: the image size)",
      [&request](std::pair<int, int> size) { request.original_size = pipeline::ImageSize{size.first, size.second}; });
  add("--crop-top-left", "X,Y", "SDXL: the crop offset to condition on, X,Y (default: 0,0)",
      [&request](std::pair<int, int> at) { request.crop_top_left = pipeline::CropOffset{at.first, at.second}; });
  add("--target-size", "WIDTHxHEIGHT", "SDXL: the target size to condition on, WxH (default: the image size)",
      [&request](std::pair<int, int> size) { request.target_size = pipeline::ImageSize{size.first, size.second}; });
}

}  // namespace darkroom::cli
