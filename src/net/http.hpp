// HTTP/1.1 client and server over TCP or TLS, for the AWS APIs (client) and
// the emulator's fake SSM/KMS API and gateway (server). Beast stays inside
// src/net/*.cpp: these headers expose plain types and Asio awaitables only.
//
// One io_context, coroutines: every call is `co_await`ed on the caller's
// executor; nothing here starts threads.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/errors.hpp"
#include "net/url.hpp"
#include "util/result.hpp"

namespace ssmc::net {

using Duration = std::chrono::steady_clock::duration;

/// Default time to establish TCP (+ proxy CONNECT + TLS): the official
/// client's WebSocket handshake timeout is 45 s (02 §1.6); API calls use less.
inline constexpr std::chrono::seconds kDefaultConnectTimeout{10};
/// Default time to wait for a whole response once the request is sent.
inline constexpr std::chrono::seconds kDefaultReadTimeout{30};
/// Largest response body the client accepts by default (API answers are KBs).
inline constexpr std::size_t kDefaultMaxResponseBody = 8 * 1024 * 1024;
/// Largest request (headers + body) the server accepts.
inline constexpr std::size_t kServerMaxRequestBody = 1024 * 1024;

struct HttpHeader {
  std::string name;
  std::string value;
};
using HttpHeaders = std::vector<HttpHeader>;

/// Case-insensitive lookup of the first header `name`; empty view if absent.
std::string_view find_header(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  /// Request target: path and query, as sent / as received.
  std::string target = "/";
  /// As sent / as received, order and case kept. The client adds Host
  /// (from the endpoint's authority) and Content-Length if absent.
  HttpHeaders headers;
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  std::string reason;
  HttpHeaders headers;
  std::string body;
};

/// TLS settings of a client.
struct TlsOptions {
  /// PEM file of trusted CAs instead of the system store (AWS_CA_BUNDLE).
  std::string ca_file;
  /// PEM text of an extra trusted certificate (the emulator's, in tests).
  std::string ca_pem;
  /// Verify the server certificate and host name (never off in production).
  bool verify = true;
};

struct ClientOptions {
  Duration connect_timeout = kDefaultConnectTimeout;
  Duration read_timeout = kDefaultReadTimeout;
  std::size_t max_response_body = kDefaultMaxResponseBody;
  TlsOptions tls;
  std::optional<Proxy> proxy;
};

/// Sends one request on a fresh connection and reads the whole response.
/// Errors: net::Errc (connect_timeout, read_timeout, proxy_refused,
/// response_too_large, tls_setup_failed), resolver/socket/TLS/Beast codes.
/// An HTTP error status is not an error: the response is returned.
boost::asio::awaitable<Result<HttpResponse>> http_request(boost::asio::any_io_executor ex, Endpoint endpoint,
                                                          HttpRequest request, ClientOptions options);

class WebSocket;

/// What a server connection tells its handlers about the peer.
struct PeerInfo {
  std::string address;  ///< remote IP
  std::uint16_t port = 0;
  std::uint64_t connection_id = 0;
};

/// TLS identity of a server (PEM text).
struct ServerTls {
  std::string certificate_pem;
  std::string private_key_pem;
};

struct ServerHandlers {
  /// A plain request; the returned response is sent (keep-alive honoured).
  std::function<boost::asio::awaitable<HttpResponse>(HttpRequest, PeerInfo)> on_request;
  /// A WebSocket upgrade request: return a response to refuse it, or
  /// nullopt to accept; then on_websocket owns the connection.
  std::function<std::optional<HttpResponse>(const HttpRequest&, const PeerInfo&)> on_upgrade;
  std::function<boost::asio::awaitable<void>(HttpRequest, std::unique_ptr<WebSocket>, PeerInfo)> on_websocket;
};

/// An HTTP/1.1 server with WebSocket upgrades on one listening socket.
class HttpServer {
 public:
  /// Binds `host:port` (port 0 = ephemeral) and starts accepting on `ex`.
  /// Errors: bad address, bind/listen failures, tls_setup_failed.
  static Result<std::unique_ptr<HttpServer>> start(boost::asio::any_io_executor ex, const std::string& host,
                                                   std::uint16_t port, std::optional<ServerTls> tls,
                                                   ServerHandlers handlers);
  ~HttpServer();
  std::uint16_t port() const;
  /// Stops accepting and closes every open connection.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// A self-signed EC P-256 certificate for `hosts` (DNS names or IPs as
/// subjectAltName), valid from now for `days`. For the emulator and tests.
Result<ServerTls> make_self_signed_certificate(const std::vector<std::string>& hosts, int days = 30);

}  // namespace ssmc::net
