#include "darkroom/scenes/render.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace darkroom::scenes {
namespace {

constexpr int samples_per_side = 4;
constexpr double sqrt3 = 1.7320508075688772;

struct Colourf {
  float r, g, b;
};

Colourf to_float(Rgb c) { return {float(c.r), float(c.g), float(c.b)}; }

// Is the point (dx, dy), in radii from the centre with y down, inside the shape?
bool inside(Shape shape, double dx, double dy) {
  switch (shape) {
    case Shape::circle: return dx * dx + dy * dy <= 1.0;
    case Shape::square: return std::abs(dx) <= square_half_side && std::abs(dy) <= square_half_side;
    case Shape::diamond: return std::abs(dx) + std::abs(dy) <= diamond_half_diagonal;
    case Shape::triangle:  // pointing up; the centroid sits on the centre, so the measured centroid does too
      return dy <= triangle_circumradius / 2 && sqrt3 * std::abs(dx) - dy <= triangle_circumradius;
  }
  return false;
}

void fill_background(const Background& background, int width, int height, std::vector<Colourf>& canvas) {
  const Colourf from = to_float(rgb(background.colour)), to = to_float(rgb(background.to));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      float t = 0;
      if (background.kind == BackgroundKind::vertical_gradient) t = (y + 0.5f) / height;
      if (background.kind == BackgroundKind::horizontal_gradient) t = (x + 0.5f) / width;
      canvas[static_cast<size_t>(y) * width + x] = {from.r + (to.r - from.r) * t, from.g + (to.g - from.g) * t,
                                                    from.b + (to.b - from.b) * t};
    }
  }
}

// Only the pixels under the object's circumscribed circle are sampled: a few hundred at 64x64.
void draw(const SceneObject& object, int width, int height, std::vector<Colourf>& canvas) {
  const double radius = object.radius * std::min(width, height);
  const double cx = object.x * width, cy = object.y * height;
  const double extent = reach(object.shape) * radius;
  const int x0 = std::max(0, static_cast<int>(std::floor(cx - extent)));
  const int x1 = std::min(width - 1, static_cast<int>(std::ceil(cx + extent)));
  const int y0 = std::max(0, static_cast<int>(std::floor(cy - extent)));
  const int y1 = std::min(height - 1, static_cast<int>(std::ceil(cy + extent)));
  const Colourf colour = to_float(rgb(object.colour));
  constexpr float total = samples_per_side * samples_per_side;
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      int hits = 0;
      for (int sy = 0; sy < samples_per_side; ++sy) {
        const double dy = (y + (sy + 0.5) / samples_per_side - cy) / radius;
        for (int sx = 0; sx < samples_per_side; ++sx)
          hits += inside(object.shape, (x + (sx + 0.5) / samples_per_side - cx) / radius, dy);
      }
      if (hits == 0) continue;
      const float coverage = hits / total;
      Colourf& pixel = canvas[static_cast<size_t>(y) * width + x];
      pixel = {pixel.r + (colour.r - pixel.r) * coverage, pixel.g + (colour.g - pixel.g) * coverage,
               pixel.b + (colour.b - pixel.b) * coverage};
    }
  }
}

uint8_t to_byte(float value) { return static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L)); }

}  // namespace

image::Image render(const Scene& scene, int width, int height) {
  constexpr int max_side = 4096;
  if (width < 1 || height < 1 || width > max_side || height > max_side)
    throw std::invalid_argument("render: image size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is outside 1x1 to 4096x4096");
  std::vector<Colourf> canvas(static_cast<size_t>(width) * height);
  fill_background(scene.background, width, height, canvas);
  for (const SceneObject& object : scene.objects) draw(object, width, height, canvas);
  image::Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.pixels.resize(canvas.size() * 3);
  for (size_t i = 0; i < canvas.size(); ++i) {
    image.pixels[3 * i] = to_byte(canvas[i].r);
    image.pixels[3 * i + 1] = to_byte(canvas[i].g);
    image.pixels[3 * i + 2] = to_byte(canvas[i].b);
  }
  return image;
}

}  // namespace darkroom::scenes
