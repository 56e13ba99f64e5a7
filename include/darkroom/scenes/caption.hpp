#pragma once
// Captions for scenes, from a small grammar that parse_prompt (prompt.hpp) reads back:
//   "a large red circle at the top left on a blue background", "two small yellow squares",
//   "a green triangle in the middle", "a blue square and a white circle on a black to gray gradient".
// Colour and shape are always named; size, position and background only sometimes, so short prompts work too.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes {

// Lower case, no trailing period. Identical objects are counted ("two red circles"); a counted group never
// names a position.
std::string caption(const Scene& scene, std::mt19937_64& rng);

// What the trainer draws: a scene and its caption from one seed (below 2^63, see rng_for_seed).
struct Example {
  Scene scene;
  std::string caption;
};
Example example_for_seed(uint64_t seed);

// Held-out single-object scenes whose captions always name colour, shape and position (sometimes size and
// background), drawn from the seed half that training does not use. The first k of n are the same for any
// n >= k. The captions are the evaluation's prompts; the scenes are what an autoencoder is measured on.
std::vector<Example> evaluation_examples(int n, uint64_t seed);

}  // namespace darkroom::scenes
