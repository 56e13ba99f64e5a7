// The web page (src/web): GET / and GET /web/{file}, served from memory without the API key (the page
// holds nothing secret; it asks its user for the key and sends it with every API request).
#include <boost/asio/use_awaitable.hpp>

#include "darkroom/web/assets.hpp"
#include "routes.hpp"

namespace darkroom::server {
namespace {

using boost::asio::awaitable;

// Only the page's own files may run or style it, images may also be the data: previews and the blob:
// downloads it makes, and no other site may frame it.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

awaitable<void> send_asset(Exchange& ex, const web::Asset& asset) {
  Response response{http::status::ok, ex.request.version()};
  response.set(http::field::content_type, asset.content_type);
  response.set(http::field::cache_control, "no-cache");  // a new server version's page, not a stale one
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.body().assign(asset.bytes);
  co_await ex.send(std::move(response));
}

awaitable<void> get_page(Exchange& ex) {
  const auto& page = web::page();
  co_await send_asset(ex, page);
}

awaitable<void> get_file(Exchange& ex) {
  const auto& name = ex.params.at("file");
  const auto* asset = web::find_asset(name);
  if (!asset) {
    const Failure failure{Failure::Kind::not_found, "the web page has no file '" + name + "'", "file", "", 0};
    co_await ex.send_failure(failure);
    co_return;
  }
  co_await send_asset(ex, *asset);
}

}  // namespace

void add_web_routes(Router& router) {
  router.add_open(http::verb::get, "/", get_page);
  router.add_open(http::verb::get, "/web/{file}", get_file);
}

}  // namespace darkroom::server
