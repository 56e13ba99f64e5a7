#include "darkroom/scenes/adherence.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace darkroom::scenes {
namespace {

// A pixel whose mean difference (RGB distance) from the fitted background is this large is part of an object.
// Objects keep min_contrast from their background, so the threshold takes edge pixels from about half coverage.
constexpr double object_threshold = 0.45 * min_contrast;
// Border residuals below this always count as background when fitting: gradients quantise, models add noise.
constexpr double background_tolerance = 16;
constexpr double min_area_fraction = 0.002;

struct Pixels {
  const image::Image& image;
  double at(int x, int y, int c) const {
    return image.pixels[(static_cast<size_t>(y) * image.width + x) * image.channels + c];
  }
};

// colour(x, y) = a + bx * u + by * v per channel, u and v the pixel centre in fractions of the width/height.
struct Plane {
  std::array<double, 3> a{}, bx{}, by{};
  double at(int c, double u, double v) const { return a[c] + bx[c] * u + by[c] * v; }
  double residual(const Pixels& pixels, int x, int y) const {
    const double u = (x + 0.5) / pixels.image.width, v = (y + 0.5) / pixels.image.height;
    double sum = 0;
    for (int c = 0; c < 3; ++c) {
      const double d = pixels.at(x, y, c) - at(c, u, v);
      sum += d * d;
    }
    return std::sqrt(sum);
  }
};

struct Point {
  int x, y;
};

// Least squares; a small ridge keeps the slopes defined for 1-pixel-wide or -tall images.
Plane fit(const Pixels& pixels, const std::vector<Point>& points) {
  double m[3][3] = {}, rhs[3][3] = {};  // normal matrix; rhs[channel][row]
  for (const Point& p : points) {
    const double basis[3] = {1.0, (p.x + 0.5) / pixels.image.width, (p.y + 0.5) / pixels.image.height};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) m[i][j] += basis[i] * basis[j];
      for (int c = 0; c < 3; ++c) rhs[c][i] += basis[i] * pixels.at(p.x, p.y, c);
    }
  }
  m[1][1] += 1e-6;
  m[2][2] += 1e-6;
  // Cramer's rule on the 3x3 system, once per channel.
  auto det = [](const double k[3][3]) {
    return k[0][0] * (k[1][1] * k[2][2] - k[1][2] * k[2][1]) - k[0][1] * (k[1][0] * k[2][2] - k[1][2] * k[2][0]) +
           k[0][2] * (k[1][0] * k[2][1] - k[1][1] * k[2][0]);
  };
  const double d = det(m);
  Plane plane;
  for (int c = 0; c < 3; ++c) {
    std::array<double, 3> solution{};
    for (int col = 0; col < 3; ++col) {
      double k[3][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) k[i][j] = j == col ? rhs[c][i] : m[i][j];
      solution[col] = det(k) / d;
    }
    plane.a[c] = solution[0], plane.bx[c] = solution[1], plane.by[c] = solution[2];
  }
  return plane;
}

// Fits the border, drops the pixels that fit worst (objects touching the border), and fits again.
Plane fit_background(const Pixels& pixels) {
  const int w = pixels.image.width, h = pixels.image.height;
  std::vector<Point> border;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x == 0 || y == 0 || x == w - 1 || y == h - 1) border.push_back({x, y});
  Plane plane = fit(pixels, border);
  for (int round = 0; round < 3; ++round) {
    std::vector<double> residuals;
    for (const Point& p : border) residuals.push_back(plane.residual(pixels, p.x, p.y));
    std::vector<double> sorted = residuals;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double cutoff = std::max(background_tolerance, 3 * sorted[sorted.size() / 2]);
    std::vector<Point> inliers;
    for (size_t i = 0; i < border.size(); ++i)
      if (residuals[i] <= cutoff) inliers.push_back(border[i]);
    if (inliers.size() < 3 || inliers.size() == border.size()) break;
    plane = fit(pixels, inliers);
  }
  return plane;
}

// Pixels whose difference from the background, averaged over their 3x3 neighbourhood, is large. Averaging the
// difference vectors (not their lengths) cancels pixel noise, which a model's images have and renders do not.
std::vector<uint8_t> object_mask(const Pixels& pixels, const Plane& background) {
  const int w = pixels.image.width, h = pixels.image.height;
  std::vector<std::array<float, 3>> difference(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    const double v = (y + 0.5) / h;
    for (int x = 0; x < w; ++x) {
      const double u = (x + 0.5) / w;
      for (int c = 0; c < 3; ++c)
        difference[static_cast<size_t>(y) * w + x][c] =
            static_cast<float>(pixels.at(x, y, c) - background.at(c, u, v));
    }
  }
  // Box sums, rows then columns; a neighbourhood clipped by the image edge averages what it has.
  auto box = [](const auto& in, int length, int stride, int lines, int line_stride, auto& out) {
    for (int line = 0; line < lines; ++line) {
      for (int i = 0; i < length; ++i) {
        std::array<float, 3> sum{};
        for (int j = std::max(0, i - 1); j <= std::min(length - 1, i + 1); ++j)
          for (int c = 0; c < 3; ++c) sum[c] += in[static_cast<size_t>(line) * line_stride + j * stride][c];
        out[static_cast<size_t>(line) * line_stride + i * stride] = sum;
      }
    }
  };
  std::vector<std::array<float, 3>> rows(difference.size()), sums(difference.size());
  box(difference, w, 1, h, w, rows);
  box(rows, h, w, w, 1, sums);
  auto span = [](int i, int length) { return std::min(length - 1, i + 1) - std::max(0, i - 1) + 1; };
  std::vector<uint8_t> mask(difference.size());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const auto& sum = sums[static_cast<size_t>(y) * w + x];
      const float mean = std::sqrt(sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]) / (span(x, w) * span(y, h));
      mask[static_cast<size_t>(y) * w + x] = mean > object_threshold;
    }
  }
  return mask;
}

struct Blob {
  std::vector<Point> points;
};

// 8-connected blobs of the mask, at least min_area pixels each, largest first.
std::vector<Blob> find_blobs(const std::vector<uint8_t>& mask, int w, int h, int min_area) {
  std::vector<uint8_t> seen(mask.size(), 0);
  std::vector<Blob> blobs;
  for (int start = 0; start < w * h; ++start) {
    if (!mask[start] || seen[start]) continue;
    Blob blob;
    std::vector<int> stack{start};
    seen[start] = 1;
    while (!stack.empty()) {
      const int index = stack.back();
      stack.pop_back();
      const int x = index % w, y = index / w;
      blob.points.push_back({x, y});
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const int next = ny * w + nx;
          if (mask[next] && !seen[next]) seen[next] = 1, stack.push_back(next);
        }
      }
    }
    if (static_cast<int>(blob.points.size()) >= min_area) blobs.push_back(std::move(blob));
  }
  std::stable_sort(blobs.begin(), blobs.end(), [](const Blob& a, const Blob& b) { return a.points.size() > b.points.size(); });
  return blobs;
}

using Votes = std::array<int, all_colours.size()>;

Colour most_voted(const Votes& votes) {
  return all_colours[static_cast<size_t>(std::max_element(votes.begin(), votes.end()) - votes.begin())];
}

// Colour votes from the blob's inner pixels (all four neighbours in the mask; thin blobs use all), and of
// those the half farthest from the background: edge pixels blend object and background and would vote for a
// third colour (red on blue edges look purple), and a blurry image blends more than its outermost ring.
Votes vote(const Pixels& pixels, const Plane& background, const std::vector<uint8_t>& mask, const Blob& blob) {
  const int w = pixels.image.width, h = pixels.image.height;
  auto in_mask = [&](int x, int y) { return x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x]; };
  std::vector<std::pair<double, Point>> voters;
  for (const Point& p : blob.points)
    if (in_mask(p.x - 1, p.y) && in_mask(p.x + 1, p.y) && in_mask(p.x, p.y - 1) && in_mask(p.x, p.y + 1))
      voters.emplace_back(background.residual(pixels, p.x, p.y), p);
  if (voters.size() < 3) {
    voters.clear();
    for (const Point& p : blob.points) voters.emplace_back(background.residual(pixels, p.x, p.y), p);
  }
  const auto half = voters.begin() + static_cast<std::ptrdiff_t>((voters.size() + 1) / 2);
  std::nth_element(voters.begin(), half - 1, voters.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  Votes votes{};
  for (auto it = voters.begin(); it != half; ++it) {
    const Point& p = it->second;
    const Rgb colour{static_cast<uint8_t>(pixels.at(p.x, p.y, 0)), static_cast<uint8_t>(pixels.at(p.x, p.y, 1)),
                     static_cast<uint8_t>(pixels.at(p.x, p.y, 2))};
    ++votes[static_cast<size_t>(nearest_colour(colour))];
  }
  return votes;
}

bool colours_match(const PromptSpec& prompt, const Adherence& adherence) {
  std::set<Colour> asked;
  for (const ObjectSpec& object : prompt.objects) asked.insert(object.colour);
  if (!adherence.dominant_colour) return false;
  if (asked.size() == 1) return *adherence.dominant_colour == *asked.begin();
  std::set<Colour> seen;
  const size_t largest = std::min(adherence.objects.size(), static_cast<size_t>(prompt.total_count()));
  for (size_t i = 0; i < largest; ++i) seen.insert(adherence.objects[i].colour);
  return seen == asked;
}

bool positions_match(const PromptSpec& prompt, const Adherence& adherence) {
  if (prompt.objects.size() == 1 && prompt.objects[0].count == 1) {
    return !prompt.objects[0].region || adherence.region == prompt.objects[0].region;
  }
  return std::all_of(prompt.objects.begin(), prompt.objects.end(), [&](const ObjectSpec& asked) {
    return !asked.region || std::any_of(adherence.objects.begin(), adherence.objects.end(), [&](const MeasuredObject& o) {
             return o.colour == asked.colour && region_at(o.x, o.y) == *asked.region;
           });
  });
}

}  // namespace

Adherence measure(const image::Image& image, const PromptSpec& prompt) {
  if (image.width < 1 || image.height < 1 || (image.channels != 3 && image.channels != 4) ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
    throw std::invalid_argument("measure: expected a non-empty RGB or RGBA image with matching pixel data");
  if (prompt.objects.empty()) throw std::invalid_argument("measure: the prompt asks for no object");
  const Pixels pixels{image};
  const int w = image.width, h = image.height;
  const Plane background = fit_background(pixels);
  const auto mask = object_mask(pixels, background);

  const int min_area = std::max(4, static_cast<int>(std::lround(min_area_fraction * w * h)));
  auto blobs = find_blobs(mask, w, h, min_area);
  Adherence adherence;
  Votes all_votes{};
  for (Blob& blob : blobs) {
    const Votes votes = vote(pixels, background, mask, blob);
    for (size_t i = 0; i < votes.size(); ++i) all_votes[i] += votes[i];
    double sx = 0, sy = 0;
    for (const Point& p : blob.points) sx += p.x + 0.5, sy += p.y + 0.5;
    const double n = static_cast<double>(blob.points.size());
    adherence.objects.push_back({most_voted(votes), sx / n / w, sy / n / h, static_cast<int>(blob.points.size())});
  }
  adherence.count = static_cast<int>(adherence.objects.size());
  if (!adherence.objects.empty()) {
    adherence.dominant_colour = most_voted(all_votes);
    adherence.region = region_at(adherence.objects[0].x, adherence.objects[0].y);
  }
  adherence.colour_ok = colours_match(prompt, adherence);
  adherence.position_ok = positions_match(prompt, adherence);
  adherence.count_ok = adherence.count == prompt.total_count();
  return adherence;
}

void AdherenceTally::add(const Adherence& adherence) {
  ++measured;
  colour += adherence.colour_ok;
  position += adherence.position_ok;
  count += adherence.count_ok;
  all += adherence.all_ok();
}

std::string AdherenceTally::summary() const {
  char text[128];
  std::snprintf(text, sizeof text, "colour %.1f%%, position %.1f%%, count %.1f%%, all %.1f%% of %d",
                percent(colour, measured), percent(position, measured), percent(count, measured),
                percent(all, measured), measured);
  return text;
}

}  // namespace darkroom::scenes
