// HTTP client and server, TCP/proxy/TLS connection set-up (Beast).
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <algorithm>
#include <cctype>
#include <map>

#include "crypto/base64.hpp"
#include "net/detail/beast.hpp"

namespace ssmc::net {

using namespace detail;

std::string_view find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return h.value;
    }
  }
  return {};
}

namespace detail {

HttpHeaders to_headers(const http::fields& fields) {
  HttpHeaders out;
  for (const auto& f : fields) out.push_back({std::string(f.name_string()), std::string(f.value())});
  return out;
}

namespace {
// basic_stream's variadic constructor makes Result<PlainStream>(error_code) ambiguous.
Result<PlainStream> tcp_error(std::error_code ec) { return Result<PlainStream>(boost::system::in_place_error, ec); }
}  // namespace

asio::awaitable<Result<PlainStream>> open_tcp(asio::any_io_executor ex, Endpoint endpoint,
                                              ClientOptions options) {
  const std::string& host = options.proxy ? options.proxy->host : endpoint.host;
  const std::uint16_t port = options.proxy ? options.proxy->port : endpoint.port;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
  if (rec) co_return tcp_error(std::error_code(rec));
  PlainStream stream(ex);
  stream.expires_after(options.connect_timeout);
  auto [cec, ep] = co_await stream.async_connect(results, use_tuple);
  if (cec == beast::error::timeout) co_return tcp_error(make_error_code(Errc::connect_timeout));
  if (cec) co_return tcp_error(std::error_code(cec));
  stream.socket().set_option(tcp::no_delay(true));
  if (options.proxy) {
    // CONNECT tunnel (RFC 9110 §9.3.6) for every target, TLS or not.
    std::string authority = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
    authority += ":" + std::to_string(endpoint.port);
    http::request<http::empty_body> connect{http::verb::connect, authority, 11};
    connect.set(http::field::host, authority);
    if (!options.proxy->credentials.empty()) {
      const auto& c = options.proxy->credentials;
      connect.set(http::field::proxy_authorization,
                  "Basic " + crypto::base64_encode({reinterpret_cast<const std::uint8_t*>(c.data()), c.size()}));
    }
    auto [wec, wn] = co_await http::async_write(stream, connect, use_tuple);
    if (wec == beast::error::timeout) co_return tcp_error(make_error_code(Errc::connect_timeout));
    if (wec) co_return tcp_error(std::error_code(wec));
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT response has no body
    auto [pec, pn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (pec == beast::error::timeout) co_return tcp_error(make_error_code(Errc::connect_timeout));
    if (pec) co_return tcp_error(std::error_code(pec));
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) co_return tcp_error(make_error_code(Errc::proxy_refused));
    if (buffer.size() != 0) co_return tcp_error(make_error_code(Errc::proxy_refused));  // data before the tunnel: not a proxy
  }
  co_return Result<PlainStream>(boost::system::in_place_value, std::move(stream));
}

Result<std::shared_ptr<ssl::context>> client_tls_context(const TlsOptions& tls) {
  static std::map<std::string, std::shared_ptr<ssl::context>> cache;  // single-threaded (one io_context)
  const std::string key = tls.ca_file + '\0' + tls.ca_pem + '\0' + (tls.verify ? "1" : "0");
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
  } else {
    ctx->set_default_verify_paths(ec);
  }
  if (ec) return make_error_code(Errc::tls_setup_failed);
  if (!tls.ca_pem.empty()) {
    ctx->add_certificate_authority(asio::buffer(tls.ca_pem), ec);
    if (ec) return make_error_code(Errc::tls_setup_failed);
  }
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none, ec);
  if (ec) return make_error_code(Errc::tls_setup_failed);
  cache.emplace(key, ctx);
  return ctx;
}

std::error_code prepare_client_tls(TlsStream& stream, const std::string& host, bool verify) {
  boost::system::error_code ec;
  // SSL_set_tlsext_host_name without its old-style cast.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host.c_str())) != 1) {
    return make_error_code(Errc::tls_setup_failed);
  }
  if (verify) {
    stream.set_verify_callback(ssl::host_name_verification(host), ec);
    if (ec) return ec;
  }
  return {};
}

}  // namespace detail

namespace {

template <class Stream>
asio::awaitable<Result<HttpResponse>> exchange(Stream& stream, Endpoint endpoint, HttpRequest request,
                                               ClientOptions options) {
  BeastRequest req;
  req.version(11);
  req.method_string(request.method);
  req.target(request.target);
  bool has_host = false;
  for (auto& h : request.headers) {
    if (beast::iequals(h.name, "host")) has_host = true;
    req.insert(h.name, h.value);
  }
  if (!has_host) req.set(http::field::host, endpoint.authority);
  req.body() = std::move(request.body);
  if (!req.body().empty() || request.method == "POST" || request.method == "PUT") req.prepare_payload();
  req.keep_alive(false);

  beast::get_lowest_layer(stream).expires_after(options.read_timeout);
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  if (wec == beast::error::timeout) co_return make_error_code(Errc::read_timeout);
  if (wec) co_return std::error_code(wec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_response_body);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (rec == beast::error::timeout) co_return make_error_code(Errc::read_timeout);
  if (rec == http::error::body_limit) co_return make_error_code(Errc::response_too_large);
  if (rec) co_return std::error_code(rec);
  auto res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  out.reason = std::string(res.reason());
  out.headers = to_headers(res.base());
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

asio::awaitable<Result<HttpResponse>> http_request(asio::any_io_executor ex, Endpoint endpoint,
                                                   HttpRequest request, ClientOptions options) {
  auto tcp_stream = co_await open_tcp(ex, endpoint, options);
  if (!tcp_stream) co_return tcp_stream.error();
  if (!endpoint.tls) {
    PlainStream stream = std::move(*tcp_stream);
    auto res = co_await exchange(stream, endpoint, std::move(request), options);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return res;
  }
  auto ctx = client_tls_context(options.tls);
  if (!ctx) co_return ctx.error();
  TlsStream stream(std::move(*tcp_stream), **ctx);
  if (auto ec = prepare_client_tls(stream, endpoint.host, options.tls.verify)) co_return ec;
  beast::get_lowest_layer(stream).expires_after(options.connect_timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (hec == beast::error::timeout) co_return make_error_code(Errc::connect_timeout);
  if (hec) co_return std::error_code(hec);
  co_return co_await exchange(stream, endpoint, std::move(request), options);
}

// ------------------------------------------------------------------ server

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor ex) : executor(ex), acceptor(ex) {}

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  std::shared_ptr<ssl::context> tls;
  ServerHandlers handlers;
  std::map<std::uint64_t, int> open_fds;  ///< for stop(): shutdown() survives moves of the socket object
  std::uint64_t next_id = 1;
  bool stopped = false;

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. EMFILE: keep serving the others
      }
      asio::co_spawn(executor, self->connection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> connection(tcp::socket socket) {
    auto self = shared_from_this();
    PeerInfo peer;
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) {
      peer.address = remote.address().to_string();
      peer.port = remote.port();
    }
    peer.connection_id = next_id++;
    socket.set_option(tcp::no_delay(true), ec);
    open_fds[peer.connection_id] = socket.native_handle();
    PlainStream plain(std::move(socket));
    if (tls) {
      TlsStream stream(std::move(plain), *tls);
      beast::get_lowest_layer(stream).expires_after(kDefaultConnectTimeout);
      auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
      if (!hec) co_await serve(std::move(stream), peer);
    } else {
      co_await serve(std::move(plain), peer);
    }
    open_fds.erase(peer.connection_id);
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream stream, PeerInfo peer) {
    beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kServerMaxRequestBody);
      beast::get_lowest_layer(stream).expires_after(std::chrono::minutes(2));
      auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (rec) {
        if (rec == http::error::body_limit) {
          http::response<http::string_body> res{http::status::payload_too_large, 11};
          res.body() = "request too large\n";
          res.prepare_payload();
          co_await http::async_write(stream, res, use_tuple);
        }
        co_return;
      }
      BeastRequest req = parser.release();
      HttpRequest in;
      in.method = std::string(req.method_string());
      in.target = std::string(req.target());
      in.headers = to_headers(req.base());
      in.body = req.body();
      HttpResponse out;
      if (beast::websocket::is_upgrade(req)) {
        std::optional<HttpResponse> refusal;
        if (handlers.on_upgrade) {
          refusal = handlers.on_upgrade(in, peer);
        } else {
          refusal = HttpResponse{404, "Not Found", {}, "no WebSocket here\n"};
        }
        if (!refusal) {
          beast::get_lowest_layer(stream).expires_never();
          auto ws = co_await accept_websocket(std::move(stream), std::move(req));
          if (ws && handlers.on_websocket) co_await handlers.on_websocket(std::move(in), std::move(*ws), peer);
          co_return;
        }
        out = std::move(*refusal);
      } else if (handlers.on_request) {
        out = co_await handlers.on_request(std::move(in), peer);
      } else {
        out = HttpResponse{404, "Not Found", {}, ""};
      }
      http::response<http::string_body> res;
      res.version(11);
      res.result(out.status);
      if (!out.reason.empty()) res.reason(out.reason);
      for (auto& h : out.headers) res.insert(h.name, h.value);
      res.body() = std::move(out.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      beast::get_lowest_layer(stream).expires_after(kDefaultReadTimeout);
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !res.keep_alive()) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }
};

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(asio::any_io_executor ex, const std::string& host,
                                                      std::uint16_t port, std::optional<ServerTls> tls,
                                                      ServerHandlers handlers) {
  auto impl = std::make_shared<Impl>(ex);
  impl->handlers = std::move(handlers);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return std::error_code(ec);
  if (tls) {
    impl->tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    impl->tls->use_certificate_chain(asio::buffer(tls->certificate_pem), ec);
    if (!ec) impl->tls->use_private_key(asio::buffer(tls->private_key_pem), ssl::context::pem, ec);
    if (ec) return make_error_code(Errc::tls_setup_failed);
  }
  tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return std::error_code(ec);
  asio::co_spawn(ex, impl->accept_loop(), asio::detached);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& [id, fd] : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace ssmc::net
