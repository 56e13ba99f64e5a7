#pragma once
// Command-line options that set generation request fields the same way in every subcommand.
#include <CLI/CLI.hpp>

#include "darkroom/pipeline/request.hpp"

namespace darkroom::cli {

// --cfg / --cfg-scale. Left out, the request's cfg stays absent: the model's recommended scale applies.
CLI::Option* add_cfg_option(CLI::App* command, pipeline::GenerationRequest& request);

// --negative / --negative-prompt / -n. Left out, the request has no negative prompt (SDXL then guides away
// from zero conditioning); --negative "" encodes the empty prompt.
CLI::Option* add_negative_prompt_option(CLI::App* command, pipeline::GenerationRequest& request);

// SDXL's size conditioning: --original-size WxH, --crop-top-left X,Y, --target-size WxH.
void add_size_conditioning_options(CLI::App* command, pipeline::GenerationRequest& request);

}  // namespace darkroom::cli
