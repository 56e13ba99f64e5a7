#pragma once
// Who may talk to the server from a browser. A server on loopback with no API key is reachable by every
// web page its user opens: a page can POST a "simple" request (text/plain, no preflight), open a WebSocket
// (browsers send no preflight for those either), or rebind its own domain name to 127.0.0.1 (DNS
// rebinding). So, by default:
// - a request that carries an Origin header is served only when that origin is the server's own (the
//   scheme and the Host the request was sent to) or the one --cors-origin allows ("*": any);
// - a server that listens on loopback only answers requests whose Host names loopback (localhost,
//   *.localhost, 127.0.0.0/8, [::1]), so a rebound domain gets nothing;
// - HTTP/1.1 requests must carry a Host (RFC 9112 3.2).
// Requests without an Origin (curl, SDKs, servers) are not cross-site and pass. Pure: no sockets.
#include <optional>
#include <string>
#include <string_view>

namespace darkroom::server {

struct SitePolicy {
  bool loopback_only = true;  // the listening address is a loopback one
  std::string cors_origin;    // "" (none), "*" or one origin, e.g. "https://my.app"
};

struct SiteRefusal {
  unsigned status;  // 400 or 403
  std::string code;
  std::string message;
};

// Whether the listening address (ServerOptions::host) is loopback: "localhost", 127.0.0.0/8 or ::1.
bool is_loopback_host(std::string_view listen_host);

// nullopt: serve the request. version: 10 or 11; host: the Host header ("" when absent); origin: the
// Origin header (nullopt when absent).
std::optional<SiteRefusal> check_site(const SitePolicy& policy, unsigned version, std::string_view host,
                                      std::optional<std::string_view> origin);

}  // namespace darkroom::server
