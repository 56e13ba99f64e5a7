#pragma once
#include <CLI/CLI.hpp>

namespace darkroom::cli {

// Registers `darkroom serve`: the HTTP/WebSocket server (docs/server.md).
void add_serve_command(CLI::App& app);

}  // namespace darkroom::cli
