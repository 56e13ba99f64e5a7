#include "darkroom/web/assets.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

namespace darkroom::web {
namespace detail {
extern const std::pair<std::string_view, std::string_view> kFiles[];
extern const std::size_t kFileCount;
}  // namespace detail
namespace {

std::string_view content_type_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const auto extension = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "js") return "text/javascript; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "png") return "image/png";
  throw std::logic_error("web page file '" + std::string(name) + "': no content type for its extension");
}

const std::vector<Asset>& assets() {
  static const std::vector<Asset> all = [] {
    std::vector<Asset> out;
    for (std::size_t i = 0; i < detail::kFileCount; ++i) {
      const auto& [name, bytes] = detail::kFiles[i];
      out.push_back({name, content_type_of(name), bytes});
    }
    return out;
  }();
  return all;
}

}  // namespace

const Asset* find_asset(std::string_view name) {
  for (const auto& asset : assets())
    if (asset.name == name) return &asset;
  return nullptr;
}

const Asset& page() {
  const auto* index = find_asset("index.html");
  if (!index) throw std::logic_error("the web page has no index.html");
  return *index;
}

}  // namespace darkroom::web
