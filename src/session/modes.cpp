#include "session/modes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "crypto/base64.hpp"
#include "session/mux_bridge.hpp"
#include "session/version.hpp"
#include "util/log.hpp"
#include "wire/payloads.hpp"

namespace ssmc::session {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// Official stdin read size (05 §2.3 StdinBufferLimit).
constexpr std::size_t kStdinChunk = 1024;
/// Fallback terminal size when stdout is not a terminal (05 §2.4).
constexpr wire::TerminalSize kFallbackSize{300, 100};
/// Exact help text of ~? (05 §2.8).
constexpr std::string_view kEscapeHelp =
    "\r\nSupported escape sequence commands:\r\n  ~? - this help message\r\n  ~~ - send the ~ character to the "
    "remote target\r\n  ~- - disable escape sequences for the rest of this session\r\n  ~. - disconnect and terminate "
    "session\r\n(Note that escapes are only recognized immediately after newline.)\r\n";

void write_all(int fd, std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        ::usleep(1000);
        continue;
      }
      return;
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}
void write_all(int fd, std::string_view text) {
  write_all(fd, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// Terminal state restored on every exit path (normal, signals, atexit).
termios g_saved_termios{};
bool g_termios_saved = false;
// fd 0's file status flags: Asio makes the descriptor O_NONBLOCK, and a dup
// shares the open file description with the user's shell, which must get
// it back blocking (dash: "turning off NDELAY mode").
int g_stdin_flags = -1;
void restore_stdin_flags() {
  if (g_stdin_flags >= 0) ::fcntl(0, F_SETFL, g_stdin_flags);
}
void save_stdin_flags() {
  if (g_stdin_flags >= 0) return;
  g_stdin_flags = ::fcntl(0, F_GETFL);
  if (g_stdin_flags >= 0) std::atexit(restore_stdin_flags);
}
void restore_terminal() {
  restore_stdin_flags();
  if (g_termios_saved) {
    ::tcsetattr(0, TCSADRAIN, &g_saved_termios);
    g_termios_saved = false;
  }
}

wire::TerminalSize terminal_size() {
  struct winsize ws {};
  if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
  return kFallbackSize;
}

/// Reads fd 0 with Asio when it can be polled (tty, pipe, socket), else with
/// blocking reads (regular files, /dev/null), returning 0 at EOF.
class StdinReader {
 public:
  explicit StdinReader(asio::any_io_executor ex) : sd_(ex) {
    save_stdin_flags();
    int fd = ::dup(0);
    boost::system::error_code ec;
    if (fd >= 0) {
      sd_.assign(fd, ec);
      if (ec) {
        ::close(fd);
        blocking_ = true;
      }
    } else {
      blocking_ = true;
    }
  }
  asio::awaitable<std::size_t> read(std::span<std::uint8_t> buf) {
    if (blocking_) {
      ssize_t n = ::read(0, buf.data(), buf.size());
      co_return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    auto [ec, n] = co_await sd_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    co_return ec ? 0 : n;
  }
  void close() {
    boost::system::error_code ec;
    sd_.close(ec);
    restore_stdin_flags();
  }
  ~StdinReader() { close(); }

 private:
  asio::posix::stream_descriptor sd_;
  bool blocking_ = false;
};

// --------------------------------------------------------------- terminal

class TerminalMode final : public Mode {
 public:
  explicit TerminalMode(TerminalOptions o) : o_(o) {}

  void on_started(ClientSession& s, const channel::SessionStarted&) override {
    session_ = &s;
    if (::isatty(0) && ::tcgetattr(0, &g_saved_termios) == 0) {
      g_termios_saved = true;
      std::atexit(restore_terminal);
      termios raw = g_saved_termios;
      ::cfmakeraw(&raw);
      raw.c_oflag |= OPOST | ONLCR;  // our own messages keep their line ends
      ::tcsetattr(0, TCSADRAIN, &raw);
    }
    send_size();
    winch_ = std::make_unique<asio::signal_set>(s.executor(), SIGWINCH);
    watch_winch();
    asio::co_spawn(s.executor(), read_stdin(), asio::detached);
  }

  void on_data(ClientSession&, wire::PayloadType type, std::vector<std::uint8_t>& bytes) override {
    switch (type) {
      case wire::PayloadType::output:
        write_all(1, bytes);
        break;
      case wire::PayloadType::std_err:
        write_all(2, bytes);
        break;
      default:
        break;  // shells send no ExitCode (05 §4); Size/Flag are not for the terminal
    }
  }
  void on_writable(ClientSession&) override {
    if (writable_) writable_->cancel();
  }
  void on_closed(ClientSession&) override {
    closed_ = true;
    restore_terminal();
    if (winch_) winch_->cancel();
    if (stdin_) stdin_->close();
    if (writable_) writable_->cancel();
  }

 private:
  void send_size() {
    auto size = terminal_size();
    if (size == last_size_) return;
    last_size_ = size;
    const std::string json = wire::to_json(size);
    (void)session_->send(wire::PayloadType::size, {reinterpret_cast<const std::uint8_t*>(json.data()), json.size()});
  }
  void watch_winch() {
    winch_->async_wait([this](boost::system::error_code ec, int) {
      if (ec || closed_) return;
      send_size();  // at once on SIGWINCH, not polled (issue #6)
      watch_winch();
    });
  }

  /// Escape-sequence filter (05 §2.8). Returns false when the session must end.
  bool filter(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::uint8_t b = in[i];
      if (!escapes_on_) {
        out.push_back(b);
        continue;
      }
      if (escaped_) {
        escaped_ = newline_ = false;
        if (b == '?') {
          write_all(1, kEscapeHelp);
        } else if (b == '.') {
          return false;
        } else if (b == '-') {
          write_all(1, std::string_view("\r\nEscape sequences disabled for this session.\r\n"));
          escapes_on_ = false;
          out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(i) + 1, in.end());
          return true;
        } else if (b == '~') {
          out.push_back('~');
        } else {
          out.push_back('~');
          out.push_back(b);
        }
        continue;
      }
      if (newline_ && b == '~') {
        escaped_ = true;
        continue;
      }
      newline_ = b == '\n' || b == '\r';
      out.push_back(b);
    }
    return true;
  }

  asio::awaitable<void> read_stdin() {
    auto* s = session_;
    stdin_ = std::make_unique<StdinReader>(s->executor());
    writable_ = std::make_unique<asio::steady_timer>(s->executor());
    std::vector<std::uint8_t> buf(kStdinChunk), out;
    while (!closed_) {
      const std::size_t n = co_await stdin_->read(buf);
      if (closed_) co_return;
      if (n == 0) {
        if (o_.plugin_mode) {
          // The official client ends here (05 §2.3).
          s->say("\nCannot perform start session: EOF\n");
          s->finish(kExitOk);
        }
        co_return;  // ssmc keeps the session until the remote side ends it
      }
      if (o_.escapes && !filter({buf.data(), n}, out)) {
        // ~.: TerminateSession and exit at once (05 §2.8).
        s->finish(kExitOk, true);
        co_return;
      }
      if (!o_.escapes) out.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      if (out.empty()) continue;
      // A payload that is exactly "\n" goes out as "\r" (05 §2.3).
      if (out.size() == 1 && out[0] == '\n') out[0] = '\r';
      while (!closed_) {
        auto ec = s->send(wire::PayloadType::output, out);
        if (ec != make_error_code(channel::Errc::would_block)) break;
        writable_->expires_after(std::chrono::seconds(1));
        co_await writable_->async_wait(use_tuple);
      }
    }
  }

  TerminalOptions o_;
  ClientSession* session_ = nullptr;
  std::unique_ptr<asio::signal_set> winch_;
  std::unique_ptr<StdinReader> stdin_;
  std::unique_ptr<asio::steady_timer> writable_;
  wire::TerminalSize last_size_{0, 0};
  bool escapes_on_ = true, newline_ = false, escaped_ = false;
  bool closed_ = false;
};

// --------------------------------------------------------------- command

class CommandMode final : public Mode {
 public:
  explicit CommandMode(CommandOptions o) : o_(std::move(o)) {}

  void on_started(ClientSession& s, const channel::SessionStarted&) override { session_ = &s; }

  void on_data(ClientSession&, wire::PayloadType type, std::vector<std::uint8_t>& bytes) override {
    if (!o_.marker.empty()) {
      if (type == wire::PayloadType::output || type == wire::PayloadType::std_err) {
        collected_.insert(collected_.end(), bytes.begin(), bytes.end());
      } else if (type == wire::PayloadType::exit_code) {
        if (auto c = wire::parse_exit_code(bytes)) exit_code_ = *c;
      }
      return;
    }
    switch (type) {
      case wire::PayloadType::output:
        out(1, bytes);
        break;
      case wire::PayloadType::std_err:
        out(2, bytes);
        break;
      case wire::PayloadType::exit_code:
        if (auto c = wire::parse_exit_code(bytes)) exit_code_ = *c;
        break;
      default:
        break;
    }
  }

  void on_closed(ClientSession& s) override {
    if (!session_) return;  // never started: the session's own error says why
    if (!o_.marker.empty()) decode_wrapped(s);
    if (o_.on_exit_code) o_.on_exit_code(exit_code_);
    if (exit_code_) {
      // The remote status becomes ours (a signal's -1 as 255).
      s.set_exit_code(*exit_code_ < 0 ? 255 : (*exit_code_ & 0xff));
    } else {
      if (!reported_) {
        s.say(
            "ssmc: the target did not report an exit code (the document sends none and the output was not "
            "recognised)\n");
      }
      s.set_exit_code(s.exit_code() == kExitOk ? kExitProtocol : s.exit_code());  // unknown is not success
    }
  }

  /// Exit code to use after the session (set by on_closed).
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  void decode_wrapped(ClientSession& s) {
    const std::string text(collected_.begin(), collected_.end());
    const std::string out_tag = "\n" + o_.marker + " OUT\n", err_tag = o_.marker + " ERR\n",
                      exit_tag = o_.marker + " EXIT ";
    const auto a = text.find(out_tag), b = text.find(err_tag, a == std::string::npos ? 0 : a),
               c = text.find(exit_tag, b == std::string::npos ? 0 : b);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) {
      // Not our wrapper's output (e.g. a Windows target): show it as it came.
      out(1, collected_);
      if (!collected_.empty()) {
        s.say("ssmc: the target did not return separated streams or an exit code (non-POSIX target?)\n");
      }
      reported_ = true;
      return;
    }
    if (a > 0) out(1, std::string_view(text).substr(0, a));  // anything before the wrapper (motd...)
    auto decode = [&](std::size_t from, std::size_t to) {
      std::string b64;
      for (std::size_t i = from; i < to; ++i) {
        if (text[i] != '\n' && text[i] != '\r') b64.push_back(text[i]);
      }
      auto bytes = crypto::base64_decode(b64);
      return bytes ? *bytes : std::vector<std::uint8_t>{};
    };
    out(1, decode(a + out_tag.size(), b));
    out(2, decode(b + err_tag.size(), c));
    exit_code_ = std::atoi(text.c_str() + c + exit_tag.size());
  }

  void out(int stream, std::span<const std::uint8_t> bytes) {
    if (o_.write) {
      o_.write(stream, bytes);
    } else {
      write_all(stream, bytes);
    }
  }
  void out(int stream, std::string_view text) {
    out(stream, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }

  CommandOptions o_;
  ClientSession* session_ = nullptr;
  std::vector<std::uint8_t> collected_;
  std::optional<int> exit_code_;
  bool reported_ = false;
};

// --------------------------------------------------------------- stdio

class StdioMode final : public Mode {
 public:
  void on_started(ClientSession& s, const channel::SessionStarted&) override {
    session_ = &s;
    asio::co_spawn(s.executor(), pump(), asio::detached);
  }
  void on_data(ClientSession&, wire::PayloadType, std::vector<std::uint8_t>& bytes) override {
    write_all(1, bytes);  // every payload type, verbatim (06 §2)
  }
  void on_writable(ClientSession&) override {
    if (writable_) writable_->cancel();
  }
  void on_closed(ClientSession&) override {
    closed_ = true;
    if (stdin_) stdin_->close();
    if (writable_) writable_->cancel();
  }

 private:
  asio::awaitable<void> pump() {
    auto* s = session_;
    stdin_ = std::make_unique<StdinReader>(s->executor());
    writable_ = std::make_unique<asio::steady_timer>(s->executor());
    std::vector<std::uint8_t> buf(s->options().payload_size);
    while (!closed_) {
      const std::size_t n = co_await stdin_->read(buf);
      if (closed_) co_return;
      if (n == 0) {
        s->finish(kExitOk);  // stdin EOF: exit 0 at once, silently (06 §2)
        co_return;
      }
      while (!closed_) {
        auto ec = s->send(wire::PayloadType::output, {buf.data(), n});
        if (ec != make_error_code(channel::Errc::would_block)) break;
        writable_->expires_after(std::chrono::seconds(1));
        co_await writable_->async_wait(use_tuple);
      }
    }
  }
  ClientSession* session_ = nullptr;
  std::unique_ptr<StdinReader> stdin_;
  std::unique_ptr<asio::steady_timer> writable_;
  bool closed_ = false;
};

// --------------------------------------------------------------- port

class PortMode final : public Mode, public MuxBridge::Owner {
 public:
  explicit PortMode(PortOptions o) : o_(std::move(o)) {}

  void on_started(ClientSession& s, const channel::SessionStarted& started) override {
    session_ = &s;
    std::string type;
    if (started.properties.is_object()) {
      if (auto* t = started.properties.as_object().if_contains("type"); t && t->is_string()) type = t->as_string();
    }
    mux_ = type == "LocalPortForwarding" && version_greater(started.agent_version, kSmuxMinAgentVersion);
    if (!mux_) s.set_receive_ready(false);  // basic: "stream not set" until a connection (06 §3.1)
    if (!listen(s)) return;
    if (mux_) {
      MuxBridge::Options bo;
      bo.role = mux::Role::client;
      bo.keep_alive = !version_greater(started.agent_version, kSmuxKeepAliveOffAgentVersion);  // 06 §4.4
      bo.chunk = s.options().payload_size;
      bo.read_size = std::max(bo.read_size, bo.chunk);
      bridge_ = MuxBridge::create(s.executor(), bo, *this);
      bridge_->start();
    }
    // SIGINT/SIGQUIT end a port session (06 §3.3); SIGTERM/SIGHUP are the caller's.
    sigint_ = std::make_unique<asio::signal_set>(s.executor(), SIGINT, SIGQUIT);
    sigint_->async_wait([this](boost::system::error_code ec, int) {
      if (ec || closed_) return;
      on_terminate_signal();
    });
    asio::co_spawn(s.executor(), accept_loop(), asio::detached);
  }

  void on_data(ClientSession& s, wire::PayloadType type, std::vector<std::uint8_t>& bytes) override {
    if (type == wire::PayloadType::flag) {
      auto flag = wire::parse_flag(bytes);
      if (flag && *flag == wire::FlagValue::connect_to_port_error) {
        s.say("ssmc: " + o_.label + ": the target could not connect to the remote port for a connection\n");
      }
      return;
    }
    if (mux_) {
      if (type == wire::PayloadType::output && bridge_) bridge_->on_payload(bytes);
      return;
    }
    basic_to_socket_.push_back(std::move(bytes));
    if (basic_wake_) basic_wake_->cancel();
  }
  void on_writable(ClientSession&) override {
    if (bridge_) bridge_->on_writable();
    if (writable_) writable_->cancel();
  }
  void on_closed(ClientSession&) override {
    closed_ = true;
    if (bridge_) bridge_->stop();
    boost::system::error_code ec;
    if (tcp_acceptor_) tcp_acceptor_->close(ec);
    if (unix_acceptor_) unix_acceptor_->close(ec);
    if (basic_socket_) basic_socket_->close(ec);
    if (basic_wake_) basic_wake_->cancel();
    if (writable_) writable_->cancel();
    if (sigint_) sigint_->cancel();
    if (o_.listen.unix_socket) std::filesystem::remove(o_.listen.bind, ec);
  }

  // MuxBridge::Owner
  std::error_code send_payload(std::size_t max_size, channel::PayloadFill fill) override {
    return session_->send_with(wire::PayloadType::output, max_size, fill);
  }
  void pause_input(bool paused) override { session_->set_receive_ready(!paused); }
  void session_failed(std::error_code ec) override {
    session_->say("ssmc: " + o_.label + ": multiplexer failed: " + ec.message() + "\n");
    session_->finish(kExitProtocol, true);
  }

 private:
  bool listen(ClientSession& s) {
    boost::system::error_code ec;
    std::string where;
    if (o_.listen.unix_socket) {
      std::filesystem::remove(o_.listen.bind, ec);
      unix_acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(s.executor());
      asio::local::stream_protocol::endpoint ep(o_.listen.bind);
      unix_acceptor_->open(ep.protocol(), ec);
      if (!ec) unix_acceptor_->bind(ep, ec);
      if (!ec) unix_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
      where = o_.listen.bind;
    } else {
      auto addr = asio::ip::make_address(o_.listen.bind, ec);
      if (!ec) {
        tcp_acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(s.executor());
        asio::ip::tcp::endpoint ep(addr, o_.listen.port);
        tcp_acceptor_->open(ep.protocol(), ec);
        if (!ec) tcp_acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) tcp_acceptor_->bind(ep, ec);
        if (!ec) tcp_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
        if (!ec) port_ = tcp_acceptor_->local_endpoint().port();
      }
      where = (addr.is_v6() ? "[" + o_.listen.bind + "]" : o_.listen.bind) + ":" + std::to_string(port_);
    }
    if (ec) {
      s.say("ssmc: cannot listen on " + o_.label + ": " + ec.message() + "\n");
      s.finish(kExitLocal, true);
      return false;
    }
    if (o_.plugin_mode) {
      s.say(o_.listen.unix_socket
                ? "Unix socket " + o_.listen.bind + " opened for sessionId " + s.session_id() + ".\n"
                : "Port " + std::to_string(port_) + " opened for sessionId " + s.session_id() + ".\n");
      if (mux_) s.say("Waiting for connections...\n");
    } else {
      s.banner("ssmc: forwarding " + where + " -> " + o_.label + " (session " + s.session_id() + ", " +
               (mux_ ? "multiplexed" : "basic mode") + ")\n");
    }
    if (o_.ready_line) {
      boost::json::object line{{"event", "ready"},
                               {"listen", where},
                               {"port", port_},
                               {"spec", o_.label},
                               {"session_id", s.session_id()},
                               {"mode", mux_ ? "mux" : "basic"}};
      const std::string text = boost::json::serialize(line) + "\n";
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  }

  asio::awaitable<Result<LocalSocket>> accept_one() {
    if (tcp_acceptor_) {
      auto [ec, sock] = co_await tcp_acceptor_->async_accept(use_tuple);
      if (ec) co_return std::error_code(ec);
      sock.set_option(asio::ip::tcp::no_delay(true));
      co_return Result<LocalSocket>(boost::system::in_place_value, LocalSocket(std::move(sock)));
    }
    auto [ec, sock] = co_await unix_acceptor_->async_accept(use_tuple);
    if (ec) co_return std::error_code(ec);
    co_return Result<LocalSocket>(boost::system::in_place_value, LocalSocket(std::move(sock)));
  }

  asio::awaitable<void> accept_loop() {
    auto* s = session_;
    writable_ = std::make_unique<asio::steady_timer>(s->executor());
    basic_wake_ = std::make_unique<asio::steady_timer>(s->executor());
    bool first = true;
    while (!closed_) {
      auto sock = co_await accept_one();
      if (closed_) co_return;
      if (!sock) continue;
      if (o_.plugin_mode && first) {
        s->say(mux_ ? "\nConnection accepted for session [" + s->session_id() + "]\n"
                    : "Connection accepted for session " + s->session_id() + ".\n");
      }
      first = false;
      if (mux_) {
        if (auto ec = bridge_->add_connection(std::move(*sock))) {
          s->say("ssmc: " + o_.label + ": cannot open a stream: " + ec.message() + "\n");
        }
        continue;
      }
      co_await serve_basic(std::move(*sock));  // one connection at a time (06 §3.1)
    }
  }

  asio::awaitable<void> serve_basic(LocalSocket sock) {
    auto* s = session_;
    basic_socket_ = std::make_unique<LocalSocket>(std::move(sock));
    s->set_receive_ready(true);
    auto reading_flag = std::make_shared<bool>(true);
    bool& reading = *reading_flag;
    asio::co_spawn(
        s->executor(),
        [this, s, reading_flag]() -> asio::awaitable<void> {
          std::vector<std::uint8_t> buf(s->options().payload_size);
          while (!closed_) {
            auto [ec, n] = co_await basic_socket_->async_read_some(asio::buffer(buf), use_tuple);
            if (ec || closed_) break;
            while (!closed_) {
              auto sec = s->send(wire::PayloadType::output, {buf.data(), n});
              if (sec != make_error_code(channel::Errc::would_block)) break;
              writable_->expires_after(std::chrono::seconds(1));
              co_await writable_->async_wait(use_tuple);
            }
          }
          *reading_flag = false;
          basic_wake_->cancel();
        },
        asio::detached);
    while (!closed_ && reading) {
      if (basic_to_socket_.empty()) {
        basic_wake_->expires_after(std::chrono::seconds(1));
        co_await basic_wake_->async_wait(use_tuple);
        continue;
      }
      auto chunk = std::move(basic_to_socket_.front());
      basic_to_socket_.pop_front();
      auto [ec, n] = co_await asio::async_write(*basic_socket_, asio::buffer(chunk), use_tuple);
      if (ec) break;
    }
    if (closed_) co_return;
    // Local side closed: DisconnectToPort, then wait for the next connection (06 §3.1).
    boost::system::error_code ec;
    basic_socket_->close(ec);
    while (reading) {
      basic_wake_->expires_after(std::chrono::milliseconds(50));
      co_await basic_wake_->async_wait(use_tuple);
    }
    const auto flag = wire::encode_flag(wire::FlagValue::disconnect_to_port);
    (void)s->send(wire::PayloadType::flag, flag);
    basic_to_socket_.clear();
    s->set_receive_ready(false);
  }

  void on_terminate_signal() {
    auto* s = session_;
    if (o_.plugin_mode) s->say("Terminate signal received, exiting.\n");
    if (mux_ || version_greater(s->agent_version(), kTerminateFlagMinAgentVersion)) {
      const auto flag = wire::encode_flag(wire::FlagValue::terminate_session);
      (void)s->send(wire::PayloadType::flag, flag);
      if (o_.plugin_mode) s->say("\n\nExiting session with sessionId: " + s->session_id() + ".\n\n");
      s->finish(kExitOk, !o_.plugin_mode);
    } else {
      s->finish(kExitOk, true);  // old agents: TerminateSession API (06 §3.3)
    }
  }

  PortOptions o_;
  ClientSession* session_ = nullptr;
  bool mux_ = false;
  std::uint16_t port_ = 0;
  std::shared_ptr<MuxBridge> bridge_;
  std::unique_ptr<asio::ip::tcp::acceptor> tcp_acceptor_;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::unique_ptr<LocalSocket> basic_socket_;
  std::deque<std::vector<std::uint8_t>> basic_to_socket_;
  std::unique_ptr<asio::steady_timer> basic_wake_, writable_;
  std::unique_ptr<asio::signal_set> sigint_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<Mode> make_terminal_mode(TerminalOptions options) { return std::make_unique<TerminalMode>(options); }
std::unique_ptr<Mode> make_command_mode(CommandOptions options) {
  return std::make_unique<CommandMode>(std::move(options));
}
std::unique_ptr<Mode> make_stdio_mode() { return std::make_unique<StdioMode>(); }
std::unique_ptr<Mode> make_port_mode(PortOptions options) { return std::make_unique<PortMode>(std::move(options)); }

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                         "_-./=:,+@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::string wrap_command(const std::string& command, const std::string& marker) {
  // Output is buffered in temporary files anyway (the stock document sends it
  // after exit, 05 §4); base64 makes both streams binary-safe and the markers
  // unambiguous.
  const std::string inner = "o=$(mktemp) && e=$(mktemp) || exit 1; (" + command +
                            ") </dev/null >\"$o\" 2>\"$e\"; s=$?; printf '\\n%s OUT\\n' '" + marker +
                            "'; base64 \"$o\"; printf '%s ERR\\n' '" + marker +
                            "'; base64 \"$e\"; printf '%s EXIT %d\\n' '" + marker + "' \"$s\"; rm -f \"$o\" \"$e\"";
  return "sh -c " + shell_join({inner});
}

}  // namespace ssmc::session
