// Network endpoints from URLs, and proxy selection from the environment
// (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as Go's ProxyFromEnvironment, which
// the official client inherits, and the AWS CLI honour). No I/O here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ssmc::net {

/// Where to connect, parsed from an http(s):// or ws(s):// URL.
struct Endpoint {
  bool tls = false;           ///< https / wss
  bool websocket = false;     ///< ws / wss
  std::string host;           ///< without brackets for IPv6 literals
  std::uint16_t port = 0;     ///< explicit or the scheme's default
  bool explicit_port = false; ///< the URL spelled a port
  std::string target = "/";   ///< path and query as written ("/" if empty)
  /// The Host header / SigV4 `host` value: the authority as written
  /// (host, plus ":port" when the URL has one; IPv6 in brackets).
  std::string authority;
};

/// Errors (net::Errc): bad_url, unsupported_scheme.
Result<Endpoint> parse_endpoint(std::string_view url);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

/// A CONNECT proxy: plain HTTP to host:port (https proxies are not supported,
/// as in the AWS CLI and the official plugin).
struct Proxy {
  std::string host;
  std::uint16_t port = 0;
  /// "user:password" from the proxy URL, sent as Proxy-Authorization: Basic.
  /// A secret: never logged.
  std::string credentials;
};

using EnvMap = std::map<std::string, std::string, std::less<>>;

/// The proxy for `target` from HTTPS_PROXY/https_proxy (TLS targets) or
/// HTTP_PROXY/http_proxy (plain), unless NO_PROXY/no_proxy matches: "*",
/// an exact host or IP, a domain suffix ("example.com" and ".example.com"
/// both match "a.example.com"), each optionally with ":port". Loopback
/// targets never use a proxy (as Go). Errors: bad_proxy_url.
Result<std::optional<Proxy>> proxy_for(const Endpoint& target, const EnvMap& env);

}  // namespace ssmc::net
