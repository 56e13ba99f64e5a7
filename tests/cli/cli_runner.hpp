#pragma once
// Running the darkroom binary as a user does, for the CLI tests.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace darkroom::cli {

struct CommandRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

inline CommandRun darkroom(const std::string& args) {
  const std::string cmd = std::string(DARKROOM_BINARY) + " " + args + " 2>&1";
  CommandRun run{-1, {}};
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe)) run.output += buf.data();
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("darkroom-cli-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace darkroom::cli
