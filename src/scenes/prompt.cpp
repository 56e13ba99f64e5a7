#include "darkroom/scenes/prompt.hpp"

#include <string>

#include "grammar.hpp"

namespace darkroom::scenes {
namespace {

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) tokens.push_back(std::move(word));
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      flush();
    } else if (c == ',') {
      flush();
      tokens.emplace_back(",");
    } else {
      word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  flush();
  return tokens;
}

// Recursive descent over the words; every accept_* leaves the position unchanged when it fails.
class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(tokenize(text)) {}

  std::optional<PromptSpec> prompt() {
    PromptSpec spec;
    std::vector<std::string_view> separators;
    for (;;) {
      auto object = object_phrase();
      if (!object) return std::nullopt;
      spec.objects.push_back(*object);
      if (accept(",")) {
        separators.push_back(",");
      } else if (accept("and")) {
        separators.push_back("and");
      } else {
        break;
      }
    }
    // "x and y", "x, y and z": commas, then one final "and".
    for (size_t i = 0; i < separators.size(); ++i)
      if ((separators[i] == "and") != (i + 1 == separators.size())) return std::nullopt;
    if (at_ < tokens_.size()) {
      spec.background = background_phrase();
      if (!spec.background) return std::nullopt;
    }
    if (at_ != tokens_.size()) return std::nullopt;
    return spec;
  }

 private:
  std::optional<ObjectSpec> object_phrase() {
    ObjectSpec object;
    if (!accept_count(object.count)) return std::nullopt;
    object.size = accept_size();
    const auto colour = accept_colour();
    if (!colour) return std::nullopt;
    object.colour = *colour;
    const auto& shape_words = object.count == 1 ? shape_singulars() : detail::shape_plurals;
    const auto shape = accept_one_of(all_shapes, shape_words);
    if (!shape) return std::nullopt;
    object.shape = *shape;
    if (object.count == 1) object.region = accept_region();
    return object;
  }

  std::optional<BackgroundSpec> background_phrase() {
    BackgroundSpec background;
    if (!accept("on") || !accept_article()) return std::nullopt;
    const auto colour = accept_colour();
    if (!colour) return std::nullopt;
    background.colour = *colour;
    if (accept("background")) return background;
    if (!accept("to")) return std::nullopt;
    background.to = accept_colour();
    if (!background.to || !accept("gradient")) return std::nullopt;
    return background;
  }

  bool accept_count(int& count) {
    if (accept_article()) {
      count = 1;
      return true;
    }
    for (size_t n = 2; n < detail::count_words.size(); ++n) {
      if (accept(detail::count_words[n])) {
        count = static_cast<int>(n);
        return true;
      }
    }
    return false;
  }

  // "a" or "an", whichever the next word takes.
  bool accept_article() {
    if (at_ + 1 >= tokens_.size() || tokens_[at_] != detail::article_before(tokens_[at_ + 1])) return false;
    ++at_;
    return true;
  }

  std::optional<Size> accept_size() {
    static const auto words = names_of(all_sizes);
    return accept_one_of(all_sizes, words);
  }

  std::optional<Colour> accept_colour() {
    if (accept("grey")) return Colour::gray;
    static const auto words = names_of(all_colours);
    return accept_one_of(all_colours, words);
  }

  // The longest phrase that matches: "at the top left" rather than "at the top".
  std::optional<Region> accept_region() {
    std::optional<Region> best;
    size_t best_end = at_;
    const size_t start = at_;
    for (Region region : all_regions) {
      for (std::string_view phrase : detail::region_phrases(region)) {
        at_ = start;
        if (accept_words(phrase) && at_ > best_end) best = region, best_end = at_;
      }
    }
    at_ = best ? best_end : start;
    return best;
  }

  static const std::array<std::string_view, all_shapes.size()>& shape_singulars() {
    static const auto words = names_of(all_shapes);
    return words;
  }

  template <class T, size_t N>
  static std::array<std::string_view, N> names_of(const std::array<T, N>& values) {
    std::array<std::string_view, N> words;
    for (size_t i = 0; i < N; ++i) words[i] = name(values[i]);
    return words;
  }

  template <class T, size_t N>
  std::optional<T> accept_one_of(const std::array<T, N>& values, const std::array<std::string_view, N>& words) {
    for (size_t i = 0; i < N; ++i)
      if (accept(words[i])) return values[i];
    return std::nullopt;
  }

  bool accept_words(std::string_view phrase) {
    const size_t start = at_;
    size_t begin = 0;
    while (begin < phrase.size()) {
      const size_t end = std::min(phrase.find(' ', begin), phrase.size());
      if (!accept(phrase.substr(begin, end - begin))) {
        at_ = start;
        return false;
      }
      begin = end + 1;
    }
    return true;
  }

  bool accept(std::string_view word) {
    if (at_ >= tokens_.size() || tokens_[at_] != word) return false;
    ++at_;
    return true;
  }

  std::vector<std::string> tokens_;
  size_t at_ = 0;
};

}  // namespace

int PromptSpec::total_count() const {
  int total = 0;
  for (const ObjectSpec& object : objects) total += object.count;
  return total;
}

std::optional<PromptSpec> parse_prompt(std::string_view prompt) { return Parser(prompt).prompt(); }

}  // namespace darkroom::scenes
