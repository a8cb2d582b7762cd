// HTTP client/server, WebSocket (plain, TLS, refused), proxy CONNECT and
// proxy selection, on loopback.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <functional>

#include "net/http.hpp"
#include "net/websocket.hpp"

namespace ssmc::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
// Named arguments: GCC 12 mis-destroys temporaries inside co_await expressions.
const HttpRequest empty_request;
const WebSocketOptions default_ws;

/// Runs `body` as a coroutine on a fresh io_context until it finishes.
void run(asio::io_context& io, std::function<awaitable<void>()> body) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
    io.stop();
  });
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(done) << "test coroutine did not finish in 30 s";
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
      co_await asio::async_write(client, asio::buffer(std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")),
                                 asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    std::string authority = text.substr(8, text.find(' ', 8) - 8);
    auto colon = authority.rfind(':');
    asio::ip::tcp::socket upstream(client.get_executor());
    auto [cec] = co_await upstream.async_connect(
        {asio::ip::make_address(authority.substr(0, colon)),
         static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)))},
        asio::as_tuple(asio::use_awaitable));
    if (cec) co_return;
    ++tunnels;
    co_await asio::async_write(client, asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")),
                               asio::as_tuple(asio::use_awaitable));
    auto ex = client.get_executor();
    auto c = std::make_shared<asio::ip::tcp::socket>(std::move(client));
    auto u = std::make_shared<asio::ip::tcp::socket>(std::move(upstream));
    asio::co_spawn(ex, [this, c, u]() -> awaitable<void> { co_await pipe(*c, *u); }, asio::detached);
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
  EXPECT_EQ(parse_endpoint("wss://ssmmessages.us-east-1.amazonaws.com:443x/v1").error(), make_error_code(Errc::bad_url));
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
