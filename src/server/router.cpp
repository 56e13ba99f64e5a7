#include "router.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace darkroom::server {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (path[i].empty()) return false;
      found[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::add(http::verb method, std::string pattern, Handler handler, ErrorShape errors) {
  routes_.push_back({method, split_path(pattern), std::move(handler), errors, false});
}

void Router::add_websocket(std::string pattern, Handler handler) {
  routes_.push_back({http::verb::get, split_path(pattern), std::move(handler), native_error, true});
}

void Router::add_open(http::verb method, std::string pattern, Handler handler) {
  routes_.push_back({method, split_path(pattern), std::move(handler), native_error, false, true});
}

Router::Match Router::match(Exchange& exchange) const {
  const auto path = split_path(exchange.path());
  const bool upgrade = boost::beast::websocket::is_upgrade(exchange.request);
  Match found;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (route.websocket != upgrade || !match_segments(route.segments, path, params)) continue;
    if (route.method == exchange.request.method()) {
      exchange.params = std::move(params);
      found.route = &route;
      return found;
    }
    if (!found.allowed.empty()) found.allowed += ", ";
    found.allowed += std::string(http::to_string(route.method));
  }
  const std::string where(exchange.path());
  if (!found.allowed.empty()) {
    found.failure = {Failure::Kind::method_not_allowed,
                     std::string(exchange.request.method_string()) + " is not allowed on " + where + "; allowed: " + found.allowed,
                     "", "", 0};
  } else if (upgrade) {
    std::string websocket_paths;
    for (const auto& route : routes_) {
      if (!route.websocket) continue;
      std::string pattern;
      for (const auto& segment : route.segments) pattern += "/" + segment;
      websocket_paths += (websocket_paths.empty() ? "" : ", ") + pattern;
    }
    found.failure = {Failure::Kind::not_found, "WebSocket connections are served on " + websocket_paths, "", "", 0};
  } else {
    found.failure = {Failure::Kind::not_found, "no endpoint " + where + " (see GET /v1/capabilities)", "", "", 0};
  }
  return found;
}

}  // namespace darkroom::server
