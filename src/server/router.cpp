#include "router.hpp"

#include <boost/beast/http/verb.hpp>

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

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
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

void Router::add(http::verb method, std::string pattern, Handler handler) {
  routes_.push_back({method, split_path(pattern), std::move(handler)});
}

boost::asio::awaitable<void> Router::dispatch(Exchange& exchange) const {
  const auto path = split_path(exchange.path());
  std::string allowed;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match(route.segments, path, params)) continue;
    const auto method = exchange.request.method();
    if (route.method == method) {
      exchange.params = std::move(params);
      co_await route.handler(exchange);
      co_return;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(http::to_string(route.method));
  }
  if (allowed.empty()) {
    const auto message = "no endpoint " + std::string(exchange.path()) + " (see GET /v1/capabilities)";
    co_await exchange.send_error(http::status::not_found, "not_found", message);
    co_return;
  }
  const auto message = std::string(exchange.request.method_string()) + " is not allowed on " +
                       std::string(exchange.path()) + "; allowed: " + allowed;
  auto response = exchange.error_response(http::status::method_not_allowed, "method_not_allowed", message);
  response.set(http::field::allow, allowed);
  co_await exchange.send(std::move(response));
}

}  // namespace darkroom::server
