#include "darkroom/scenes/caption.hpp"

#include <algorithm>
#include <stdexcept>

#include "darkroom/scenes/generator.hpp"
#include "grammar.hpp"
#include "random.hpp"

namespace darkroom::scenes {
namespace {

// How often each optional part is named. Positions are named often: they are the hardest part of a
// prompt for a model to learn, and the quality gate asks for them.
struct Odds {
  double size, position, background;
};
constexpr Odds single_object_odds{0.7, 0.9, 0.6};
constexpr Odds several_objects_odds{0.5, 0.7, 0.5};
constexpr Odds evaluation_odds{0.5, 1.0, 0.5};

// Objects that look the same (colour and shape; the generator gives such twins one size), in scene order.
struct Group {
  const SceneObject* first;
  int count;
  bool same_size;
};

std::vector<Group> group(const Scene& scene) {
  std::vector<Group> groups;
  for (const SceneObject& object : scene.objects) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.first->colour == object.colour && g.first->shape == object.shape;
    });
    if (it == groups.end()) {
      groups.push_back({&object, 1, true});
    } else {
      ++it->count;
      it->same_size = it->same_size && it->first->size == object.size;
    }
  }
  return groups;
}

std::string describe(const Group& group, const Odds& odds, std::mt19937_64& rng) {
  const SceneObject& object = *group.first;
  std::string words;
  if (group.same_size && detail::chance(rng, odds.size)) words += std::string(name(object.size)) + " ";
  words += std::string(name(object.colour)) + " ";
  if (group.count == 1) {
    words = std::string(detail::article_before(words)) + " " + words + std::string(name(object.shape));
    if (detail::chance(rng, odds.position))
      words += " " + std::string(detail::pick(rng, detail::region_phrases(object.region)));
    return words;
  }
  return std::string(detail::count_words[static_cast<size_t>(group.count)]) + " " + words +
         std::string(detail::shape_plurals[static_cast<size_t>(object.shape)]);
}

std::string describe(const Background& background) {
  const std::string first(name(background.colour));
  if (background.kind == BackgroundKind::plain)
    return "on " + std::string(detail::article_before(first)) + " " + first + " background";
  return "on " + std::string(detail::article_before(first)) + " " + first + " to " + std::string(name(background.to)) +
         " gradient";
}

std::string caption_with(const Scene& scene, const Odds& odds, std::mt19937_64& rng) {
  if (scene.objects.empty()) throw std::invalid_argument("caption: the scene has no objects");
  const auto groups = group(scene);
  std::string text;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i > 0) text += i + 1 == groups.size() ? " and " : ", ";
    text += describe(groups[i], odds, rng);
  }
  if (detail::chance(rng, odds.background)) text += " " + describe(scene.background);
  return text;
}

}  // namespace

std::string caption(const Scene& scene, std::mt19937_64& rng) {
  return caption_with(scene, scene.objects.size() == 1 ? single_object_odds : several_objects_odds, rng);
}

Example example_for_seed(uint64_t seed) {
  auto rng = rng_for_seed(seed);
  Example example;
  example.scene = random_scene(rng);
  example.caption = caption(example.scene, rng);
  return example;
}

std::vector<Example> evaluation_examples(int n, uint64_t seed) {
  if (n < 0) throw std::invalid_argument("evaluation_examples: negative count " + std::to_string(n));
  auto rng = rng_for_seed(seed | (uint64_t{1} << 63));
  std::vector<Example> examples;
  for (int i = 0; i < n; ++i) {
    Example example;
    example.scene = random_scene(rng, 1);
    example.caption = caption_with(example.scene, evaluation_odds, rng);
    examples.push_back(std::move(example));
  }
  return examples;
}

}  // namespace darkroom::scenes
