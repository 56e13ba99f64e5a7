#pragma once
// The vocabulary of darkroom's procedural training scenes and the Scene they describe. Scenes are plain data
// (no pixels): the generator draws them, the caption writer names them, the renderer draws them.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace darkroom::scenes {

// Palette chosen so that every pair is at least ~85 apart in RGB: a nearest-colour classifier stays reliable
// on a model's slightly-off colours.
enum class Colour : uint8_t { red, orange, yellow, green, cyan, blue, purple, pink, white, black, gray };
inline constexpr std::array all_colours{Colour::red,    Colour::orange, Colour::yellow, Colour::green,
                                        Colour::cyan,   Colour::blue,   Colour::purple, Colour::pink,
                                        Colour::white,  Colour::black,  Colour::gray};

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

enum class Shape : uint8_t { circle, square, triangle, diamond };
inline constexpr std::array all_shapes{Shape::circle, Shape::square, Shape::triangle, Shape::diamond};

enum class Size : uint8_t { small, medium, large };
inline constexpr std::array all_sizes{Size::small, Size::medium, Size::large};

// The cells of a 3x3 grid over the image, row by row from the top left.
enum class Region : uint8_t { top_left, top, top_right, left, center, right, bottom_left, bottom, bottom_right };
inline constexpr std::array all_regions{Region::top_left,    Region::top,    Region::top_right,
                                        Region::left,        Region::center, Region::right,
                                        Region::bottom_left, Region::bottom, Region::bottom_right};

std::string_view name(Colour colour);
std::string_view name(Shape shape);
std::string_view name(Size size);
std::string_view name(Region region);  // "top left", "center", ...
Rgb rgb(Colour colour);

// Euclidean distance in RGB, the measure that "far from" and "nearest" mean throughout this layer.
double distance(Rgb a, Rgb b);
// Distance from a colour to the straight RGB segment between two others (a gradient's colours).
double distance_to_segment(Rgb colour, Rgb from, Rgb to);
Colour nearest_colour(Rgb pixel);

// An object's radius as a fraction of the image's shorter side. Shapes are scaled from it to similar areas, so
// that size words mean the same for every shape.
double radius_fraction(Size size);
inline constexpr double square_half_side = 0.886;  // sqrt(pi) / 2: the circle's area
inline constexpr double diamond_half_diagonal = 1.25;
inline constexpr double triangle_circumradius = 1.3;  // about 70% of the circle's area: a triangle looks larger
// How far the shape reaches from its centre, in radii (its circumscribed circle): placement keeps this
// inside the image and apart from other objects.
double reach(Shape shape);

// The cell a point lies in; x and y are fractions of the width and height, y pointing down.
Region region_at(double x, double y);
struct Cell {
  double x0, y0, x1, y1;  // fractions of the width and height
};
Cell cell(Region region);

enum class BackgroundKind : uint8_t { plain, vertical_gradient, horizontal_gradient };

struct Background {
  BackgroundKind kind = BackgroundKind::plain;
  Colour colour = Colour::white;  // plain colour; a gradient's top (vertical) or left (horizontal) end
  Colour to = Colour::white;      // a gradient's bottom or right end; unused when plain
  bool operator==(const Background&) const = default;
};

// How far (distance_to_segment) an object's colour keeps from every colour of its background, so that the
// object stands out and its pixels are never mistaken for background.
inline constexpr double min_contrast = 100;
bool clashes(Colour object, const Background& background);

struct SceneObject {
  Shape shape = Shape::circle;
  Colour colour = Colour::red;
  Size size = Size::medium;
  Region region = Region::center;  // the cell that holds the centre
  double x = 0.5, y = 0.5;         // exact centre, fractions of the width and height
  double radius = 0.1;             // fraction of the shorter side
  bool operator==(const SceneObject&) const = default;
};

struct Scene {
  Background background;
  std::vector<SceneObject> objects;  // 1 to 3, in drawing order; they do not touch
  bool operator==(const Scene&) const = default;
};

}  // namespace darkroom::scenes
