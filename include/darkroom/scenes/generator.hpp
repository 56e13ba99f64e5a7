#pragma once
// Random scenes, deterministic from a seed and the same on every platform (see src/scenes/random.hpp).
#include <cstdint>
#include <random>

#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes {

// One object about 60% of the time (what the quality gate measures), two or three otherwise: identical ones
// (captioned with a count) or ones that differ in colour or shape.
Scene random_scene(std::mt19937_64& rng);
// A scene with exactly object_count (1 to 3) objects; throws std::invalid_argument otherwise.
Scene random_scene(std::mt19937_64& rng, int object_count);

// The generator that scene_for_seed, example_for_seed (caption.hpp) use. Training seeds are those below 2^63;
// evaluation_prompts draws from the upper half, so held-out prompts come from a stream training never sees.
std::mt19937_64 rng_for_seed(uint64_t seed);
Scene scene_for_seed(uint64_t seed);

}  // namespace darkroom::scenes
