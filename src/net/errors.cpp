#include "net/errors.hpp"

#include <string>

namespace ssmc::net {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.net"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok: return "success";
      case Errc::bad_url: return "the URL does not parse or has no host";
      case Errc::unsupported_scheme: return "unsupported URL scheme (expected http, https, ws or wss)";
      case Errc::bad_proxy_url: return "the proxy URL in HTTPS_PROXY/HTTP_PROXY is invalid (expected http://host:port)";
      case Errc::proxy_refused: return "the proxy refused the CONNECT request (check HTTPS_PROXY and the proxy's allow-list)";
      case Errc::connect_timeout: return "timed out connecting (check the endpoint, network and proxy settings)";
      case Errc::read_timeout: return "timed out waiting for the server's response";
      case Errc::response_too_large: return "the server's response is larger than allowed";
      case Errc::upgrade_refused: return "the server refused the WebSocket upgrade";
      case Errc::tls_setup_failed: return "TLS could not be set up (check AWS_CA_BUNDLE and the system trust store)";
      case Errc::closed: return "the connection was closed";
      case Errc::peer_unresponsive: return "the peer stopped answering (no data or pong within the keep-alive timeout)";
    }
    return "unknown network error";
  }
};

}  // namespace

const std::error_category& net_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), net_category()}; }

}  // namespace ssmc::net
