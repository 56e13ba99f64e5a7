#pragma once
// Draws a scene as an RGB8 image, anti-aliased.
#include "darkroom/image/image.hpp"
#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes {

// Any size from 1x1 to 4096x4096 (std::invalid_argument otherwise). Positions scale with the width and height,
// radii with the shorter side. Edges blend by coverage (4x4 samples a pixel); colours blend in sRGB values,
// so a gradient's pixels lie on the straight line between its two colours.
image::Image render(const Scene& scene, int width, int height);

}  // namespace darkroom::scenes
