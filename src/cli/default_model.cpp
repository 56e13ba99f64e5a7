#include "default_model.hpp"

#include <cstdlib>
#include <stdexcept>

namespace darkroom::cli {

std::filesystem::path default_model() {
  const char* chosen = std::getenv("DARKROOM_MODEL");
  const std::filesystem::path model = chosen && *chosen ? chosen : DARKROOM_EMBEDDED_MODEL;
  if (!std::filesystem::exists(model))
    throw std::invalid_argument("no --model given, and the default model " + model.string() +
                                " does not exist" + (chosen && *chosen ? " ($DARKROOM_MODEL)" : ""));
  return model;
}

}  // namespace darkroom::cli
