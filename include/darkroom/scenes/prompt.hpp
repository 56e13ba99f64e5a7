#pragma once
// Reads back what a prompt of the caption grammar (caption.hpp) asks for, so that measure() (adherence.hpp)
// can check an image against it.
#include <optional>
#include <string_view>
#include <vector>

#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes {

// One phrase of the prompt: "two small yellow squares", "a red circle at the top left".
struct ObjectSpec {
  int count = 1;
  Colour colour = Colour::red;
  Shape shape = Shape::circle;
  std::optional<Size> size;
  std::optional<Region> region;  // only ever named for a single object
  bool operator==(const ObjectSpec&) const = default;
};

struct BackgroundSpec {
  Colour colour = Colour::white;
  std::optional<Colour> to;  // set for "on a blue to white gradient"
  bool operator==(const BackgroundSpec&) const = default;
};

struct PromptSpec {
  std::vector<ObjectSpec> objects;  // in prompt order, at least one
  std::optional<BackgroundSpec> background;
  int total_count() const;
  bool operator==(const PromptSpec&) const = default;
};

// nullopt for text outside the grammar. ASCII case and runs of spaces are forgiven, and "grey" reads as gray;
// nothing else is.
std::optional<PromptSpec> parse_prompt(std::string_view prompt);

}  // namespace darkroom::scenes
