#pragma once
// Models by id: a model's id is its file name (without .safetensors) or folder name under one of the
// models directories. Requests name ids only, never paths; the registry turns an id into a path.
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "darkroom/io/model_source.hpp"
#include "darkroom/pipeline/request.hpp"

namespace darkroom::server {

struct ModelEntry {
  std::string id;
  std::filesystem::path path;
};

// What a model is, read from its headers and configs only (no weights loaded).
struct ModelDescription {
  io::ModelFamily family = io::ModelFamily::sd1;
  io::Prediction prediction = io::Prediction::epsilon;
  int latent_channels = 4;
  int latent_scale = 8;  // pixels per latent pixel
  int max_clip_skip = 12;  // the text encoder's layers that conditioning may read from
  pipeline::ModelDefaults defaults;  // what a request that names no size, spacing or cfg gets
  std::optional<std::filesystem::path> latent2rgb_table;  // the model's own preview table
};

class ModelRegistry {
 public:
  explicit ModelRegistry(std::vector<std::filesystem::path> dirs);

  // Every model under the directories, sorted by id; the directories are listed anew each call, so
  // models added while the server runs appear. The first directory wins when two hold the same id.
  std::vector<ModelEntry> list() const;
  std::optional<std::filesystem::path> path_of(const std::string& id) const;
  // Read once per model and kept while its files stay as they were: a checkpoint (or its config beside
  // it) replaced while the server runs is read again. Throws io::ModelFileError when the files cannot be
  // read, std::out_of_range for an unknown id.
  ModelDescription describe(const std::string& id) const;

 private:
  struct Described {
    std::filesystem::file_time_type files_changed;  // the newest modification among the model's files
    ModelDescription description;
  };
  std::vector<std::filesystem::path> dirs_;
  mutable std::mutex mutex_;
  mutable std::map<std::filesystem::path, Described> descriptions_;
};

}  // namespace darkroom::server
