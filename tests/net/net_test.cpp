// HTTP client/server, WebSocket (plain, TLS, refused), proxy CONNECT and
// proxy selection, on loopback; faults from a byte-scripted peer (cut TLS,
// oversized messages and bodies).
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <functional>
#include <optional>
#include <sstream>

#include "crypto/base64.hpp"
#include "net/http.hpp"
#include "net/websocket.hpp"

namespace ssmc::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
// Named arguments: GCC 12 mis-destroys temporaries inside co_await expressions.
const HttpRequest empty_request;
const WebSocketOptions default_ws;

/// How long a test coroutine may run.
constexpr std::chrono::seconds kTestLimit{30};
/// How long a fault (cut TLS record, EOF, oversized message or response) may
/// take to end a read: well under the client's own timers (keep-alive 20 s,
/// read 30 s), so meeting it means the fault itself ended the read.
constexpr std::chrono::seconds kFaultLimit{5};

/// Runs `body` as a coroutine on a fresh io_context until it finishes.
void run(asio::io_context& io, std::function<awaitable<void>()> body, std::chrono::seconds limit = kTestLimit) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
    io.stop();
  });
  io.run_for(limit);
  ASSERT_TRUE(done) << "test coroutine did not finish in " << limit.count() << " s";
  if (error) std::rethrow_exception(error);
}

ServerHandlers echo_handlers() {
  ServerHandlers h;
  h.on_request = [](HttpRequest req, PeerInfo) -> awaitable<HttpResponse> {
    HttpResponse res{200, "OK", {{"X-Method", req.method}, {"X-Target", req.target}}, req.body};
    res.headers.push_back({"X-Seen-Host", std::string(find_header(req.headers, "host"))});
    co_return res;
  };
  h.on_upgrade = [](const HttpRequest& req, const PeerInfo&) -> std::optional<HttpResponse> {
    if (req.target.starts_with("/deny")) return HttpResponse{403, "Forbidden", {}, "no\n"};
    return std::nullopt;
  };
  h.on_websocket = [](HttpRequest, std::unique_ptr<WebSocket> ws, PeerInfo) -> awaitable<void> {
    for (;;) {
      auto m = co_await ws->read();
      if (!m) co_return;
      std::vector<std::uint8_t> copy(m->data.begin(), m->data.end());
      if (co_await ws->write(copy, m->binary)) co_return;
    }
  };
  return h;
}

TEST(Http, RequestAndResponseRoundTripWithHostAndBody) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server) << server.error().message();
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/a/b?x=1";
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint(url);
    EXPECT_TRUE(ep);
    HttpRequest req{"POST", ep->target, {{"Content-Type", "application/x-amz-json-1.1"}}, "{\"k\":1}"};
    ClientOptions opts;
    auto res = co_await http_request(io.get_executor(), *ep, req, opts);
    EXPECT_TRUE(res) << res.error().message();
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->body, "{\"k\":1}");
    EXPECT_EQ(find_header(res->headers, "x-method"), "POST");
    EXPECT_EQ(find_header(res->headers, "X-Target"), "/a/b?x=1");
    EXPECT_EQ(find_header(res->headers, "x-seen-host"), ep->authority);
  });
}

TEST(Http, ConnectRefusedIsAnErrorNotAHang) {
  asio::io_context io;
  // Bind then close a port so nothing listens there.
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string(port) + "/");
    ClientOptions opts;
    HttpRequest req;
    auto res = co_await http_request(io.get_executor(), *ep, req, opts);
    EXPECT_FALSE(res);
  });
}

TEST(Http, ReadTimeoutWhenServerNeverAnswers) {
  asio::io_context io;
  ServerHandlers h;
  h.on_request = [&io](HttpRequest, PeerInfo) -> awaitable<HttpResponse> {
    asio::steady_timer t(io, std::chrono::seconds(10));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return HttpResponse{200, "OK", {}, ""};
  };
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, h);
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    ClientOptions opts;
    opts.read_timeout = std::chrono::milliseconds(200);
    auto res = co_await http_request(io.get_executor(), *ep, empty_request, opts);
    EXPECT_EQ(res.error(), make_error_code(Errc::read_timeout));
    (*server)->stop();
  });
}

TEST(WebSocket, BinaryAndTextEchoOverPlainTcp) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/v1/data-channel/s-1?role=x");
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, default_ws);
    EXPECT_TRUE(ws) << ws.error().message();
    std::vector<std::uint8_t> big(70000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
    EXPECT_FALSE(co_await (*ws)->write(big, true));
    auto m = co_await (*ws)->read();
    EXPECT_TRUE(m);
    EXPECT_TRUE(m->binary);
    EXPECT_TRUE(std::equal(m->data.begin(), m->data.end(), big.begin(), big.end()));
    const std::string text = "{\"MessageSchemaVersion\":\"1.0\"}";
    EXPECT_FALSE(co_await (*ws)->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, false));
    m = co_await (*ws)->read();
    EXPECT_FALSE(m->binary);
    EXPECT_EQ(std::string(m->data.begin(), m->data.end()), text);
    EXPECT_FALSE(co_await (*ws)->ping());
    co_await (*ws)->close_gracefully();
    EXPECT_FALSE((*ws)->is_open());
  });
}

TEST(WebSocket, TlsWithTrustedSelfSignedCertificate) {
  asio::io_context io;
  auto cert = make_self_signed_certificate({"127.0.0.1", "localhost"});
  ASSERT_TRUE(cert);
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, *cert, echo_handlers());
  ASSERT_TRUE(server) << server.error().message();
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("wss://127.0.0.1:" + std::to_string((*server)->port()) + "/x");
    WebSocketOptions opts;
    opts.client.tls.ca_pem = cert->certificate_pem;
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, opts);
    EXPECT_TRUE(ws) << ws.error().message();
    const std::vector<std::uint8_t> data{1, 2, 3};
    EXPECT_FALSE(co_await (*ws)->write(data));
    auto m = co_await (*ws)->read();
    EXPECT_TRUE(m);
    EXPECT_EQ(std::vector<std::uint8_t>(m->data.begin(), m->data.end()), data);
    (*ws)->abort();

    // Without trusting the certificate the handshake must fail.
    auto untrusted = co_await WebSocket::connect(io.get_executor(), *ep, default_ws);
    EXPECT_FALSE(untrusted);
    // And a TLS HTTP request to the same server works with the CA.
    ClientOptions copts;
    copts.tls.ca_pem = cert->certificate_pem;
    auto hep = parse_endpoint("https://127.0.0.1:" + std::to_string((*server)->port()) + "/h");
    auto res = co_await http_request(io.get_executor(), *hep, empty_request, copts);
    EXPECT_TRUE(res) << res.error().message();
    EXPECT_EQ(res->status, 200u);
  });
}

TEST(WebSocket, RefusedUpgradeReportsTheHttpStatus) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/deny");
    unsigned status = 0;
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, default_ws, &status);
    EXPECT_EQ(ws.error(), make_error_code(Errc::upgrade_refused));
    EXPECT_EQ(status, 403u);
  });
}

TEST(WebSocket, SilentPeerIsDetectedByTheIdleTimeout) {
  asio::io_context io;
  ServerHandlers h = echo_handlers();
  // A server that accepts and then never reads (so it never answers pings).
  std::vector<std::unique_ptr<WebSocket>> parked;
  h.on_websocket = [&](HttpRequest, std::unique_ptr<WebSocket> ws, PeerInfo) -> awaitable<void> {
    parked.push_back(std::move(ws));
    co_return;
  };
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, h);
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    WebSocketOptions opts;
    opts.idle_timeout = std::chrono::milliseconds(400);
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, opts);
    EXPECT_TRUE(ws);
    auto m = co_await (*ws)->read();
    EXPECT_EQ(m.error(), make_error_code(Errc::peer_unresponsive));
  });
}

TEST(WebSocket, QuietButLivePeerIsKeptByPings) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    WebSocketOptions opts;
    constexpr auto kIdle = std::chrono::milliseconds(300);
    opts.idle_timeout = kIdle;
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, opts);
    EXPECT_TRUE(ws);
    if (!ws) co_return;
    // Nothing but pings and their pongs for four idle periods, then a message.
    asio::steady_timer quiet(io, 4 * kIdle);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          (void)co_await quiet.async_wait(asio::as_tuple(asio::use_awaitable));
          const std::vector<std::uint8_t> hello{'h', 'i'};
          (void)co_await (*ws)->write(hello, true);
        },
        asio::detached);
    auto m = co_await (*ws)->read();
    EXPECT_TRUE(m) << m.error().message();
    if (m) {
      EXPECT_EQ(std::string(m->data.begin(), m->data.end()), "hi");
    }
    EXPECT_GE((*ws)->stats().pongs_in, 4u) << "a ping every half idle period, each answered";
  });
}

/// Payload of the i-th message of the batching tests: its index, then filler.
std::vector<std::uint8_t> numbered(std::size_t i, std::size_t size) {
  std::vector<std::uint8_t> m(size, static_cast<std::uint8_t>(i * 13));
  const std::string head = std::to_string(i) + ":";
  std::copy(head.begin(), head.end(), m.begin());
  return m;
}

TEST(WebSocket, BatchedWritesShareSystemCallsAndWaitForTheFlush) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, default_ws);
    EXPECT_TRUE(ws);
    auto& w = **ws;
    // Held: nothing reaches the echo server before flush().
    const auto first = numbered(0, 100);
    EXPECT_FALSE(co_await w.write(first, true, true));
    bool echoed = false;
    std::vector<std::uint8_t> got;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          auto m = co_await w.read();
          if (m) got.assign(m->data.begin(), m->data.end());
          echoed = true;
        },
        asio::detached);
    asio::steady_timer t(io, std::chrono::milliseconds(300));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_FALSE(echoed) << "a batched message left before flush()";
    const auto writes_before = w.stats().socket_writes;
    w.flush();
    while (!echoed) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_EQ(got, first);
    EXPECT_EQ(w.stats().socket_writes, writes_before + 1);
    // 200 messages of 1 KiB in a batch: a handful of system calls, all echoed in order.
    constexpr std::size_t kCount = 200;
    std::vector<std::vector<std::uint8_t>> sent;
    for (std::size_t i = 1; i <= kCount; ++i) sent.push_back(numbered(i, 1024));
    const auto writes_start = w.stats().socket_writes;
    for (const auto& m : sent) EXPECT_FALSE(co_await w.write(m, true, true));
    w.flush();
    EXPECT_LE(w.stats().socket_writes - writes_start, 2u);
    for (const auto& m : sent) {
      auto r = co_await w.read();
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_TRUE(std::equal(r->data.begin(), r->data.end(), m.begin(), m.end()));
    }
    co_await w.close_gracefully();
  });
}

TEST(WebSocket, BatchOverTheLimitFlushesItselfAndSmallMessagesArriveInOrder) {
  asio::io_context io;
  ServerHandlers h = echo_handlers();
  // Asked for N, the server batch-writes N small messages and never flushes:
  // the coalescing limit alone must push them out, and the client reads them
  // back to back (several per socket read).
  constexpr std::size_t kCount = 3000, kSize = 200;
  h.on_websocket = [&](HttpRequest, std::unique_ptr<WebSocket> ws, PeerInfo) -> awaitable<void> {
    auto ask = co_await ws->read();
    if (!ask) co_return;
    for (std::size_t i = 0; i < kCount; ++i) {
      const auto m = numbered(i, kSize);
      if (co_await ws->write(m, true, true)) co_return;
    }
    auto rest = co_await ws->read();  // held until the client's close; then flushed by it
    (void)rest;
  };
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, h);
  ASSERT_TRUE(server);
  run(io, [&]() -> awaitable<void> {
    auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    auto ws = co_await WebSocket::connect(io.get_executor(), *ep, default_ws);
    EXPECT_TRUE(ws);
    const std::uint8_t go[] = {'g'};
    EXPECT_FALSE(co_await (*ws)->write(go));
    // Everything up to the last full 256 KiB is pushed out by the limit.
    const std::size_t expect = (kCount * (kSize + 4)) / (256 * 1024) * (256 * 1024) / (kSize + 4);
    for (std::size_t i = 0; i + 1 < expect; ++i) {
      auto r = co_await (*ws)->read();
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_EQ(std::vector<std::uint8_t>(r->data.begin(), r->data.end()), numbered(i, kSize));
    }
    (*ws)->abort();
  });
}

// ------------------------------------------------------------------------
// Faults HttpServer never produces, from a peer scripted byte by byte.

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing with SHA-1.
constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// RFC 6455 §5.2 opcodes.
constexpr std::uint8_t kBinaryFrame = 0x2, kCloseFrame = 0x8;
/// RFC 6455 §7.4.1: "a message that is too big for it to process".
constexpr unsigned kCloseMessageTooBig = 1009;

/// An Asio/Beast error enum as the std::error_code the net layer returns.
template <class E>
std::error_code boost_code(E e) {
  return boost::system::error_code(e);
}

/// A server-to-client frame header: FIN set, no mask (RFC 6455 §5.2).
std::string frame_header(std::uint8_t opcode, std::uint64_t length) {
  std::string h(1, static_cast<char>(0x80 | opcode));
  int bytes = 0;
  if (length < 126) {
    h += static_cast<char>(length);
  } else if (length <= 0xFFFF) {
    h += static_cast<char>(126);
    bytes = 2;
  } else {
    h += static_cast<char>(127);
    bytes = 8;
  }
  for (int i = bytes - 1; i >= 0; --i) h += static_cast<char>((length >> (8 * i)) & 0xFF);
  return h;
}

/// A loopback server whose bytes the test writes itself: a TLS record cut
/// short, an EOF without close_notify, a frame header or a Content-Length
/// announcing more than the client accepts. TLS when given a certificate.
class RawPeer {
  asio::ip::tcp::socket& tcp() { return conn_->next_layer(); }
  /// f(stream) on the TLS stream, or on the TCP socket without TLS.
  template <class F>
  auto with_stream(F f) {
    return tls_ ? f(*conn_) : f(tcp());
  }

 public:
  RawPeer(asio::io_context& io, const ServerTls* tls)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), tls_(tls != nullptr) {
    if (tls) {
      ctx_.use_certificate_chain(asio::buffer(tls->certificate_pem));
      ctx_.use_private_key(asio::buffer(tls->private_key_pem), asio::ssl::context::pem);
    }
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  /// Accepts the next connection (closing the previous one) and, with TLS,
  /// completes the handshake.
  awaitable<bool> accept() {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec) co_return false;
    conn_.emplace(std::move(socket), ctx_);
    in_.clear();
    if (!tls_) co_return true;
    auto [hec] = co_await conn_->async_handshake(asio::ssl::stream_base::server, use_tuple);
    co_return !hec;
  }
  /// Reads a request head, up to and with the blank line; empty on error.
  awaitable<std::string> read_head() {
    auto [ec, n] = co_await with_stream(
        [this](auto& s) { return asio::async_read_until(s, asio::dynamic_buffer(in_), "\r\n\r\n", use_tuple); });
    if (ec) co_return std::string();
    std::string head = in_.substr(0, n);
    in_.erase(0, n);
    co_return head;
  }
  /// Reads exactly `n` bytes; empty on error.
  awaitable<std::string> read_exactly(std::size_t n) {
    std::array<char, 4096> buf;
    while (in_.size() < n) {
      auto [ec, got] = co_await with_stream([&](auto& s) { return s.async_read_some(asio::buffer(buf), use_tuple); });
      if (ec) co_return std::string();
      in_.append(buf.data(), got);
    }
    std::string out = in_.substr(0, n);
    in_.erase(0, n);
    co_return out;
  }
  /// Writes `bytes` (through TLS if any).
  awaitable<bool> send(std::string bytes) {
    auto [ec, n] = co_await with_stream([&](auto& s) { return asio::async_write(s, asio::buffer(bytes), use_tuple); });
    co_return !ec;
  }
  /// Writes `bytes` on the TCP socket, under TLS rather than through it.
  awaitable<bool> send_raw(std::string bytes) {
    auto [ec, n] = co_await asio::async_write(tcp(), asio::buffer(bytes), use_tuple);
    co_return !ec;
  }
  /// Answers a WebSocket upgrade request with 101 (RFC 6455 §4.2.2), and
  /// `then` in the same write.
  awaitable<bool> accept_websocket(std::string then = {}) {
    const std::string head = co_await read_head();
    constexpr std::string_view kKeyHeader = "Sec-WebSocket-Key: ";
    const auto at = head.find(kKeyHeader);
    if (at == std::string::npos) co_return false;
    const auto start = at + kKeyHeader.size();
    const std::string keyed = head.substr(start, head.find("\r\n", start) - start) + std::string(kWebSocketGuid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(keyed.data(), keyed.size(), digest, &length, EVP_sha1(), nullptr) != 1) co_return false;
    const std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
        crypto::base64_encode({digest, length}) + "\r\n\r\n";
    co_return co_await send(response + then);
  }
  /// Small writes leave at once (no Nagle delay): the client sees them apart.
  void no_delay() { tcp().set_option(asio::ip::tcp::no_delay(true)); }
  /// Ends the TCP connection (FIN) without a TLS close_notify.
  void drop() {
    boost::system::error_code ignored;
    tcp().shutdown(asio::socket_base::shutdown_both, ignored);
    tcp().close(ignored);
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
  asio::ssl::context ctx_{asio::ssl::context::tls_server};
  bool tls_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> conn_;
  std::string in_;  ///< bytes read but not consumed yet
};

/// Opens ws://127.0.0.1:`port`/ with `opts`; nullptr (and a test failure)
/// when that fails.
awaitable<std::unique_ptr<WebSocket>> connect_loopback(asio::io_context& io, std::uint16_t port,
                                                       WebSocketOptions opts) {
  auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string(port) + "/");
  auto ws = co_await WebSocket::connect(io.get_executor(), *ep, opts);
  if (!ws) {
    ADD_FAILURE() << "connect: " << ws.error().message();
    co_return nullptr;
  }
  co_return std::move(*ws);
}

/// A frame from the server (unmasked), with FIN and opcode as given.
std::string server_frame(bool fin, std::uint8_t opcode, std::string_view payload) {
  std::string f = frame_header(opcode, payload.size());
  if (!fin) f[0] = static_cast<char>(opcode);
  return f + std::string(payload);
}

// The client takes whole binary messages out of its read buffer without
// Beast (issue #8) and leaves everything else to Beast. A server that
// speaks first (frames in the same segment as its 101), then a ping, a
// fragmented message, a text message and binary ones, the rest cut into
// writes of 1 to 7 bytes (frame headers split anywhere): every message
// arrives whole and in order, and the ping is answered.
TEST(WebSocket, MessagesArriveWholeAndInOrderHoweverTheBytesAreCut) {
  asio::io_context io;
  RawPeer peer(io, nullptr);
  const std::string big(300, 'x');
  const std::string first = server_frame(true, kBinaryFrame, "one") + server_frame(true, 0x9, "p1");
  const std::string rest = server_frame(false, kBinaryFrame, "fr") + server_frame(true, 0x0, "ag") +
                           server_frame(true, 0x1, "txt") + server_frame(true, kBinaryFrame, big) +
                           server_frame(true, kBinaryFrame, "") + server_frame(true, kBinaryFrame, "last");
  std::string pong;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await peer.accept()) co_return;
        peer.no_delay();
        if (!co_await peer.accept_websocket(first)) co_return;  // speaks first
        asio::steady_timer gap(io);
        for (std::size_t i = 0, cut = 1; i < rest.size(); i += cut, cut = cut % 7 + 1) {
          if (!co_await peer.send(rest.substr(i, cut))) co_return;
          gap.expires_after(std::chrono::microseconds(300));
          co_await gap.async_wait(use_tuple);
        }
        // The client's pong: FIN|pong, MASK|2, a 4-byte key, "p1" masked.
        const std::string p = co_await peer.read_exactly(8);
        if (p.size() == 8 && static_cast<std::uint8_t>(p[0]) == 0x8a) {
          for (int i = 6; i < 8; ++i) pong += static_cast<char>(p[i] ^ p[2 + (i - 6) % 4]);
        }
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        WebSocketOptions opts;
        opts.idle_timeout = Duration::zero();
        auto ws = co_await connect_loopback(io, peer.port(), opts);
        if (!ws) co_return;
        const std::vector<std::pair<bool, std::string>> want{
            {true, "one"}, {true, "frag"}, {false, "txt"}, {true, big}, {true, ""}, {true, "last"}};
        for (const auto& [binary, text] : want) {
          auto m = co_await ws->read();
          if (!m) {
            ADD_FAILURE() << "read: " << m.error().message() << " (expected \"" << text.substr(0, 10) << "\")";
            co_return;
          }
          EXPECT_EQ(m->binary, binary) << text.substr(0, 10);
          EXPECT_EQ(std::string(m->data.begin(), m->data.end()), text);
        }
        EXPECT_EQ(ws->stats().pings_in, 1u);
        EXPECT_EQ(ws->stats().messages_in, want.size());
        EXPECT_GE(ws->stats().buffered_messages_in, 1u) << "\"one\" came with the 101: taken without Beast";
      },
      kFaultLimit);
  io.restart();
  io.run_for(std::chrono::milliseconds(200));  // the peer reads the pong
  EXPECT_EQ(pong, "p1");
}

// RFC 6455 §5.2: a 64-bit length with its most significant bit set is not a
// length. Frame mode hands it to Beast unparsed, which refuses it at its
// header (a Close, then the read fails once the peer hangs up); the layer
// neither waits for nor delivers a frame of that "size".
TEST(WebSocket, LengthWithTheTopBitSetFailsTheReadAtOnce) {
  asio::io_context io;
  RawPeer peer(io, nullptr);
  // 2^64 - 10: with its 10-byte header the frame "size" would wrap to 0.
  std::string bad{static_cast<char>(0x80 | kBinaryFrame), static_cast<char>(127)};
  bad += std::string(7, static_cast<char>(0xff)) + static_cast<char>(0xf6) + "abc";
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await peer.accept() || !co_await peer.accept_websocket()) co_return;
        (void)co_await peer.send(server_frame(true, kBinaryFrame, "ok") + bad);
        (void)co_await peer.read_exactly(8);  // the client's Close (masked, 2-byte code)
        peer.drop();
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        WebSocketOptions opts;
        opts.idle_timeout = Duration::zero();  // only the bad frame can end the read
        auto ws = co_await connect_loopback(io, peer.port(), opts);
        if (!ws) co_return;
        auto first = co_await ws->read();
        EXPECT_TRUE(first);
        auto second = co_await ws->read();
        EXPECT_FALSE(second) << "a frame with an invalid length was delivered";
      },
      kFaultLimit);
}

/// A wss:// peer completes the handshake and the upgrade, sends one whole
/// message, writes `tail` on the TCP socket under TLS and drops TCP without
/// close_notify: the message arrives, then the next read fails at once as a
/// truncated TLS stream, never as the orderly Errc::closed.
void expect_cut_tls_fails_the_read(std::string tail) {
  asio::io_context io;
  auto cert = make_self_signed_certificate({"127.0.0.1"});
  ASSERT_TRUE(cert);
  RawPeer peer(io, &*cert);
  const std::vector<std::uint8_t> payload{1, 2, 3};
  const std::string message = frame_header(kBinaryFrame, payload.size()) + std::string(payload.begin(), payload.end());
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await peer.accept() || !co_await peer.accept_websocket()) co_return;
        if (!co_await peer.send(message)) co_return;
        if (!tail.empty()) co_await peer.send_raw(tail);
        peer.drop();
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        auto ep = parse_endpoint("wss://127.0.0.1:" + std::to_string(peer.port()) + "/");
        WebSocketOptions opts;
        opts.client.tls.ca_pem = cert->certificate_pem;
        opts.idle_timeout = Duration::zero();  // only the fault can end the read
        auto ws = co_await WebSocket::connect(io.get_executor(), *ep, opts);
        if (!ws) {
          ADD_FAILURE() << "connect: " << ws.error().message();
          co_return;
        }
        auto whole = co_await (*ws)->read();
        EXPECT_TRUE(whole) << whole.error().message();
        if (whole) {
          EXPECT_EQ(std::vector<std::uint8_t>(whole->data.begin(), whole->data.end()), payload);
        }
        auto cut = co_await (*ws)->read();
        EXPECT_FALSE(cut) << "a cut TLS stream delivered a message";
        if (!cut) {
          EXPECT_NE(cut.error(), make_error_code(Errc::closed)) << "truncation reported as an orderly close";
          EXPECT_EQ(cut.error(), boost_code(asio::ssl::error::stream_truncated)) << cut.error().message();
        }
        EXPECT_FALSE((*ws)->is_open());
      },
      kFaultLimit);
}

TEST(WebSocket, TlsRecordCutShortFailsTheReadAsTruncated) {
  // A TLS 1.2/1.3 application-data record header announcing 64 bytes, and 10
  // of them: what the client sees when a record is cut on the wire.
  expect_cut_tls_fails_the_read(std::string("\x17\x03\x03\x00\x40", 5) + std::string(10, '\x5a'));
}

TEST(WebSocket, TlsEofWithoutCloseNotifyFailsTheReadAsTruncated) { expect_cut_tls_fails_the_read(""); }

/// Content-Length promised by the cut responses below, and the part sent.
constexpr std::size_t kPromisedBody = 1000, kSentBody = 100;

/// A server (TLS when `tls` is given) that answers with a response promising
/// kPromisedBody bytes, sends kSentBody and drops the connection (no
/// close_notify): the request must fail with `expected`, never return a body.
void expect_cut_response_fails(const ServerTls* tls, std::error_code expected) {
  asio::io_context io;
  RawPeer peer(io, tls);
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kPromisedBody) + "\r\n\r\n" + std::string(kSentBody, 'a');
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await peer.accept()) co_return;
        const std::string request = co_await peer.read_head();
        if (!request.empty() && co_await peer.send(response)) peer.drop();
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        auto ep =
            parse_endpoint(std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(peer.port()) + "/");
        ClientOptions opts;
        if (tls) opts.tls.ca_pem = tls->certificate_pem;
        auto res = co_await http_request(io.get_executor(), *ep, empty_request, opts);
        EXPECT_FALSE(res) << "a cut response was returned with a body of " << res->body.size() << " bytes";
        if (!res) {
          EXPECT_EQ(res.error(), expected) << res.error().message();
        }
      },
      kFaultLimit);
}

TEST(Http, TlsResponseCutShortIsAnErrorNotATruncatedBody) {
  auto cert = make_self_signed_certificate({"127.0.0.1"});
  ASSERT_TRUE(cert);
  expect_cut_response_fails(&*cert, boost_code(asio::ssl::error::stream_truncated));
}

TEST(Http, ResponseCutShortOverTcpIsAnErrorNotATruncatedBody) {
  expect_cut_response_fails(nullptr, boost_code(boost::beast::http::error::partial_message));
}

/// A max_message small enough to be beaten by kOversizedMessage.
constexpr std::size_t kSmallMaxMessage = 64 * 1024;
constexpr std::size_t kOversizedMessage = 1024 * 1024;

TEST(WebSocket, MessageOverMaxMessageFailsTheReadAndEndsTheConnection) {
  asio::io_context io;
  ServerHandlers h = echo_handlers();
  // Set once the server's read after its oversized write has ended.
  std::optional<std::error_code> server_read;
  asio::steady_timer server_done(io, kFaultLimit / 2);
  h.on_websocket = [&](HttpRequest, std::unique_ptr<WebSocket> ws, PeerInfo) -> awaitable<void> {
    const std::vector<std::uint8_t> big(kOversizedMessage, 0x5a);
    co_await ws->write(big);
    auto m = co_await ws->read();
    server_read = m ? std::error_code() : m.error();
    server_done.expires_at(asio::steady_timer::time_point::min());
  };
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, h);
  ASSERT_TRUE(server);
  run(
      io,
      [&]() -> awaitable<void> {
        WebSocketOptions opts;
        opts.max_message = kSmallMaxMessage;
        opts.idle_timeout = Duration::zero();
        auto ws = co_await connect_loopback(io, (*server)->port(), opts);
        if (!ws) co_return;
        auto m = co_await ws->read();
        EXPECT_FALSE(m) << "a " << kOversizedMessage << "-byte message passed max_message " << kSmallMaxMessage;
        if (!m) {
          EXPECT_EQ(m.error(), boost_code(boost::beast::websocket::error::message_too_big)) << m.error().message();
        }
        // The connection is over: no more reads or writes.
        EXPECT_FALSE(ws->is_open());
        auto again = co_await ws->read();
        EXPECT_EQ(again.error(), make_error_code(Errc::closed));
        const std::vector<std::uint8_t> data{1};
        EXPECT_EQ(co_await ws->write(data), make_error_code(Errc::closed));
        // And the server side learns it too.
        co_await server_done.async_wait(use_tuple);
        EXPECT_TRUE(server_read) << "the server's connection is still open";
        if (server_read) {
          EXPECT_EQ(*server_read, make_error_code(Errc::closed)) << server_read->message();
        }
      },
      kFaultLimit);
}

/// A ws:// peer that, after the upgrade, sends the header of a binary frame
/// announcing 1 GiB (and none of it), reads the client's Close frame and then
/// drops TCP or, with `silent`, stays connected and says nothing. Returns what
/// the client's read() returned, how long it took, and the Close code the
/// peer received.
struct OversizedFrameOutcome {
  std::optional<Result<WsMessage>> read;  ///< only its error is valid afterwards
  Duration took{};
  std::optional<unsigned> close_code;
};
void announce_oversized_frame(bool silent, Duration idle_timeout, OversizedFrameOutcome& out) {
  asio::io_context io;
  RawPeer peer(io, nullptr);
  // Announced and never sent: a client that waited for (or buffered) the
  // payload would still be reading when kFaultLimit ends the test.
  constexpr std::uint64_t kAnnounced = std::uint64_t{1} << 30;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await peer.accept() || !co_await peer.accept_websocket()) co_return;
        const std::string header = frame_header(kBinaryFrame, kAnnounced);
        if (!co_await peer.send(header)) co_return;
        // The client's Close: FIN|close, MASK|2, 4-byte mask, masked 2-byte code.
        const std::string close = co_await peer.read_exactly(8);
        if (close.size() == 8 && static_cast<std::uint8_t>(close[0]) == (0x80 | kCloseFrame)) {
          const auto unmasked = [&](int i) { return static_cast<std::uint8_t>(close[i] ^ close[i - 4]); };
          out.close_code = unsigned{unmasked(6)} << 8 | unmasked(7);
        }
        if (!silent) peer.drop();
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        WebSocketOptions opts;
        opts.idle_timeout = idle_timeout;
        auto ws = co_await connect_loopback(io, peer.port(), opts);
        if (!ws) co_return;
        const auto start = std::chrono::steady_clock::now();
        out.read = co_await ws->read();
        out.took = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(ws->is_open());
      },
      kFaultLimit);
}

TEST(WebSocket, FrameAnnouncingMoreThanMaxMessageFailsAtItsHeader) {
  OversizedFrameOutcome out;
  // No keep-alive: only the announcement and the peer's drop can end the read.
  announce_oversized_frame(false, Duration::zero(), out);
  ASSERT_TRUE(out.read);
  EXPECT_FALSE(*out.read) << "a frame over max_message was delivered";
  if (!*out.read) {
    EXPECT_EQ(out.read->error(), boost_code(boost::beast::websocket::error::message_too_big))
        << out.read->error().message();
  }
  EXPECT_EQ(out.close_code, kCloseMessageTooBig) << "the peer is told why (RFC 6455 §7.4.1)";
}

// Found by this test: Beast waits for the peer to finish the closing
// handshake; when the keep-alive timer cut that wait short the read failed
// with "Bad file descriptor" (EBADF from Beast's teardown), not a network error.
TEST(WebSocket, PeerSilentAfterOversizedFrameIsCutOffByTheKeepAlive) {
  constexpr auto kIdle = std::chrono::seconds(1);
  OversizedFrameOutcome out;
  announce_oversized_frame(true, kIdle, out);
  EXPECT_EQ(out.close_code, kCloseMessageTooBig);
  ASSERT_TRUE(out.read);
  EXPECT_FALSE(*out.read);
  if (!*out.read) {
    EXPECT_EQ(out.read->error(), make_error_code(Errc::peer_unresponsive)) << out.read->error().message();
  }
  // Measured from the last byte read (the frame header, just after `start`),
  // not Beast's 30 s closing-handshake timeout.
  constexpr auto kTimerSlack = std::chrono::milliseconds(250);
  EXPECT_GE(out.took, Duration(kIdle) - kTimerSlack) << "failed before the idle timeout";
  EXPECT_LE(out.took, Duration(kIdle) + kTimerSlack) << "the keep-alive timeout bounds the wait for a silent peer";
}

TEST(Http, ResponseOverTheBodyLimitIsRefusedAtItsHeader) {
  asio::io_context io;
  RawPeer peer(io, nullptr);
  std::ostringstream chunk_size;
  chunk_size << std::hex << kDefaultMaxResponseBody + 1;
  // Each announces one byte over the default limit and sends none of it, then
  // stays silent: only the announcement can end the client's read in time.
  // The last one is exactly at a small configured limit, body and all.
  constexpr std::size_t kSmallLimit = 1000;
  const std::vector<std::string> responses{
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kDefaultMaxResponseBody + 1) + "\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk_size.str() + "\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kSmallLimit) + "\r\n\r\n" + std::string(kSmallLimit, 'b'),
  };
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        for (const auto& response : responses) {
          if (!co_await peer.accept()) co_return;
          const std::string request = co_await peer.read_head();
          if (request.empty() || !co_await peer.send(response)) co_return;
        }
      },
      asio::detached);
  run(
      io,
      [&]() -> awaitable<void> {
        auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string(peer.port()) + "/");
        ClientOptions defaults;
        auto by_length = co_await http_request(io.get_executor(), *ep, empty_request, defaults);
        EXPECT_EQ(by_length.error(), make_error_code(Errc::response_too_large));
        auto by_chunk = co_await http_request(io.get_executor(), *ep, empty_request, defaults);
        EXPECT_EQ(by_chunk.error(), make_error_code(Errc::response_too_large));
        ClientOptions small;
        small.max_response_body = kSmallLimit;
        auto at_limit = co_await http_request(io.get_executor(), *ep, empty_request, small);
        EXPECT_TRUE(at_limit) << at_limit.error().message();
        if (at_limit) {
          EXPECT_EQ(at_limit->body, std::string(kSmallLimit, 'b'));
        }
      },
      kFaultLimit);
}

TEST(HttpServer, RequestOverTheSizeLimitGets413WithoutReachingTheHandler) {
  asio::io_context io;
  int handled = 0;
  ServerHandlers h;
  h.on_request = [&](HttpRequest req, PeerInfo) -> awaitable<HttpResponse> {
    ++handled;
    co_return HttpResponse{200, "OK", {}, std::to_string(req.body.size())};
  };
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, h);
  ASSERT_TRUE(server);
  run(
      io,
      [&]() -> awaitable<void> {
        // Announced over the limit, no body sent: answered from the head alone.
        asio::ip::tcp::socket client(io);
        auto [cec] = co_await client.async_connect({asio::ip::make_address("127.0.0.1"), (*server)->port()}, use_tuple);
        EXPECT_FALSE(cec) << cec.message();
        const std::string head =
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(kServerMaxRequestBody + 1) +
            "\r\n\r\n";
        co_await asio::async_write(client, asio::buffer(head), use_tuple);
        std::string answer;
        auto [rec, rn] = co_await asio::async_read_until(client, asio::dynamic_buffer(answer), "\r\n\r\n", use_tuple);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << answer;
        EXPECT_EQ(handled, 0);

        // Through the client, with the body: at the limit it is served; one
        // byte over it gets 413.
        auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
        ClientOptions opts;
        HttpRequest at_limit{"POST", "/", {}, std::string(kServerMaxRequestBody, 'c')};
        auto ok = co_await http_request(io.get_executor(), *ep, at_limit, opts);
        EXPECT_TRUE(ok) << ok.error().message();
        if (ok) {
          EXPECT_EQ(ok->status, 200u);
          EXPECT_EQ(ok->body, std::to_string(kServerMaxRequestBody));
        }
        HttpRequest over{"POST", "/", {}, std::string(kServerMaxRequestBody + 1, 'c')};
        auto refused = co_await http_request(io.get_executor(), *ep, over, opts);
        EXPECT_TRUE(refused) << refused.error().message();
        if (refused) {
          EXPECT_EQ(refused->status, 413u);
        }
        EXPECT_EQ(handled, 1);
      },
      kFaultLimit);
}

// A minimal CONNECT proxy on loopback, counting tunnels; refuses when asked.
struct TestProxy {
  asio::ip::tcp::acceptor acceptor;
  int tunnels = 0;
  bool refuse = false;
  std::string last_auth;
  explicit TestProxy(asio::io_context& io) : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  awaitable<void> pipe(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to) {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    to.shutdown(asio::socket_base::shutdown_send, ignored);
  }
  awaitable<void> handle(asio::ip::tcp::socket client) {
    asio::streambuf head;
    auto [ec, n] = co_await asio::async_read_until(client, head, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::string text(asio::buffers_begin(head.data()), asio::buffers_begin(head.data()) + static_cast<long>(n));
    head.consume(n);
    if (auto p = text.find("Proxy-Authorization: "); p != std::string::npos) {
      last_auth = text.substr(p + 21, text.find("\r\n", p) - p - 21);
    }
    if (refuse || !text.starts_with("CONNECT ")) {
      co_await asio::async_write(client,
                                 asio::buffer(std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")),
                                 asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    std::string authority = text.substr(8, text.find(' ', 8) - 8);
    auto colon = authority.rfind(':');
    asio::ip::tcp::socket upstream(client.get_executor());
    auto [cec] = co_await upstream.async_connect({asio::ip::make_address(authority.substr(0, colon)),
                                                  static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)))},
                                                 asio::as_tuple(asio::use_awaitable));
    if (cec) co_return;
    ++tunnels;
    co_await asio::async_write(client, asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")),
                               asio::as_tuple(asio::use_awaitable));
    auto ex = client.get_executor();
    auto c = std::make_shared<asio::ip::tcp::socket>(std::move(client));
    auto u = std::make_shared<asio::ip::tcp::socket>(std::move(upstream));
    asio::co_spawn(
        ex, [this, c, u]() -> awaitable<void> { co_await pipe(*c, *u); }, asio::detached);
    co_await pipe(*u, *c);
  }
  awaitable<void> accept() {
    for (;;) {
      auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(acceptor.get_executor(), handle(std::move(s)), asio::detached);
    }
  }
};

TEST(Proxy, HttpAndWebSocketGoThroughConnectTunnel) {
  asio::io_context io;
  auto server = HttpServer::start(io.get_executor(), "127.0.0.1", 0, std::nullopt, echo_handlers());
  ASSERT_TRUE(server);
  TestProxy proxy(io);
  run(io, [&]() -> awaitable<void> {
    ClientOptions opts;
    opts.proxy = Proxy{"127.0.0.1", proxy.acceptor.local_endpoint().port(), "user:pa ss"};
    auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string((*server)->port()) + "/p");
    auto res = co_await http_request(io.get_executor(), *ep, empty_request, opts);
    EXPECT_TRUE(res) << res.error().message();
    EXPECT_EQ(proxy.tunnels, 1);
    EXPECT_EQ(proxy.last_auth, "Basic dXNlcjpwYSBzcw==");
    WebSocketOptions wopts;
    wopts.client = opts;
    auto wep = parse_endpoint("ws://127.0.0.1:" + std::to_string((*server)->port()) + "/w");
    auto ws = co_await WebSocket::connect(io.get_executor(), *wep, wopts);
    EXPECT_TRUE(ws) << ws.error().message();
    EXPECT_EQ(proxy.tunnels, 2);
    (*ws)->abort();
    proxy.refuse = true;
    auto refused = co_await http_request(io.get_executor(), *ep, empty_request, opts);
    EXPECT_EQ(refused.error(), make_error_code(Errc::proxy_refused));
  });
}

TEST(Proxy, SelectionFollowsEnvironmentAndNoProxy) {
  auto aws = parse_endpoint("https://ssm.us-east-1.amazonaws.com/");
  auto plain = parse_endpoint("http://example.com/");
  auto local = parse_endpoint("https://127.0.0.1:8443/");
  ASSERT_TRUE(aws && plain && local);
  EnvMap env{{"HTTPS_PROXY", "http://proxy.corp:3128"}, {"http_proxy", "proxy2:8080"}};
  auto p = proxy_for(*aws, env);
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->host, "proxy.corp");
  EXPECT_EQ((*p)->port, 3128);
  auto p2 = proxy_for(*plain, env);
  ASSERT_TRUE(p2 && *p2);
  EXPECT_EQ((*p2)->host, "proxy2");
  EXPECT_EQ((*p2)->port, 8080);
  EXPECT_FALSE(*proxy_for(*local, env)) << "loopback never goes through a proxy";
  env["NO_PROXY"] = "example.org, .amazonaws.com";
  EXPECT_FALSE(*proxy_for(*aws, env));
  env["NO_PROXY"] = "amazonaws.com:444";
  EXPECT_TRUE(*proxy_for(*aws, env)) << "port must match";
  env["NO_PROXY"] = "*";
  EXPECT_FALSE(*proxy_for(*aws, env));
  EXPECT_EQ(proxy_for(*aws, {{"HTTPS_PROXY", "socks5://x:1"}}).error(), make_error_code(Errc::bad_proxy_url));
}

TEST(Url, EndpointsKeepAuthorityAndTargetAsWritten) {
  auto ep = parse_endpoint("wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe");
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->tls);
  EXPECT_TRUE(ep->websocket);
  EXPECT_EQ(ep->port, 443);
  EXPECT_FALSE(ep->explicit_port);
  EXPECT_EQ(ep->authority, "ssmmessages.us-east-1.amazonaws.com");
  EXPECT_EQ(ep->target, "/v1/data-channel/s-1?role=publish_subscribe");
  auto v6 = parse_endpoint("ws://[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->authority, "[::1]:8080");
  EXPECT_EQ(v6->target, "/");
  EXPECT_TRUE(is_loopback_host("127.3.4.5"));
  EXPECT_TRUE(is_loopback_host("[::1]"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_EQ(parse_endpoint("ftp://x/").error(), make_error_code(Errc::unsupported_scheme));
  EXPECT_EQ(parse_endpoint("wss://user:pw@host/").error(), make_error_code(Errc::bad_url));
  EXPECT_EQ(parse_endpoint("not a url").error(), make_error_code(Errc::bad_url));
}

// Fuzz finding (endpoint_fuzz, corpus/endpoint/endpoint-bad-port): Boost.URL
// 1.81 reads "https://h:8o" as port 8 and path "o", which became the request
// target "o". A path after an authority starts with '/': the port is bad.
TEST(Url, PortFollowedByTextIsABadUrlNotAPath) {
  EXPECT_EQ(parse_endpoint("https://h:8o").error(), make_error_code(Errc::bad_url));
  EXPECT_EQ(parse_endpoint("wss://ssmmessages.us-east-1.amazonaws.com:443x/v1").error(),
            make_error_code(Errc::bad_url));
  auto ep = parse_endpoint("https://h:8/o");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->target, "/o");
  auto target = parse_endpoint("https://ssm.us-east-1.amazonaws.com/");
  ASSERT_TRUE(target);
  EXPECT_EQ(proxy_for(*target, {{"HTTPS_PROXY", "http://proxy:3128x"}}).error(), make_error_code(Errc::bad_proxy_url));
  EXPECT_EQ(proxy_for(*target, {{"HTTPS_PROXY", "proxy:3128x"}}).error(), make_error_code(Errc::bad_proxy_url));
  auto p = proxy_for(*target, {{"HTTPS_PROXY", "http://proxy:3128/"}});
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->port, 3128);
}

}  // namespace
}  // namespace ssmc::net
