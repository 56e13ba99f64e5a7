#pragma once
// Method + path pattern ("/v1/jobs/{id}/events") -> handler, with the dialect that words the route's
// failures. Patterns match whole segments; {name} segments land in Exchange::params. WebSocket routes
// match only upgrade requests, and upgrade requests only them.
#include <functional>
#include <string>
#include <vector>

#include "exchange.hpp"

namespace darkroom::server {

using Handler = std::function<boost::asio::awaitable<void>(Exchange&)>;

class Router {
 public:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;
    Handler handler;
    ErrorShape errors;
    bool websocket;
    bool open = false;  // served without the API key (/health; the page's files: the page then asks for the key)
  };

  void add(http::verb method, std::string pattern, Handler handler, ErrorShape errors = native_error);
  void add_websocket(std::string pattern, Handler handler);
  void add_open(http::verb method, std::string pattern, Handler handler);

  // The route for the exchange's method and path (its {name} segments stored in exchange.params), else
  // nullptr and the failure to answer: not_found, or method_not_allowed (allowed: the methods there are).
  struct Match {
    const Route* route = nullptr;
    Failure failure;
    std::string allowed;
  };
  Match match(Exchange& exchange) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace darkroom::server
