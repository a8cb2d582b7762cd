// WebSocket client and server connections (Beast), behind net::WebSocket.
#include "net/websocket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <variant>

#include "crypto/random.hpp"
#include "net/detail/beast.hpp"
#include "net/detail/coalescing_stream.hpp"
#include "net/ws_frame.hpp"

namespace ssmc::net {

using namespace detail;
namespace websocket = beast::websocket;

namespace {
/// User-Agent of our upgrade requests (not signed, 02 §1.2).
constexpr std::string_view kUserAgent = "ssmc";
/// How long close_gracefully waits for the peer's Close.
constexpr std::chrono::seconds kCloseTimeout{2};
template <class S>
using WsOver = websocket::stream<CoalescingStream<S>>;

std::error_code map_error(const boost::system::error_code& ec) {
  if (ec == websocket::error::closed || ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::error::broken_pipe) {
    return make_error_code(Errc::closed);
  }
  // bad_descriptor: Beast's keep-alive timer closed the socket while the peer
  // left a closing handshake unfinished (e.g. silent after our Close 1009).
  if (ec == beast::error::timeout || ec == asio::error::bad_descriptor) return make_error_code(Errc::peer_unresponsive);
  return ec;
}

/// The idle watchdog's state, shared with its coroutine: the WebSocket may go
/// while the coroutine waits.
struct IdleWatch {
  explicit IdleWatch(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  bool alive = true;
  bool ping_in_flight = false;  ///< at most one keep-alive ping queued in Beast
};
}  // namespace

struct WebSocket::Impl {
  using Plain = WsOver<PlainStream>;
  using Tls = WsOver<TlsStream>;

  template <class S>
  explicit Impl(S&& s) : ws(std::in_place_type<WsOver<std::decay_t<S>>>, std::forward<S>(s)) {}
  ~Impl() { stop_watch(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::variant<Plain, Tls> ws;
  std::shared_ptr<ssl::context> ctx;  ///< keeps the client TLS context alive
  beast::flat_buffer buffer;
  WsStats stats;
  bool open = true;
  bool is_client = true;  ///< client frames are masked (RFC 6455 §5.3)

  /// One data message, framed here (ws_frame.hpp) straight into the
  /// coalescing layer's buffer: Beast's write operation per message cost
  /// more than the rest of a message's path (issue #8). Beast keeps reading
  /// every frame and writing the control frames.
  template <class W>
  asio::awaitable<boost::system::error_code> write_message(W& stream, std::span<const std::uint8_t> data, bool binary,
                                                           bool batch) {
    auto& layer = stream.next_layer();
    while (layer.full() && !layer.error()) (void)co_await layer.async_wait_room(use_tuple);
    if (layer.error()) co_return layer.error();
    // No data after a Close either side sent (RFC 6455 §5.5.1).
    if (!stream.is_open()) co_return boost::system::error_code(websocket::error::closed);
    layer.set_hold(batch);
    WsMaskKey key{};
    if (is_client) crypto::system_random().fill(key);
    write_ws_frame(layer.append(ws_frame_size(data.size(), is_client)), binary, data, is_client ? &key : nullptr);
    layer.commit();
    if (batch) co_return boost::system::error_code{};
    auto [ec] = co_await layer.async_drain(use_tuple);  // written through, as an unbatched write promises
    co_return ec;
  }

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), ws);
  }

  std::chrono::steady_clock::time_point last_read() {
    return visit([](auto& w) { return w.next_layer().last_read(); });
  }

  /// Beast's keep-alive semantics without Beast's timer work per message:
  /// idle/2 after the last byte read a ping goes out, idle after it the
  /// connection fails (peer_unresponsive). Reading anything, a pong
  /// included, starts over. The timer is set once per half idle period at
  /// most, whatever the message rate.
  static asio::awaitable<void> watch_idle(std::shared_ptr<IdleWatch> w, Impl* self, Duration idle) {
    const auto started = std::chrono::steady_clock::now();
    bool pinged = false;
    for (;;) {
      const auto base = std::max(started, self->last_read());
      w->timer.expires_at(base + (pinged ? idle : idle / 2));
      (void)co_await w->timer.async_wait(use_tuple);
      if (!w->alive) co_return;  // `self` is gone or closing
      if (self->last_read() > base) {
        pinged = false;
        continue;
      }
      if (!pinged) {
        // Beast writes the frame into the operation's own buffer at once. A
        // ping still queued (the peer reads nothing) is not followed by more.
        if (!w->ping_in_flight) {
          w->ping_in_flight = true;
          self->visit([w](auto& ws) {
            ws.async_ping(websocket::ping_data{}, [w](boost::system::error_code) { w->ping_in_flight = false; });
          });
        }
        pinged = true;
        continue;
      }
      self->timed_out = true;
      self->open = false;
      self->close_socket();
      co_return;
    }
  }

  void stop_watch() {
    if (!watch) return;
    watch->alive = false;
    watch->timer.cancel();
    watch.reset();
  }

  void close_socket() {
    visit([](auto& w) {
      boost::system::error_code ec;
      auto& socket = beast::get_lowest_layer(w).socket();
      if (socket.is_open()) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
      }
    });
  }

  /// An error as the caller sees it: after the watchdog closed the socket,
  /// whatever the pending operation reports means an unresponsive peer.
  std::error_code error(const boost::system::error_code& ec) const {
    return timed_out ? make_error_code(Errc::peer_unresponsive) : map_error(ec);
  }
  /// What an operation on a connection no longer open reports.
  std::error_code not_open() const {
    return make_error_code(timed_out ? Errc::peer_unresponsive : Errc::closed);
  }

  std::shared_ptr<IdleWatch> watch;
  bool timed_out = false;
  std::size_t max_message_size = kDefaultMaxMessage;

  /// A whole binary message that is already buffered, taken without Beast:
  /// one unfragmented frame, no extension bits, masked exactly when the peer
  /// is a client (RFC 6455 §5.1), within the size limit. Anything else
  /// (control frames, fragments, text, a violation) is left to Beast, which
  /// handles or refuses it as before. The payload is unmasked in place.
  template <class W>
  std::optional<std::span<std::uint8_t>> take_buffered_message(W& w) {
    auto& layer = w.next_layer();
    const auto h = layer.peek_whole_frame();
    if (!h || !h->fin || h->rsv != 0 || h->opcode != kWsOpcodeBinary || h->masked == is_client ||
        h->payload_size > max_message_size || !w.is_open())
      return std::nullopt;
    auto payload = layer.take_frame(*h);
    if (h->masked) mask_ws_payload(payload, h->key);
    return payload;
  }

  template <class W>
  void configure(W& w, Duration idle, std::size_t max_message, bool client) {
    websocket::stream_base::timeout t =
        websocket::stream_base::timeout::suggested(client ? beast::role_type::client : beast::role_type::server);
    // Idle detection is ours (watch_idle), not Beast's: Beast re-arms its
    // timer at the start of every read, which cost a timer cancel, a
    // completion and a timerfd_settime system call per message (issue #8).
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    w.set_option(t);
    max_message_size = max_message;
    // Whole binary messages already read are taken without Beast (read()).
    (void)w.next_layer().start_frames();
    if (idle > Duration::zero()) {
      watch = std::make_shared<IdleWatch>(w.get_executor());
      asio::co_spawn(w.get_executor(), watch_idle(watch, this, idle), asio::detached);
    }
    w.read_message_max(max_message);
    w.auto_fragment(false);
    w.binary(true);
    is_client = client;
    w.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++stats.pings_in;
      if (kind == websocket::frame_type::pong) ++stats.pongs_in;
    });
  }
};

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() { abort(); }

namespace {

template <class Stream>
asio::awaitable<Result<std::unique_ptr<WebSocket::Impl>>> client_upgrade(std::unique_ptr<WebSocket::Impl> impl,
                                                                         Endpoint endpoint, WebSocketOptions options,
                                                                         unsigned* refused_status) {
  auto& ws = std::get<WsOver<Stream>>(impl->ws);
  beast::get_lowest_layer(ws).expires_never();
  ws.next_layer().limit_reads_to_http_head();  // frames after the 101 stay in our buffer
  websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::client);
  t.handshake_timeout = options.client.connect_timeout;
  ws.set_option(t);
  HttpHeaders headers = options.headers;
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    req.set(http::field::user_agent, kUserAgent);
    for (const auto& h : headers) req.set(h.name, h.value);
  }));
  websocket::response_type response;
  auto [ec] = co_await ws.async_handshake(response, endpoint.authority, endpoint.target, use_tuple);
  if (ec) {
    if (refused_status) *refused_status = response.result_int();
    if (ec == websocket::error::upgrade_declined) co_return make_error_code(Errc::upgrade_refused);
    if (ec == beast::error::timeout) co_return make_error_code(Errc::connect_timeout);
    co_return std::error_code(ec);
  }
  impl->configure(ws, options.idle_timeout, options.max_message, true);
  co_return std::move(impl);
}

template <class Stream>
asio::awaitable<Result<std::unique_ptr<WebSocket>>> server_accept(Stream stream, BeastRequest request) {
  auto impl = std::make_unique<WebSocket::Impl>(std::move(stream));
  auto& ws = std::get<WsOver<Stream>>(impl->ws);
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "ssmc-emulator"); }));
  auto [ec] = co_await ws.async_accept(request, use_tuple);
  if (ec) co_return std::error_code(ec);
  impl->configure(ws, kDefaultIdleTimeout * 3, kDefaultMaxMessage, false);
  co_return std::make_unique<WebSocket>(std::move(impl));
}

}  // namespace

namespace detail {
asio::awaitable<Result<std::unique_ptr<WebSocket>>> accept_websocket(PlainStream stream, BeastRequest request) {
  co_return co_await server_accept(std::move(stream), std::move(request));
}
asio::awaitable<Result<std::unique_ptr<WebSocket>>> accept_websocket(TlsStream stream, BeastRequest request) {
  co_return co_await server_accept(std::move(stream), std::move(request));
}
}  // namespace detail

asio::awaitable<Result<std::unique_ptr<WebSocket>>> WebSocket::connect(asio::any_io_executor ex, Endpoint endpoint,
                                                                       WebSocketOptions options,
                                                                       unsigned* refused_status) {
  auto tcp_stream = co_await open_tcp(ex, endpoint, options.client);
  if (!tcp_stream) co_return tcp_stream.error();
  Result<std::unique_ptr<Impl>> impl = make_error_code(Errc::closed);
  if (!endpoint.tls) {
    impl = co_await client_upgrade<PlainStream>(std::make_unique<Impl>(std::move(*tcp_stream)), endpoint, options,
                                                refused_status);
  } else {
    auto ctx = client_tls_context(options.client.tls);
    if (!ctx) co_return ctx.error();
    TlsStream tls(std::move(*tcp_stream), **ctx);
    if (auto ec = prepare_client_tls(tls, endpoint.host, options.client.tls.verify)) co_return ec;
    beast::get_lowest_layer(tls).expires_after(options.client.connect_timeout);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec == beast::error::timeout) co_return make_error_code(Errc::connect_timeout);
    if (hec) co_return std::error_code(hec);
    auto p = std::make_unique<Impl>(std::move(tls));
    p->ctx = *ctx;
    impl = co_await client_upgrade<TlsStream>(std::move(p), endpoint, options, refused_status);
  }
  if (!impl) co_return impl.error();
  co_return std::make_unique<WebSocket>(std::move(*impl));
}

asio::awaitable<Result<WsMessage>> WebSocket::read() {
  auto& impl = *impl_;
  impl.buffer.consume(impl.buffer.size());
  if (!impl.open) co_return impl.not_open();
  if (auto payload = impl.visit([&](auto& ws) { return impl.take_buffered_message(ws); })) {
    ++impl.stats.messages_in;
    ++impl.stats.buffered_messages_in;
    impl.stats.bytes_in += payload->size();
    co_return WsMessage{true, *payload};
  }
  auto [ec, n] = co_await impl.visit([&](auto& ws) { return ws.async_read(impl.buffer, use_tuple); });
  if (ec) {
    impl.open = false;
    co_return impl.error(ec);
  }
  const bool binary = impl.visit([](auto& ws) { return ws.got_binary(); });
  ++impl.stats.messages_in;
  impl.stats.bytes_in += n;
  auto data = impl.buffer.cdata();
  co_return WsMessage{binary, {static_cast<const std::uint8_t*>(data.data()), data.size()}};
}

asio::awaitable<std::error_code> WebSocket::write(std::span<const std::uint8_t> data, bool binary, bool batch) {
  auto& impl = *impl_;
  if (!impl.open) co_return impl.not_open();
  const auto ec = co_await impl.visit([&](auto& w) { return impl.write_message(w, data, binary, batch); });
  if (ec) {
    impl.open = false;
    co_return impl.error(ec);
  }
  ++impl.stats.messages_out;
  impl.stats.bytes_out += data.size();
  co_return std::error_code{};
}

void WebSocket::flush() {
  if (!impl_->open) return;
  impl_->visit([](auto& ws) { ws.next_layer().hold(false); });
}

asio::awaitable<std::error_code> WebSocket::drain() {
  auto& impl = *impl_;
  if (!impl.open) co_return impl.not_open();
  auto [ec] = co_await impl.visit([&](auto& ws) {
    ws.next_layer().hold(false);
    return ws.next_layer().async_drain(use_tuple);
  });
  co_return ec ? impl.error(ec) : std::error_code{};
}

asio::awaitable<std::error_code> WebSocket::ping(std::string_view payload) {
  auto& impl = *impl_;
  if (!impl.open) co_return impl.not_open();
  const auto part = payload.substr(0, std::min<std::size_t>(payload.size(), websocket::ping_data::static_capacity));
  websocket::ping_data data(part.data(), part.size());
  auto [ec] = co_await impl.visit([&](auto& ws) { return ws.async_ping(data, use_tuple); });
  co_return ec ? impl.error(ec) : std::error_code{};
}

asio::awaitable<void> WebSocket::close_gracefully() {
  auto& impl = *impl_;
  if (!impl.open) co_return;
  impl.stop_watch();  // the close handshake has its own timeout
  impl.visit([](auto& ws) {
    ws.next_layer().hold(false);
    websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::client);
    t.handshake_timeout = kCloseTimeout;
    t.idle_timeout = websocket::stream_base::none();
    ws.set_option(t);
  });
  co_await impl.visit([&](auto& ws) { return ws.async_close(websocket::close_code::normal, use_tuple); });
  abort();
}

void WebSocket::abort() {
  if (!impl_) return;
  impl_->open = false;
  impl_->stop_watch();
  impl_->close_socket();
}

bool WebSocket::is_open() const { return impl_ && impl_->open; }
const WsStats& WebSocket::stats() const {
  impl_->stats.socket_writes = impl_->visit([](auto& ws) { return ws.next_layer().socket_writes(); });
  return impl_->stats;
}

}  // namespace ssmc::net
