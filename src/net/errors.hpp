// Error codes of the network layer (src/net). Lower-level causes (resolver,
// socket, TLS, Beast) keep their own categories; these codes name what the
// network layer itself decided.
#pragma once

#include <system_error>

namespace ssmc::net {

enum class Errc {
  ok = 0,
  bad_url,                  ///< the URL does not parse or has no host
  unsupported_scheme,       ///< not http/https/ws/wss
  bad_proxy_url,            ///< HTTPS_PROXY/HTTP_PROXY does not parse or is not http://
  proxy_refused,            ///< the proxy answered CONNECT with a non-2xx status
  connect_timeout,          ///< no TCP/TLS/upgrade within the connect timeout
  read_timeout,             ///< no response (or no frame) within the read timeout
  response_too_large,       ///< response body over the configured limit
  upgrade_refused,          ///< the server answered the WebSocket upgrade with an HTTP error
  tls_setup_failed,         ///< TLS context, CA bundle or certificate could not be loaded
  closed,                   ///< the connection was closed (by us or the peer)
  peer_unresponsive,        ///< WebSocket keep-alive: no pong/data within the idle timeout
};

const std::error_category& net_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace ssmc::net

template <>
struct std::is_error_code_enum<ssmc::net::Errc> : std::true_type {};
