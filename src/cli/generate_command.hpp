#pragma once
#include <CLI/CLI.hpp>

namespace darkroom::cli {

// Registers `darkroom generate` on the app; the returned callback runs it.
void add_generate_command(CLI::App& app);

}  // namespace darkroom::cli
