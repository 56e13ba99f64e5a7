#include "server_state.hpp"

#include "darkroom/server/request_error.hpp"

namespace darkroom::server {
namespace {

std::string available(const ModelRegistry& models) {
  std::string names;
  for (const auto& model : models.list()) names += (names.empty() ? "" : ", ") + model.id;
  return names.empty() ? "none (the models directories hold no models)" : names;
}

// The engine loads models by id through the registry: a request can never name a path, and no error
// shows one (see model_file_message).
engine::EngineOptions with_registry_loader(engine::EngineOptions options, const ModelRegistry& models) {
  options.loader = [&models, load = options.load](const std::string& id) {
    const auto path = models.path_of(id);
    if (!path) throw std::runtime_error("no model with id '" + id + "' under the models directories");
    try {
      return std::shared_ptr<const pipeline::StableDiffusion>(pipeline::StableDiffusion::load(*path, load));
    } catch (const io::ModelFileError& e) {
      throw std::runtime_error(model_file_message(e, *path));
    }
  };
  return options;
}

std::string default_model(const ServerOptions& options, const ModelRegistry& models) {
  if (!options.default_model.empty()) return options.default_model;
  const auto list = models.list();
  return list.size() == 1 ? list.front().id : std::string();
}

}  // namespace

std::string model_file_message(const io::ModelFileError& error, const std::filesystem::path& model) {
  auto file = error.file().lexically_relative(model.parent_path());
  if (file.empty() || *file.begin() == "..") file = error.file().filename();
  return file.generic_string() + ": " + error.problem();
}

ServerState::ServerState(const ServerOptions& opts, boost::asio::any_io_executor exec)
    : options(opts),
      site{is_loopback_host(options.host), options.cors_origin},
      executor(std::move(exec)),
      models(options.models_dirs),
      defaults{default_model(options, models), options.engine.limits},
      engine(with_registry_loader(options.engine, models)),
      watchers(executor, options.disconnect_grace) {}

std::string ServerState::resolve_model(const std::string& id) const {
  if (id.empty())
    throw field_error("model", "no model given and the server has no default model; available: " + available(models));
  if (!models.path_of(id)) throw field_error("model", "unknown model '" + id + "'; available: " + available(models));
  return id;
}

ModelDescription ServerState::describe_model(const std::string& id) const {
  try {
    return models.describe(id);
  } catch (const io::ModelFileError& e) {
    throw field_error("model", "model '" + id + "' cannot be read: " + model_file_message(e, *models.path_of(id)));
  } catch (const std::exception& e) {
    throw field_error("model", "model '" + id + "' cannot be read: " + e.what());
  }
}

void ServerState::validate(engine::JobRequest& job) const {
  job.model = resolve_model(job.model);
  const auto model = describe_model(job.model);
  pipeline::use_model_defaults(job.generation, model.defaults);
  validate_job(job, options.engine.limits, model.latent_scale);
  check_timeout(job);
  const int clip_skip = job.generation.clip_skip;
  if (clip_skip > model.max_clip_skip)
    throw field_error("clip_skip", "must be between 1 and " + std::to_string(model.max_clip_skip) + " for model '" +
                                       job.model + "' (its text encoder's layers), got " + std::to_string(clip_skip));
}

void ServerState::check_timeout(const engine::JobRequest& job) const {
  if (const auto limit = options.engine.job_timeout; limit.count() > 0 && job.timeout > limit)
    throw field_error("timeout_s", "must be at most " + nlohmann::json(limit.count() / 1000.0).dump() +
                                       " (the server's --job-timeout), got " + nlohmann::json(job.timeout.count() / 1000.0).dump());
}

std::shared_ptr<void> ServerState::on_stop(std::function<void()> hook) {
  const auto id = next_hook_++;
  stop_hooks_.emplace(id, std::move(hook));
  return std::shared_ptr<void>(nullptr, [this, id](void*) { stop_hooks_.erase(id); });
}

void ServerState::run_stop_hooks() {
  const auto hooks = stop_hooks_;  // a hook may end its session and so remove itself
  for (const auto& [id, hook] : hooks) hook();
}

}  // namespace darkroom::server
