#include "darkroom/server/site_policy.hpp"

#include <algorithm>
#include <cctype>

#include "json_fields.hpp"

namespace darkroom::server {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The host name of a Host header value: "[::1]:7860" -> "[::1]", "Localhost:80" -> "localhost".
std::string host_name(std::string_view host) {
  if (host.starts_with('[')) return lower(host.substr(0, host.find(']') + 1));
  return lower(host.substr(0, host.find(':')));
}

bool is_ipv4_loopback(std::string_view name) {
  // Four dotted decimal parts, the first 127.
  int parts = 0;
  std::size_t at = 0;
  while (at <= name.size()) {
    const auto end = std::min(name.find('.', at), name.size());
    const auto part = name.substr(at, end - at);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    if (std::stoi(std::string(part)) > 255 || (parts == 0 && part != "127")) return false;
    ++parts;
    at = end + 1;
  }
  return parts == 4;
}

bool names_loopback(std::string_view name) {
  return name == "localhost" || name.ends_with(".localhost") || name == "[::1]" || is_ipv4_loopback(name);
}

SiteRefusal forbidden(std::string code, std::string message) { return {403, std::move(code), std::move(message)}; }

}  // namespace

bool is_loopback_host(std::string_view listen_host) {
  const auto name = lower(listen_host);
  return name == "localhost" || name == "::1" || name == "[::1]" || is_ipv4_loopback(name);
}

std::optional<SiteRefusal> check_site(const SitePolicy& policy, unsigned version, std::string_view host,
                                      std::optional<std::string_view> origin) {
  if (version >= 11 && host.empty())
    return SiteRefusal{400, "missing_host", "an HTTP/1.1 request must carry a Host header"};
  if (policy.loopback_only && !host.empty() && !names_loopback(host_name(host)))
    return forbidden("forbidden_host", "Host '" + wire::excerpt(host) +
                                           "' does not name this server, which listens on loopback only (a guard "
                                           "against DNS rebinding); address it as localhost or 127.0.0.1");
  if (!origin || policy.cors_origin == "*") return std::nullopt;
  const auto from = lower(*origin);
  const auto own = lower(host);
  if (!own.empty() && (from == "http://" + own || from == "https://" + own)) return std::nullopt;
  if (!policy.cors_origin.empty() && from == lower(policy.cors_origin)) return std::nullopt;
  return forbidden("forbidden_origin", "requests from origin '" + wire::excerpt(*origin) +
                                           "' are not allowed (only the server's own pages are); start the server "
                                           "with --cors-origin ORIGIN to allow a page served elsewhere");
}

}  // namespace darkroom::server
