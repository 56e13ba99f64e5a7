#pragma once
// The page `darkroom serve` serves at / and under /web/ (src/web/page/), compiled into the binary.
#include <string_view>

namespace darkroom::web {

struct Asset {
  std::string_view name;          // "index.html", "app.js", ...
  std::string_view content_type;  // from the name's extension, with charset=utf-8 for text
  std::string_view bytes;
};

// The file of that name (no folders: the page is flat), or nullptr.
const Asset* find_asset(std::string_view name);
// The page itself (index.html).
const Asset& page();

}  // namespace darkroom::web
