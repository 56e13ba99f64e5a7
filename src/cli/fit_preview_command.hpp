#pragma once
#include <CLI/CLI.hpp>

namespace darkroom::cli {

// Registers `darkroom fit-preview`: fits a latent2rgb preview table for a model from its own VAE.
void add_fit_preview_command(CLI::App& app);

}  // namespace darkroom::cli
