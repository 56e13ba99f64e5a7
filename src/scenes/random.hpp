#pragma once
// Draws from std::mt19937_64, whose output the standard fixes bit for bit. The std:: distributions are
// implementation-defined, so a scene drawn with them would differ between standard libraries.
#include <cstdint>
#include <random>

namespace darkroom::scenes::detail {

// Integer in [0, n): the high word of a 64x64-bit product (bias below 2^-60 for our small n).
inline uint64_t below(std::mt19937_64& rng, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// Uniform in [0, 1) with 53 random bits.
inline double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

inline double between(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * unit(rng); }

inline bool chance(std::mt19937_64& rng, double p) { return unit(rng) < p; }

template <class Container>
auto pick(std::mt19937_64& rng, const Container& items) {
  return items[below(rng, items.size())];
}

// Fisher-Yates with our own index draw.
template <class Container>
void shuffle(std::mt19937_64& rng, Container& items) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(rng, i)]);
}

// splitmix64's finaliser: spreads consecutive seeds over the whole state before they seed the generator.
inline uint64_t mix(uint64_t seed) {
  seed += 0x9e3779b97f4a7c15ULL;
  seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
  seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
  return seed ^ (seed >> 31);
}

}  // namespace darkroom::scenes::detail
