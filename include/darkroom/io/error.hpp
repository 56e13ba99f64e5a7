#pragma once
// Errors raised while reading model files. Every message names the file and what is wrong with it,
// so a user with a corrupt download knows which file to replace.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace darkroom::io {

class ModelFileError : public std::runtime_error {
 public:
  ModelFileError(const std::filesystem::path& file, const std::string& problem)
      : std::runtime_error(file.string() + ": " + problem), file_(file), problem_(problem) {}
  const std::filesystem::path& file() const noexcept { return file_; }
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::filesystem::path file_;
  std::string problem_;
};

}  // namespace darkroom::io
