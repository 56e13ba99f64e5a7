#include "darkroom/scenes/scene.hpp"

#include <algorithm>
#include <cmath>

namespace darkroom::scenes {
namespace {

struct ColourEntry {
  std::string_view name;
  Rgb rgb;
};
// Indexed by Colour. Closest pairs: orange/yellow 87, purple/gray 93; objects keep at least min_contrast from
// their background, which rules those pairs out as object-on-background.
constexpr std::array<ColourEntry, all_colours.size()> colour_table{{
    {"red", {220, 40, 40}},
    {"orange", {245, 145, 30}},
    {"yellow", {240, 230, 50}},
    {"green", {40, 170, 70}},
    {"cyan", {50, 210, 220}},
    {"blue", {40, 80, 220}},
    {"purple", {140, 60, 190}},
    {"pink", {245, 140, 200}},
    {"white", {245, 245, 245}},
    {"black", {20, 20, 20}},
    {"gray", {128, 128, 128}},
}};

constexpr std::array<std::string_view, all_shapes.size()> shape_names{"circle", "square", "triangle", "diamond"};
constexpr std::array<std::string_view, all_sizes.size()> size_names{"small", "medium", "large"};
// Large objects (reach up to 1.3 radii) still fit inside one cell, a third of the side.
constexpr std::array<double, all_sizes.size()> size_radii{0.06, 0.095, 0.125};
constexpr std::array<std::string_view, all_regions.size()> region_names{
    "top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"};

}  // namespace

std::string_view name(Colour colour) { return colour_table[static_cast<size_t>(colour)].name; }
std::string_view name(Shape shape) { return shape_names[static_cast<size_t>(shape)]; }
std::string_view name(Size size) { return size_names[static_cast<size_t>(size)]; }
std::string_view name(Region region) { return region_names[static_cast<size_t>(region)]; }
Rgb rgb(Colour colour) { return colour_table[static_cast<size_t>(colour)].rgb; }

double distance(Rgb a, Rgb b) {
  const double dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return std::sqrt(dr * dr + dg * dg + db * db);
}

double distance_to_segment(Rgb colour, Rgb from, Rgb to) {
  const double d[3] = {double(to.r) - from.r, double(to.g) - from.g, double(to.b) - from.b};
  const double p[3] = {double(colour.r) - from.r, double(colour.g) - from.g, double(colour.b) - from.b};
  const double length2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  const double t = length2 > 0 ? std::clamp((p[0] * d[0] + p[1] * d[1] + p[2] * d[2]) / length2, 0.0, 1.0) : 0.0;
  double sum = 0;
  for (int c = 0; c < 3; ++c) sum += (p[c] - t * d[c]) * (p[c] - t * d[c]);
  return std::sqrt(sum);
}

Colour nearest_colour(Rgb pixel) {
  Colour best = Colour::red;
  double best_distance = 1e9;
  for (Colour colour : all_colours) {
    const double d = distance(pixel, rgb(colour));
    if (d < best_distance) best_distance = d, best = colour;
  }
  return best;
}

double radius_fraction(Size size) { return size_radii[static_cast<size_t>(size)]; }

double reach(Shape shape) {
  switch (shape) {
    case Shape::circle: return 1.0;
    case Shape::square: return square_half_side * std::sqrt(2.0);
    case Shape::triangle: return triangle_circumradius;
    case Shape::diamond: return diamond_half_diagonal;
  }
  return triangle_circumradius;
}

bool clashes(Colour object, const Background& background) {
  const Rgb to = background.kind == BackgroundKind::plain ? rgb(background.colour) : rgb(background.to);
  return distance_to_segment(rgb(object), rgb(background.colour), to) < min_contrast;
}

Region region_at(double x, double y) {
  const int col = std::clamp(static_cast<int>(x * 3), 0, 2);
  const int row = std::clamp(static_cast<int>(y * 3), 0, 2);
  return all_regions[static_cast<size_t>(row * 3 + col)];
}

Cell cell(Region region) {
  const int index = static_cast<int>(region);
  const double x0 = (index % 3) / 3.0, y0 = (index / 3) / 3.0;
  return {x0, y0, x0 + 1 / 3.0, y0 + 1 / 3.0};
}

}  // namespace darkroom::scenes
