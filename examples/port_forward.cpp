// port_forward: a local TCP listener in front of one ssmc::PortSession, like
// `ssmc forward`. Every accepted connection becomes one stream of the session
// (PortSession::async_open_stream) and bytes are copied both ways, half-closes
// included. Written with C++20 coroutines (co_spawn, use_awaitable, &&).
//
//   port_forward [--bind ADDR] [--local-port N] [--remote-host HOST]
//                [--connections N] [--self-test BYTES] TARGET REMOTE_PORT
//
// --connections N ends the session after N connections have closed.
// --self-test BYTES connects to its own listener three times at once, sends
// BYTES through each and checks that the same bytes come back (use it with an
// echo server as the remote port), then exits.
//
// Against ssmc-emulator (docs/emulator.md; set AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL as shown there):
//   port_forward --local-port 8080 i-0123456789abcdef0 8000   # then: curl localhost:8080
//
// RUN: --self-test 100000 $TARGET $ECHO_PORT
// EXPECT: ^self-test: 3 connections, 300000 bytes echoed ok$
// EXPECT: ^connection 3 closed: 100000 bytes up, 100000 down$
#include <ssmc/ssmc.hpp>

// GCC 12 reports a false -Wmismatched-new-delete for Asio's coroutine frames
// when optimizing (Boost's allocator, not this code); Clang does not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <charconv>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;  // a && b: run both, wait for both
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);  // errors as values, no exceptions

struct Options {
  std::string target, remote_host, bind = "127.0.0.1";
  std::uint16_t remote_port = 0, local_port = 0;
  int connections = 0;  // 0: forward until SIGINT/SIGTERM
  std::size_t self_test = 0;
};

// Copies `from` to `to` until EOF, then passes the half-close on. Returns the byte count.
template <class From, class To>
asio::awaitable<std::size_t> pump(From& from, To& to) {
  std::array<char, 16384> buf;
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), tuple);
    if (ec == asio::error::eof) break;
    if (!ec) std::tie(ec, n) = co_await asio::async_write(to, asio::buffer(buf.data(), n), tuple);
    if (ec) {  // reset or closed: tear both sockets down so the other direction ends too
      from.shutdown(asio::socket_base::shutdown_both, ec);
      to.shutdown(asio::socket_base::shutdown_both, ec);
      co_return total;
    }
    total += n;
  }
  boost::system::error_code ignored;
  to.shutdown(asio::socket_base::shutdown_send, ignored);
  co_return total;
}

class Forwarder {
 public:
  Forwarder(asio::io_context& io, Options o)
      : opt_(std::move(o)), client_(io.get_executor(), {}), acceptor_(io), signals_(io, SIGINT, SIGTERM) {}
  int exit_code = 0;

  asio::awaitable<void> run() {
    // Listen first: a local mistake (port in use) should not cost a session.
    boost::system::error_code ec;
    const tcp::endpoint local(asio::ip::make_address(opt_.bind, ec), opt_.local_port);
    if (!ec) acceptor_.open(local.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(local, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) co_return fail("cannot listen on " + opt_.bind + ":" + std::to_string(opt_.local_port) + ": " +
                           ec.message());
    client_.set_event_handler([](const ssmc::SessionEvent& e) {  // reconnects are automatic; just tell
      if (e.type == ssmc::SessionEvent::Type::connection_lost) std::cerr << "connection lost: " << e.text << "\n";
    });
    auto [err, port] = co_await client_.async_connect_port(opt_.target, opt_.remote_host, opt_.remote_port, tuple);
    if (err) co_return fail("cannot start the port session: " + err.message);
    port_ = port;
    std::cout << "forwarding " << acceptor_.local_endpoint() << " -> " << opt_.target << " "
              << (opt_.remote_host.empty() ? "localhost" : opt_.remote_host) << ":" << opt_.remote_port
              << " (session " << port_.session_id() << ")" << std::endl;
    signals_.async_wait([this](boost::system::error_code e, int) {
      if (!e) port_.close();
    });
    const auto ex = acceptor_.get_executor();
    asio::co_spawn(ex, accept_loop(), asio::detached);
    if (opt_.self_test) asio::co_spawn(ex, self_test(acceptor_.local_endpoint()), asio::detached);

    auto [closed] = co_await port_.async_wait_closed(tuple);  // after close(), or the service ended it
    signals_.cancel();
    acceptor_.close(ec);  // ends accept_loop; relays end as their streams read EOF
    if (closed) fail("session ended: " + closed.message);
  }

 private:
  void fail(const std::string& message) {
    std::cerr << "port_forward: " << message << "\n";
    exit_code = 1;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (int id = 1;; ++id) {
      auto [ec, conn] = co_await acceptor_.async_accept(tuple);
      if (ec) co_return;  // the acceptor was closed
      asio::co_spawn(acceptor_.get_executor(), relay(std::move(conn), id), asio::detached);
    }
  }

  // One accepted connection <-> one stream of the session.
  asio::awaitable<void> relay(tcp::socket conn, int id) {
    auto [err, stream] = co_await port_.async_open_stream(tuple);
    if (err) {
      std::cerr << "connection " << id << ": " << err.message << "\n";
    } else {
      auto [up, down] = co_await (pump(conn, stream) && pump(stream, conn));
      std::cout << "connection " << id << " closed: " << up << " bytes up, " << down << " down" << std::endl;
    }
    if (++finished_ == opt_.connections) port_.close();
  }

  // Sends opt_.self_test bytes through our own listener and reads them back.
  // (Linux connects to 0.0.0.0 or :: as to loopback, so any --bind works.)
  asio::awaitable<std::size_t> echo_check(tcp::endpoint to, int seed) {
    tcp::socket s(co_await asio::this_coro::executor);
    if (auto [ec] = co_await s.async_connect(to, tuple); ec) co_return 0;
    std::string sent(opt_.self_test, '\0'), got;
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>((i * 7 + seed) & 0xff);
    auto writer = [&]() -> asio::awaitable<void> {  // concurrently with the reader: no deadlock on big payloads
      co_await asio::async_write(s, asio::buffer(sent), tuple);
      boost::system::error_code ignored;
      s.shutdown(asio::socket_base::shutdown_send, ignored);
    };
    auto reader = [&]() -> asio::awaitable<void> {
      std::array<char, 16384> buf;
      for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple);
        if (ec) break;
        got.append(buf.data(), n);
      }
    };
    co_await (writer() && reader());
    co_return got == sent ? got.size() : 0;
  }

  asio::awaitable<void> self_test(tcp::endpoint to) {
    auto [a, b, c] = co_await (echo_check(to, 1) && echo_check(to, 2) && echo_check(to, 3));
    if (a && b && c) std::cout << "self-test: 3 connections, " << a + b + c << " bytes echoed ok" << std::endl;
    else fail("self-test: what came back differs from what was sent");
    port_.close();
  }

  Options opt_;
  ssmc::Client client_;
  ssmc::PortSession port_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  int finished_ = 0;
};

template <class T>
bool parse_number(const char* s, T& out, T min) {
  auto [end, ec] = std::from_chars(s, s + std::strlen(s), out);
  return ec == std::errc() && *end == '\0' && out >= min;
}

int main(int argc, char** argv) {
  Options o;
  std::vector<const char*> positional;
  bool ok = true;
  for (int i = 1; i < argc && ok; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--bind" && has_value) o.bind = argv[++i];
    else if (a == "--remote-host" && has_value) o.remote_host = argv[++i];
    else if (a == "--local-port" && has_value) ok = parse_number<std::uint16_t>(argv[++i], o.local_port, 0);
    else if (a == "--connections" && has_value) ok = parse_number(argv[++i], o.connections, 1);
    else if (a == "--self-test" && has_value) ok = parse_number<std::size_t>(argv[++i], o.self_test, 1);
    else if (a.starts_with("--")) ok = false;
    else positional.push_back(argv[i]);
  }
  if (!ok || positional.size() != 2 || !parse_number<std::uint16_t>(positional[1], o.remote_port, 1)) {
    std::cerr << "usage: port_forward [--bind ADDR] [--local-port N] [--remote-host HOST] [--connections N]\n"
                 "                    [--self-test BYTES] TARGET REMOTE_PORT\n";
    return 2;
  }
  o.target = positional[0];
  asio::io_context io;
  Forwarder forwarder(io, std::move(o));
  asio::co_spawn(io, forwarder.run(), asio::detached);
  io.run();  // returns once the session, the listener and every relay are done
  return forwarder.exit_code;
}
