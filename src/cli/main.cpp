// darkroom: command-line front end. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include <iostream>

#include "eval_command.hpp"
#include "fit_preview_command.hpp"
#include "generate_command.hpp"
#include "serve_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"darkroom: text-to-image generation you can watch develop"};
  app.require_subcommand(1);
  darkroom::cli::add_generate_command(app);
  darkroom::cli::add_fit_preview_command(app);
  darkroom::cli::add_serve_command(app);
  darkroom::cli::add_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // a subcommand that already reported why it failed
    return e.get_exit_code();
  } catch (const std::exception& e) {
    std::cerr << "darkroom: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
