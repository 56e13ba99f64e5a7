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

// The newest modification among the files io::open_model reads for a model: the checkpoint and the
// NAME.json and NAME.latent2rgb.json beside it, or every file of a diffusers folder and FOLDER.json.
fs::file_time_type files_changed(const fs::path& model) {
  auto newest = fs::file_time_type::min();
  const auto consider = [&](const fs::path& file) {
    std::error_code ec;
    const auto time = fs::last_write_time(file, ec);
    if (!ec && time > newest) newest = time;
  };
  consider(model);
  std::error_code ec;
  if (fs::is_directory(model, ec)) {
    for (const auto& entry : fs::recursive_directory_iterator(model, ec)) consider(entry.path());
    consider(fs::path(model.string() + ".json"));
  } else {
    for (const auto* extension : {".json", ".latent2rgb.json"}) consider(fs::path(model).replace_extension(extension));
  }
  return newest;
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
  const auto changed = files_changed(*path);
  {
    std::lock_guard lock(mutex_);
    if (auto it = descriptions_.find(*path); it != descriptions_.end() && it->second.files_changed == changed)
      return it->second.description;
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
  descriptions_[*path] = {changed, description};
  return description;
}

}  // namespace darkroom::server
