#pragma once
// Command-line options that set generation request fields the same way in every subcommand.
#include <CLI/CLI.hpp>

#include "darkroom/pipeline/request.hpp"

namespace darkroom::cli {

// --cfg / --cfg-scale. Left out, the request's cfg stays absent: the model's recommended scale applies.
CLI::Option* add_cfg_option(CLI::App* command, pipeline::GenerationRequest& request);

}  // namespace darkroom::cli
