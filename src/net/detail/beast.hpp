// Internal to src/net: Beast/Asio-SSL types shared by http.cpp and
// websocket.cpp. Never include this outside src/net/*.cpp.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "net/http.hpp"
#include "net/websocket.hpp"

namespace ssmc::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

/// The one completion-token style of the project (stack.md §1.2).
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;
using BeastRequest = http::request<http::string_body>;

/// TCP connection to `endpoint` (through `options.proxy` with CONNECT when
/// set), within options.connect_timeout.
/// (Coroutine parameters are taken by value: references to temporaries in a
/// co_await expression are destroyed twice by GCC 12.)
asio::awaitable<Result<PlainStream>> open_tcp(asio::any_io_executor ex, Endpoint endpoint, ClientOptions options);

/// Client TLS context for `tls` (cached: building one reads the trust store).
Result<std::shared_ptr<ssl::context>> client_tls_context(const TlsOptions& tls);

/// Sets SNI and host-name verification on a client TLS stream.
std::error_code prepare_client_tls(TlsStream& stream, const std::string& host, bool verify);

/// Server side of an upgrade whose request was already read.
asio::awaitable<Result<std::unique_ptr<WebSocket>>> accept_websocket(PlainStream stream, BeastRequest request);
asio::awaitable<Result<std::unique_ptr<WebSocket>>> accept_websocket(TlsStream stream, BeastRequest request);

HttpHeaders to_headers(const http::fields& fields);

}  // namespace ssmc::net::detail
