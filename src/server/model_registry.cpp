#include "model_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace darkroom::server {
namespace fs = std::filesystem;
namespace {

// A checkpoint file or a diffusers folder; anything else in a models directory is not a model.
std::optional<std::string> model_id(const fs::directory_entry& entry) {
  std::error_code ec;
  const auto& path = entry.path();
  if (path.filename().string().starts_with('.')) return std::nullopt;
  if (entry.is_regular_file(ec) && path.extension() == ".safetensors") return path.stem().string();
  if (entry.is_directory(ec) && fs::exists(path / "model_index.json", ec)) return path.filename().string();
  return std::nullopt;
}

}  // namespace

ModelRegistry::ModelRegistry(std::vector<fs::path> dirs) : dirs_(std::move(dirs)) {}

std::vector<ModelEntry> ModelRegistry::list() const {
  std::map<std::string, fs::path> found;
  for (const auto& dir : dirs_) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (auto id = model_id(entry)) found.emplace(*id, entry.path());  // emplace: the first directory wins
  }
  std::vector<ModelEntry> models;
  for (auto& [id, path] : found) models.push_back({id, path});
  return models;
}

std::optional<fs::path> ModelRegistry::path_of(const std::string& id) const {
  for (auto& model : list())
    if (model.id == id) return model.path;
  return std::nullopt;
}

ModelDescription ModelRegistry::describe(const std::string& id) const {
  const auto path = path_of(id);
  if (!path) throw std::out_of_range("unknown model '" + id + "'");
  {
    std::lock_guard lock(mutex_);
    if (auto it = descriptions_.find(*path); it != descriptions_.end()) return it->second;
  }
  const auto source = io::open_model(*path);
  ModelDescription description;
  description.family = source.family;
  description.prediction = source.unet_config.prediction;
  description.latent_channels = static_cast<int>(source.vae_config.latent_channels);
  description.latent_scale = 1 << std::max<int>(0, static_cast<int>(source.vae_config.block_out_channels.size()) - 1);
  description.max_clip_skip = pipeline::max_clip_skip(source);
  description.defaults = pipeline::model_defaults(source);
  description.latent2rgb_table = source.latent2rgb_table;
  std::lock_guard lock(mutex_);
  return descriptions_.emplace(*path, description).first->second;
}

}  // namespace darkroom::server
