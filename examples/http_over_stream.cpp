// http_over_stream: one HTTP/1.1 GET to a port reachable from the target,
// over a stream of a port session, with no local listener: the program talks
// to the ssmc::Stream (a connected local socket) directly. Coroutines
// (use_awaitable) throughout. Prints the status line and the body; exits 0
// for a 2xx status, else 1.
//
//   http_over_stream [--remote-host HOST] TARGET PORT [PATH]
//
// HOST defaults to the target itself; PATH to "/". Reads the body up to
// Content-Length or, without one, to the end of the stream (Connection: close);
// chunked bodies are printed as they come. Against ssmc-emulator
// (docs/emulator.md; export its AWS_* settings; it may only reach loopback):
//   python3 -m http.server 8000 --bind 127.0.0.1 &
//   http_over_stream i-0123456789abcdef0 8000 /
//
// RUN: $TARGET $HTTP_PORT /hello
// RUN: --remote-host 127.0.0.1 $TARGET $HTTP_PORT
// EXPECT: ^HTTP/1\.[01] 200 OK$
// EXPECT: ^hello over a forwarded stream$
#include <ssmc/ssmc.hpp>

// GCC 12 reports a false -Wmismatched-new-delete for Asio's coroutine frames
// when optimizing (Boost's allocator, not this code); Clang does not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct Request {
  std::string target, remote_host, path = "/";
  std::uint16_t port = 0;
};

// The value of header `name` (case-insensitive) in `head`, if present.
std::optional<std::string> header(const std::string& head, std::string name) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  const std::string h = lower(head);
  const auto at = h.find("\r\n" + lower(name) + ":");
  if (at == std::string::npos) return std::nullopt;
  const auto begin = head.find_first_not_of(' ', at + name.size() + 3);
  return head.substr(begin, head.find("\r\n", begin) - begin);
}

asio::awaitable<int> get(const Request& req) {
  // (co_await in a statement of its own: GCC 12 mishandles temporaries next to a co_await)
  const auto executor = co_await asio::this_coro::executor;
  ssmc::Client client(executor, ssmc::ClientConfig{});
  auto [err, port] = co_await client.async_connect_port(req.target, req.remote_host, req.port, tuple);
  if (err) {
    std::cerr << "http_over_stream: cannot start the port session: " << err.message << "\n";
    co_return 1;
  }
  auto [serr, stream] = co_await port.async_open_stream(tuple);
  if (serr) {
    std::cerr << "http_over_stream: cannot open a stream: " << serr.message << "\n";
    port.close();
    co_return 1;
  }
  const std::string host = req.remote_host.empty() ? "localhost" : req.remote_host;
  const std::string request = "GET " + req.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(req.port) +
                              "\r\nUser-Agent: ssmc-example\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  std::string data;  // what has been read so far: head, then body
  auto [werr, w] = co_await asio::async_write(stream, asio::buffer(request), tuple);
  auto [rerr, head_size] = co_await asio::async_read_until(stream, asio::dynamic_buffer(data), "\r\n\r\n", tuple);
  if (werr || rerr) {
    // A remote port nobody listens on shows up here: the stream is closed without a byte.
    std::cerr << "http_over_stream: no HTTP response from " << host << ":" << req.port << " ("
              << (werr ? werr : rerr).message() << ")\n";
    port.close();
    co_return 1;
  }
  const std::string head = data.substr(0, head_size);
  const std::string status_line = head.substr(0, head.find("\r\n"));

  // The body: exactly Content-Length bytes, or everything up to EOF.
  std::size_t length = 0;
  boost::system::error_code ec;
  const auto content_length = header(head, "Content-Length");
  if (content_length &&
      std::from_chars(content_length->data(), content_length->data() + content_length->size(), length).ec ==
          std::errc()) {
    if (data.size() < head_size + length) {
      std::tie(ec, std::ignore) = co_await asio::async_read(
          stream, asio::dynamic_buffer(data), asio::transfer_exactly(head_size + length - data.size()), tuple);
    }
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_read(stream, asio::dynamic_buffer(data), tuple);
    if (ec == asio::error::eof) ec = {};
    length = data.size() - head_size;
  }
  stream.close();
  port.close();  // ends the session (TerminateSession)
  auto [closed] = co_await port.async_wait_closed(tuple);
  if (ec) {
    std::cerr << "http_over_stream: the body was cut short: " << ec.message() << "\n";
    co_return 1;
  }
  if (closed) std::cerr << "http_over_stream: " << closed.message << "\n";

  std::cout << status_line << "\n" << data.substr(head_size, length);
  if (length && data[head_size + length - 1] != '\n') std::cout << "\n";
  std::cerr << "http_over_stream: " << length << " bytes of body; session " << port.session_id() << "\n";
  if (status_line.size() > 9 && status_line[9] == '2') co_return 0;  // "HTTP/1.1 2xx ..."
  std::cerr << "http_over_stream: not a success status: " << status_line << "\n";
  co_return 1;
}

int main(int argc, char** argv) {
  Request req;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--remote-host" && i + 1 < argc) req.remote_host = argv[++i];
    else positional.push_back(a);
  }
  int port = 0;
  if (positional.size() < 2 || positional.size() > 3 ||
      std::from_chars(positional[1].data(), positional[1].data() + positional[1].size(), port).ec != std::errc() ||
      port < 1 || port > 65535 || (positional.size() == 3 && !positional[2].starts_with("/"))) {
    std::cerr << "usage: http_over_stream [--remote-host HOST] TARGET PORT [/PATH]\n";
    return 2;
  }
  req.target = positional[0];
  req.port = static_cast<std::uint16_t>(port);
  if (positional.size() == 3) req.path = positional[2];

  asio::io_context io;
  int exit_code = 1;
  asio::co_spawn(io, get(req), [&](std::exception_ptr e, int rc) {
    if (e) std::cerr << "http_over_stream: unexpected exception\n";
    else exit_code = rc;
  });
  io.run();
  return exit_code;
}
