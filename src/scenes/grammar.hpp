#pragma once
// The words of the caption grammar, shared by the writer (caption.cpp) and the reader (prompt.cpp) so the two
// cannot drift apart.
#include <array>
#include <span>
#include <string_view>

#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes::detail {

// Ways to say where an object is; the writer picks among them for variety, the first is the plainest.
inline std::span<const std::string_view> region_phrases(Region region) {
  static constexpr std::array<std::string_view, 2> top_left{"at the top left", "in the top left corner"};
  static constexpr std::array<std::string_view, 1> top{"at the top"};
  static constexpr std::array<std::string_view, 2> top_right{"at the top right", "in the top right corner"};
  static constexpr std::array<std::string_view, 2> left{"on the left", "at the left"};
  static constexpr std::array<std::string_view, 2> center{"in the center", "in the middle"};
  static constexpr std::array<std::string_view, 2> right{"on the right", "at the right"};
  static constexpr std::array<std::string_view, 2> bottom_left{"at the bottom left", "in the bottom left corner"};
  static constexpr std::array<std::string_view, 1> bottom{"at the bottom"};
  static constexpr std::array<std::string_view, 2> bottom_right{"at the bottom right", "in the bottom right corner"};
  switch (region) {
    case Region::top_left: return top_left;
    case Region::top: return top;
    case Region::top_right: return top_right;
    case Region::left: return left;
    case Region::center: return center;
    case Region::right: return right;
    case Region::bottom_left: return bottom_left;
    case Region::bottom: return bottom;
    case Region::bottom_right: return bottom_right;
  }
  return center;
}

inline constexpr std::array<std::string_view, all_shapes.size()> shape_plurals{"circles", "squares", "triangles",
                                                                                "diamonds"};
// Index = number of objects; "a"/"an" stands for one.
inline constexpr std::array<std::string_view, 4> count_words{"", "a", "two", "three"};

inline std::string_view article_before(std::string_view word) {
  return !word.empty() && std::string_view("aeiou").find(word.front()) != std::string_view::npos ? "an" : "a";
}

}  // namespace darkroom::scenes::detail
