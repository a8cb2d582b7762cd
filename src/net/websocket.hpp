// WebSocket connection (client or server side) behind a small non-template
// interface, so that only src/net/websocket.cpp instantiates Beast.
//
// Concurrency (Beast's rules, kept): at most one read() and one write() may be
// outstanding at a time, and ping() may run alongside a write. All on the
// executor the connection was made on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "net/http.hpp"

namespace ssmc::net {

/// Dead-peer detection default: with no frame received for half of this, a
/// ping is sent; with none for all of it the connection fails with
/// peer_unresponsive (issue #7: notice a dead path in seconds). The official
/// client only pings every 5 minutes and never checks (02 §3.2).
inline constexpr std::chrono::seconds kDefaultIdleTimeout{20};
/// Largest incoming message accepted (AgentMessages are ~1 KiB; handshake JSON
/// a few hundred bytes; fast emulator profiles use up to 64 KiB payloads).
inline constexpr std::size_t kDefaultMaxMessage = 4 * 1024 * 1024;
/// Application data of the official client's pings (02 §3.2).
inline constexpr std::string_view kKeepalivePingData = "keepalive";

struct WebSocketOptions {
  ClientOptions client;  ///< connect timeout (whole handshake), TLS, proxy
  /// Extra headers for the upgrade request (X-Amz-Date, Authorization, ...).
  HttpHeaders headers;
  /// 0 = no idle detection.
  Duration idle_timeout = kDefaultIdleTimeout;
  std::size_t max_message = kDefaultMaxMessage;
};

/// One received message. `data` is valid until the next read().
struct WsMessage {
  bool binary = true;
  std::span<const std::uint8_t> data;
};

struct WsStats {
  std::uint64_t messages_in = 0, messages_out = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::uint64_t pings_in = 0, pongs_in = 0;
  /// Of messages_in: whole binary messages taken from the read buffer
  /// without Beast.
  std::uint64_t buffered_messages_in = 0;
  /// Writes handed to the socket (or TLS) stream: below messages_out when
  /// batched writes were merged.
  std::uint64_t socket_writes = 0;
};

class WebSocket {
 public:
  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  /// Connects to `endpoint` (ws:// or wss://), through options.client.proxy
  /// if set, and performs the upgrade with options.headers. Errors:
  /// connect_timeout, upgrade_refused (`refused_status` gets the HTTP status),
  /// proxy_refused, TLS/socket codes.
  static boost::asio::awaitable<Result<std::unique_ptr<WebSocket>>> connect(boost::asio::any_io_executor ex,
                                                                            Endpoint endpoint, WebSocketOptions options,
                                                                            unsigned* refused_status = nullptr);

  /// The next data message (text or binary). Pings are answered inside.
  /// Errors: closed (peer sent Close or EOF), peer_unresponsive, socket codes.
  boost::asio::awaitable<Result<WsMessage>> read();
  /// Sends one message; `data` must stay valid until this completes.
  /// `batch`: more messages follow at once, so this one may be held (copied,
  /// up to 256 KiB in all) and written with them in one system call at the
  /// next flush(), at the next write without `batch`, or when the limit is
  /// reached. Whoever batches must flush() before waiting for anything.
  boost::asio::awaitable<std::error_code> write(std::span<const std::uint8_t> data, bool binary = true,
                                                bool batch = false);
  /// Starts writing whatever batched messages are held; does not wait.
  void flush();
  /// flush(), then waits until every accepted byte was handed to the socket
  /// (before a deliberate close, so that held messages are not dropped).
  boost::asio::awaitable<std::error_code> drain();
  /// Sends a ping control frame.
  boost::asio::awaitable<std::error_code> ping(std::string_view payload = kKeepalivePingData);
  /// Sends a Close frame (code 1000) and waits briefly for the peer's.
  boost::asio::awaitable<void> close_gracefully();
  /// Drops the TCP connection at once (what the official client does, 02 §3.3).
  /// Outstanding operations complete with an error. Idempotent.
  void abort();
  bool is_open() const;
  const WsStats& stats() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ssmc::net
