#pragma once
// "256,512" -> {256, 512}: the --sizes argument of the benchmarks.
#include <string>
#include <vector>

namespace darkroom::bench {

inline std::vector<int> parse_int_list(std::string text) {
  std::vector<int> values;
  while (!text.empty()) {
    const auto comma = text.find(',');
    values.push_back(std::stoi(text.substr(0, comma)));
    text = comma == std::string::npos ? "" : text.substr(comma + 1);
  }
  return values;
}

}  // namespace darkroom::bench
