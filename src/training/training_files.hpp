#pragma once
// The files of a training work folder, named in one place.
#include <filesystem>

namespace darkroom::training {

struct TrainingFiles {
  explicit TrainingFiles(const std::filesystem::path& work)
      : vocab_json(work / "vocab.json"),
        merges_txt(work / "merges.txt"),
        autoencoder(work / "autoencoder.pt"),
        autoencoder_loss(work / "autoencoder_loss.csv"),
        diffusion(work / "diffusion.pt"),
        diffusion_loss(work / "diffusion_loss.csv") {}

  std::filesystem::path vocab_json, merges_txt, autoencoder, autoencoder_loss, diffusion, diffusion_loss;
};

}  // namespace darkroom::training
