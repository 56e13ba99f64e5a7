#pragma once
// Prompt adherence measured on pixels: does the image show what the prompt asks for? This is the embedded
// model's quality gate, so it must be right on ground truth: measure(render(scene), parse_prompt(caption))
// passes for over 99% of single-object scenes (tests/scenes/scenes_test.cpp).
#include <optional>
#include <string>
#include <vector>

#include "darkroom/image/image.hpp"
#include "darkroom/scenes/prompt.hpp"
#include "darkroom/scenes/scene.hpp"

namespace darkroom::scenes {

// A blob of non-background pixels.
struct MeasuredObject {
  Colour colour = Colour::red;  // the palette colour most of its inner pixels are nearest to
  double x = 0, y = 0;          // centroid, fractions of the width and height
  int area = 0;                 // pixels
};

struct Adherence {
  // colour_ok: with one colour asked for, the dominant colour of all object pixels is that colour; with
  //   several, the largest objects (as many as asked for) have exactly the asked-for colours.
  // position_ok: the largest object's centroid lies in the named region (one object asked for); each
  //   placed object has an object of its colour in its region (several). True when no position is named.
  // count_ok: as many objects as asked for.
  bool colour_ok = false, position_ok = false, count_ok = false;
  bool all_ok() const { return colour_ok && position_ok && count_ok; }

  std::optional<Colour> dominant_colour;  // over all objects; nullopt when none was found
  std::optional<Region> region;           // of the largest object's centroid
  int count = 0;
  std::vector<MeasuredObject> objects;  // largest first
};

// The image is RGB or RGBA (alpha ignored); throws std::invalid_argument for anything else. The background is
// fitted to the border pixels as a plane per channel (plain colours and linear gradients alike), robust to
// objects that reach the border; object pixels are those whose difference from it, averaged over 3x3 (which
// cancels noise), is large; objects are 8-connected blobs of at least 0.2% of the image; each votes on its
// colour with its purest pixels, never its edges (blends).
Adherence measure(const image::Image& image, const PromptSpec& prompt);

// Percentages over many measurements, for reports: "colour 98.0%, position 97.5%, count 99.0%, all 95.5% of 200".
struct AdherenceTally {
  int measured = 0, colour = 0, position = 0, count = 0, all = 0;
  void add(const Adherence& adherence);
  static double percent(int hits, int of) { return of > 0 ? 100.0 * hits / of : 0.0; }
  std::string summary() const;
};

}  // namespace darkroom::scenes
