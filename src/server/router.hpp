#pragma once
// Method + path pattern ("/v1/jobs/{id}/events") -> handler. Patterns match whole segments; {name}
// segments land in Exchange::params.
#include <functional>
#include <string>
#include <vector>

#include "exchange.hpp"

namespace darkroom::server {

using Handler = std::function<boost::asio::awaitable<void>(Exchange&)>;

class Router {
 public:
  void add(http::verb method, std::string pattern, Handler handler);
  // Runs the matching handler; 404 when no pattern matches the path, 405 (with Allow) when one matches
  // with another method.
  boost::asio::awaitable<void> dispatch(Exchange& exchange) const;

 private:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace darkroom::server
