// Port plugin of the emulator's agent (08 §5.3-§5.5, 06 §2-§4): standard
// stream (SSH), basic and multiplexed (smux server) port forwarding, dialing
// only hosts on the allow-list.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "emulator/agent.hpp"
#include "session/mux_bridge.hpp"
#include "session/version.hpp"
#include "util/log.hpp"
#include "wire/payloads.hpp"

namespace ssmc::emulator {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;
/// Time allowed to dial the destination.
constexpr std::chrono::seconds kDialTimeout{10};

std::string json_string(const boost::json::value& props, std::string_view key) {
  if (!props.is_object()) return {};
  auto* v = props.as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool allowed(const Config& config, const std::string& host) {
  for (const auto& h : config.allow_hosts) {
    if (h == host || h == "*") return true;
  }
  return false;
}

/// Dials host:port if allowed. Error message for the user on failure.
asio::awaitable<Result<tcp::socket>> dial(asio::any_io_executor ex, const Config& config, std::string host,
                                          std::string port) {
  if (!allowed(config, host)) co_return make_error_code(std::errc::permission_denied);
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host, port, use_tuple);
  if (rec) co_return std::error_code(rec);
  for (const auto& entry : results) {
    tcp::socket s(ex);
    asio::steady_timer timer(ex);
    timer.expires_after(kDialTimeout);
    timer.async_wait([&s](boost::system::error_code ec) {
      if (!ec) s.close();
    });
    auto [cec] = co_await s.async_connect(entry.endpoint(), use_tuple);
    timer.cancel();
    if (!cec) {
      s.set_option(tcp::no_delay(true));
      co_return Result<tcp::socket>(boost::system::in_place_value, std::move(s));
    }
  }
  co_return make_error_code(std::errc::connection_refused);
}

// ----------------------------------------------------- stdio and basic mode

/// One destination connection at a time (06 §2, §3.2).
class BasicPortPlugin final : public Plugin {
 public:
  BasicPortPlugin(AgentSession& s, bool standard_stream)
      : session_(s), standard_stream_(standard_stream), socket_(s.executor()), writable_(s.executor()) {
    host_ = json_string(s.spec().properties, "host");
    if (host_.empty()) host_ = "localhost";
    port_ = json_string(s.spec().properties, "portNumber");
  }
  ~BasicPortPlugin() override { stop(); }

  void start() override { asio::co_spawn(session_.executor(), connect_and_read(true), asio::detached); }

  void on_input(wire::PayloadType type, std::span<const std::uint8_t> payload) override {
    if (stopped_) return;
    if (type == wire::PayloadType::flag) {
      auto flag = wire::parse_flag(payload);
      if (flag && *flag == wire::FlagValue::disconnect_to_port) close_destination();
      return;
    }
    if (type != wire::PayloadType::output) return;
    pending_.insert(pending_.end(), payload.begin(), payload.end());
    if (!connected_ && !connecting_) {
      // Basic mode re-dials on the next client data after a destination close (06 §3.2).
      asio::co_spawn(session_.executor(), connect_and_read(false), asio::detached);
      return;
    }
    if (connected_ && !writing_) asio::co_spawn(session_.executor(), write_loop(), asio::detached);
  }

  void on_writable() override { writable_.cancel(); }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    close_destination();
    writable_.cancel();
  }

 private:
  void close_destination() {
    boost::system::error_code ec;
    socket_.close(ec);
    connected_ = false;
  }

  asio::awaitable<void> connect_and_read(bool at_start) {
    auto keep = session_.shared_from_this();
    connecting_ = true;
    auto s = co_await dial(session_.executor(), session_.config(), host_, port_);
    connecting_ = false;
    if (stopped_) co_return;
    if (!s) {
      const std::string why = s.error() == std::errc::permission_denied
                                  ? "Forwarding to IP address " + host_ + " is forbidden."
                                  : "Unable to connect to specified port: " + s.error().message();
      log::info("emulator: {}: {}", session_.spec().session_id, why);
      if (at_start || standard_stream_) session_.plugin_done(why);
      co_return;
    }
    socket_ = std::move(*s);
    connected_ = true;
    if (!pending_.empty() && !writing_) asio::co_spawn(session_.executor(), write_loop(), asio::detached);
    std::vector<std::uint8_t> buf(session_.chunk_size());
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), use_tuple);
      if (ec || stopped_) break;
      std::span<const std::uint8_t> out(buf.data(), n);
      while (!stopped_) {
        auto sec = session_.send(wire::PayloadType::output, out);
        if (sec != make_error_code(channel::Errc::would_block)) break;
        writable_.expires_after(std::chrono::seconds(1));
        co_await writable_.async_wait(use_tuple);
      }
    }
    connected_ = false;
    if (stopped_) co_return;
    if (standard_stream_) {
      session_.plugin_done();  // destination EOF ends an SSH-style session (06 §2)
    } else {
      close_destination();  // basic: wait for the client's next data to re-dial (06 §3.2)
    }
  }

  asio::awaitable<void> write_loop() {
    auto keep = session_.shared_from_this();
    writing_ = true;
    while (!pending_.empty() && connected_ && !stopped_) {
      std::vector<std::uint8_t> chunk(pending_.begin(), pending_.end());
      pending_.clear();
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(chunk), use_tuple);
      if (ec) break;
    }
    writing_ = false;
  }

  AgentSession& session_;
  bool standard_stream_;
  std::string host_, port_;
  tcp::socket socket_;
  asio::steady_timer writable_;
  std::vector<std::uint8_t> pending_;
  bool connected_ = false, connecting_ = false, writing_ = false, stopped_ = false;
};

// ----------------------------------------------------------- mux mode

/// smux server over the session (06 §4, 08 §5.5): each stream the client
/// opens is dialed; a failed dial gets Flag 3 and a FIN.
class MuxPortPlugin final : public Plugin, public session::MuxBridge::Owner {
 public:
  explicit MuxPortPlugin(AgentSession& s) : session_(s) {
    host_ = json_string(s.spec().properties, "host");
    if (host_.empty()) host_ = "localhost";
    port_ = json_string(s.spec().properties, "portNumber");
    session::MuxBridge::Options options;
    options.role = mux::Role::server;
    // Keep-alive off iff the client is newer than 1.2.331.0 (08 §5.5); the
    // emulator knows clients only through the handshake, which ssmc passes.
    options.keep_alive = false;
    options.chunk = s.chunk_size();
    options.read_size = std::max(options.read_size, options.chunk);  // one read can fill a payload
    bridge_ = session::MuxBridge::create(s.executor(), options, *this);
  }
  ~MuxPortPlugin() override { stop(); }

  void start() override { bridge_->start(); }
  void on_input(wire::PayloadType type, std::span<const std::uint8_t> payload) override {
    if (type == wire::PayloadType::output) bridge_->on_payload(payload);
  }
  void on_writable() override { bridge_->on_writable(); }
  void stop() override {
    if (bridge_) bridge_->stop();
  }

  // MuxBridge::Owner
  std::error_code send_payload(std::size_t max_size, channel::PayloadFill fill) override {
    return session_.send_with(wire::PayloadType::output, max_size, fill);
  }
  asio::awaitable<Result<tcp::socket>> accept_stream(std::uint32_t) override {
    auto keep = session_.shared_from_this();
    auto s = co_await dial(session_.executor(), session_.config(), host_, port_);
    if (!s) {
      const auto flag = wire::encode_flag(wire::FlagValue::connect_to_port_error);
      (void)session_.send(wire::PayloadType::flag, flag);
    }
    co_return s;
  }
  void pause_input(bool paused) override { session_.set_receive_ready(!paused); }
  void session_failed(std::error_code ec) override { session_.plugin_done("smux session failed: " + ec.message()); }

 private:
  AgentSession& session_;
  std::string host_, port_;
  std::shared_ptr<session::MuxBridge> bridge_;
};

}  // namespace

std::unique_ptr<Plugin> make_port_plugin(AgentSession& session) {
  const auto& props = session.spec().properties;
  const std::string type = json_string(props, "type");
  if (type != "LocalPortForwarding") return std::make_unique<BasicPortPlugin>(session, true);
  // Same gate as the client (05 §5): mux iff AgentVersion > 3.0.196.0.
  if (session::version_greater(session.spec().agent_version, session::kSmuxMinAgentVersion)) {
    return std::make_unique<MuxPortPlugin>(session);
  }
  return std::make_unique<BasicPortPlugin>(session, false);
}

}  // namespace ssmc::emulator
