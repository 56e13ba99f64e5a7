#pragma once
// The generation parameters as text, in the layout A1111 writes into its PNGs' "parameters" chunk, so
// that tools which read those (and people) can reproduce an image. The request should carry its model's
// defaults (use_model_defaults), so that the text says what ran. A NUL in a prompt, which no PNG text can
// hold, is written as U+FFFD.
#include <string>

#include "darkroom/pipeline/request.hpp"

namespace darkroom::pipeline {

std::string infotext(const GenerationRequest& request, int64_t seed, const std::string& model_name);

}  // namespace darkroom::pipeline
