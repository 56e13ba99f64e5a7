#include "darkroom/scenes/generator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "random.hpp"

namespace darkroom::scenes {
namespace {

using detail::between;
using detail::chance;
using detail::pick;

// Centres stay this far inside their cell, so a measured centroid falls in the named region.
constexpr double cell_margin = 0.025;
// Shapes stay this far from the image border: the border is pure background, which measure() relies on.
constexpr double border_margin = 0.02;
// Gap between the circumscribed circles of two objects: a few pixels at 64x64, so they never touch.
constexpr double object_gap = 0.05;
// The two ends of a gradient differ at least this much, so it reads as a gradient.
constexpr double min_gradient_contrast = 100;

struct Look {
  Shape shape;
  Colour colour;
  Size size;
  bool operator==(const Look&) const = default;
};

Background random_background(std::mt19937_64& rng) {
  Background background;
  const double kind = detail::unit(rng);
  background.kind = kind < 0.6    ? BackgroundKind::plain
                    : kind < 0.85 ? BackgroundKind::vertical_gradient
                                  : BackgroundKind::horizontal_gradient;
  background.colour = pick(rng, all_colours);
  if (background.kind == BackgroundKind::plain) {
    background.to = background.colour;
    return background;
  }
  do {
    background.to = pick(rng, all_colours);
  } while (distance(rgb(background.colour), rgb(background.to)) < min_gradient_contrast);
  return background;
}

std::vector<Colour> colours_that_stand_out(const Background& background) {
  std::vector<Colour> colours;
  for (Colour colour : all_colours)
    if (!clashes(colour, background)) colours.push_back(colour);
  return colours;
}

Look random_look(std::mt19937_64& rng, const std::vector<Colour>& colours) {
  return {pick(rng, all_shapes), pick(rng, colours), pick(rng, all_sizes)};
}

// A look that differs from every one in `taken` in colour or shape, so that each caption phrase names one object.
Look distinct_look(std::mt19937_64& rng, const std::vector<Colour>& colours, const std::vector<Look>& taken) {
  for (;;) {
    const Look look = random_look(rng, colours);
    const bool seen = std::any_of(taken.begin(), taken.end(), [&](const Look& other) {
      return other.shape == look.shape && other.colour == look.colour;
    });
    if (!seen) return look;
  }
}

std::vector<Look> random_looks(std::mt19937_64& rng, const std::vector<Colour>& colours, int count) {
  std::vector<Look> looks{random_look(rng, colours)};
  if (count == 1) return looks;
  const double style = detail::unit(rng);
  if (style < 0.4) return std::vector<Look>(static_cast<size_t>(count), looks[0]);  // "two small yellow squares"
  if (count == 3 && style < 0.6) {                                                 // "two red circles and a blue square"
    looks.push_back(looks[0]);
    looks.push_back(distinct_look(rng, colours, looks));
    return looks;
  }
  while (static_cast<int>(looks.size()) < count) looks.push_back(distinct_look(rng, colours, looks));
  return looks;
}

// A centre for the object inside its cell (with cell_margin) and inside the image (with border_margin), or
// false where the cell is too small for it.
bool place_in_cell(std::mt19937_64& rng, SceneObject& object) {
  const Cell box = cell(object.region);
  const double extent = reach(object.shape) * object.radius + border_margin;
  const double x0 = std::max(box.x0 + cell_margin, extent), x1 = std::min(box.x1 - cell_margin, 1 - extent);
  const double y0 = std::max(box.y0 + cell_margin, extent), y1 = std::min(box.y1 - cell_margin, 1 - extent);
  if (x0 > x1 || y0 > y1) return false;
  object.x = between(rng, x0, x1);
  object.y = between(rng, y0, y1);
  return true;
}

bool apart(const SceneObject& a, const SceneObject& b) {
  const double needed = reach(a.shape) * a.radius + reach(b.shape) * b.radius + object_gap;
  return std::hypot(a.x - b.x, a.y - b.y) >= needed;
}

// Each object in its own cell, jittered; redrawn until no two come close.
std::vector<SceneObject> place(std::mt19937_64& rng, const std::vector<Look>& looks) {
  std::vector<Region> regions(all_regions.begin(), all_regions.end());
  for (;;) {
    detail::shuffle(rng, regions);
    std::vector<SceneObject> objects;
    for (size_t i = 0; i < looks.size(); ++i) {
      SceneObject object;
      object.shape = looks[i].shape;
      object.colour = looks[i].colour;
      object.size = looks[i].size;
      object.region = regions[i];
      object.radius = radius_fraction(object.size);
      if (!place_in_cell(rng, object)) break;
      const bool clear = std::all_of(objects.begin(), objects.end(), [&](const SceneObject& other) { return apart(object, other); });
      if (!clear) break;
      objects.push_back(object);
    }
    if (objects.size() == looks.size()) return objects;
  }
}

}  // namespace

Scene random_scene(std::mt19937_64& rng, int object_count) {
  if (object_count < 1 || object_count > 3)
    throw std::invalid_argument("scenes hold 1 to 3 objects, not " + std::to_string(object_count));
  Scene scene;
  std::vector<Colour> colours;
  do {  // a few gradients leave too few colours to tell objects apart
    scene.background = random_background(rng);
    colours = colours_that_stand_out(scene.background);
  } while (colours.size() < 3);
  scene.objects = place(rng, random_looks(rng, colours, object_count));
  return scene;
}

Scene random_scene(std::mt19937_64& rng) {
  const double u = detail::unit(rng);
  return random_scene(rng, u < 0.6 ? 1 : u < 0.85 ? 2 : 3);
}

std::mt19937_64 rng_for_seed(uint64_t seed) { return std::mt19937_64(detail::mix(seed)); }

Scene scene_for_seed(uint64_t seed) {
  auto rng = rng_for_seed(seed);
  return random_scene(rng);
}

}  // namespace darkroom::scenes
