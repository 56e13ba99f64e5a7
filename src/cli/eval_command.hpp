#pragma once
#include <CLI/CLI.hpp>

namespace darkroom::cli {

// Registers `darkroom eval`: the embedded model's quality gate. Generates held-out single-object scene
// prompts and measures on the pixels whether colour, position and count match the prompt.
void add_eval_command(CLI::App& app);

}  // namespace darkroom::cli
