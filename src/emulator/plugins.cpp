// Shell (Standard_Stream / InteractiveCommands, real pty) and command
// (NonInteractiveCommands) plugins of the emulator's agent (08 §5.1, §5.2).
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <deque>

#include "emulator/agent.hpp"
#include "util/log.hpp"
#include "wire/payloads.hpp"

namespace ssmc::emulator {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// Bytes of client input queued for the pty before the agent stops acking.
constexpr std::size_t kMaxPendingInput = 64 * 1024;
/// How often a finished child is polled for with waitpid.
constexpr std::chrono::milliseconds kReapPoll{10};

/// Length of the longest prefix of `data` that ends on a UTF-8 character
/// boundary, keeping at most 3 trailing bytes of an incomplete character
/// (the agent's carry-over, 05 §2.7, 08 §4.7).
std::size_t utf8_complete_prefix(std::span<const std::uint8_t> data) {
  const std::size_t n = data.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const std::uint8_t c = data[n - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    std::size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/// Polls waitpid until the child exited; returns its shell-style status.
asio::awaitable<int> reap(asio::any_io_executor ex, pid_t pid) {
  asio::steady_timer t(ex);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) co_return WEXITSTATUS(status);
      co_return -1;  // killed by a signal (05 §4)
    }
    if (r < 0) co_return 1;
    t.expires_after(kReapPoll);
    co_await t.async_wait(use_tuple);
  }
}

// ------------------------------------------------------------------ shell

class ShellPlugin final : public Plugin {
 public:
  explicit ShellPlugin(AgentSession& s) : session_(s), pty_(s.executor()), writable_(s.executor()) {}
  ~ShellPlugin() override { stop(); }

  void start() override {
    struct winsize ws {};
    ws.ws_col = 80;
    ws.ws_row = 24;
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
    if (pid < 0) {
      session_.plugin_done("Failed to start the shell: forkpty failed");
      return;
    }
    if (pid == 0) {
      // Nothing of the emulator's (sockets, other sessions' ptys) may outlive it in the shell.
      ::close_range(3, ~0U, 0);
      ::setenv("TERM", "xterm-256color", 1);
      if (!std::getenv("LANG")) ::setenv("LANG", "C.UTF-8", 1);
      const std::string& shell = session_.config().shell;
      const auto& spec = session_.spec();
      if (spec.session_type == wire::kSessionInteractiveCommands && !spec.command.empty()) {
        ::execl("/bin/sh", "sh", "-c", spec.command.c_str(), static_cast<char*>(nullptr));
      } else {
        ::execl(shell.c_str(), shell.c_str(), static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
    pid_ = pid;
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    pty_.assign(master);
    asio::co_spawn(session_.executor(), read_loop(), asio::detached);
  }

  void on_input(wire::PayloadType type, std::span<const std::uint8_t> payload) override {
    if (stopped_) return;
    if (type == wire::PayloadType::size) {
      if (auto size = wire::parse_terminal_size(payload); size && pty_.is_open()) {
        struct winsize ws {};
        ws.ws_col = static_cast<unsigned short>(size->cols);
        ws.ws_row = static_cast<unsigned short>(size->rows);
        ::ioctl(pty_.native_handle(), TIOCSWINSZ, &ws);
      }
      return;
    }
    if (type != wire::PayloadType::output) return;  // others are acked and ignored (08 §5.1)
    pending_.insert(pending_.end(), payload.begin(), payload.end());
    if (pending_.size() > kMaxPendingInput) session_.set_receive_ready(false);
    if (!writing_) asio::co_spawn(session_.executor(), write_loop(), asio::detached);
  }

  void on_writable() override { writable_.cancel(); }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (pid_ > 0) ::kill(pid_, SIGHUP);
    boost::system::error_code ec;
    pty_.cancel(ec);
    writable_.cancel();
  }

 private:
  asio::awaitable<void> write_loop() {
    auto keep = session_.shared_from_this();
    writing_ = true;
    while (!pending_.empty() && !stopped_) {
      std::vector<std::uint8_t> chunk(pending_.begin(), pending_.end());
      pending_.clear();
      auto [ec, n] = co_await asio::async_write(pty_, asio::buffer(chunk), use_tuple);
      if (ec) break;
      session_.set_receive_ready(true);
    }
    writing_ = false;
  }

  asio::awaitable<void> read_loop() {
    auto keep = session_.shared_from_this();
    std::vector<std::uint8_t> buf(session_.chunk_size() + 3);
    std::size_t carry = 0;
    for (;;) {
      auto [ec, n] = co_await pty_.async_read_some(asio::buffer(buf.data() + carry, session_.chunk_size()), use_tuple);
      if (ec || stopped_) break;  // EIO: the shell and its children closed the pty
      const std::size_t have = carry + n;
      const std::size_t send_n = utf8_complete_prefix({buf.data(), have});
      std::span<const std::uint8_t> out(buf.data(), send_n);
      while (!out.empty()) {
        auto sec = session_.send(wire::PayloadType::output, out);
        if (sec == make_error_code(channel::Errc::would_block)) {
          writable_.expires_after(std::chrono::seconds(1));
          co_await writable_.async_wait(use_tuple);
          if (stopped_) break;
          continue;
        }
        break;
      }
      carry = have - send_n;
      std::copy(buf.begin() + static_cast<std::ptrdiff_t>(send_n), buf.begin() + static_cast<std::ptrdiff_t>(have),
                buf.begin());
    }
    boost::system::error_code ignored;
    pty_.close(ignored);
    if (pid_ > 0) co_await reap(session_.executor(), pid_);
    pid_ = -1;
    session_.plugin_done();
  }

  AgentSession& session_;
  asio::posix::stream_descriptor pty_;
  asio::steady_timer writable_;
  std::vector<std::uint8_t> pending_;
  pid_t pid_ = -1;
  bool writing_ = false;
  bool stopped_ = false;
};

// ------------------------------------------------------------------ command

class CommandPlugin final : public Plugin {
 public:
  explicit CommandPlugin(AgentSession& s)
      : session_(s), out_(s.executor()), err_(s.executor()), writable_(s.executor()) {}
  ~CommandPlugin() override { stop(); }

  void start() override {
    const auto& spec = session_.spec();
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
      session_.plugin_done("Failed to start the command");
      return;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      ::dup2(out_pipe[1], 1);
      // Default mode: stdout and stderr go to the same place, in order (05 §4).
      ::dup2(spec.separate_output ? err_pipe[1] : out_pipe[1], 2);
      ::close_range(3, ~0U, 0);  // no inherited sockets: a killed emulator must drop its connections
      ::execl("/bin/sh", "sh", "-c", spec.command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (pid < 0) {
      ::close(out_pipe[0]);
      ::close(err_pipe[0]);
      session_.plugin_done("Failed to start the command");
      return;
    }
    pid_ = pid;
    out_.assign(out_pipe[0]);
    err_.assign(err_pipe[0]);
    asio::co_spawn(session_.executor(), run(), asio::detached);
  }

  void on_input(wire::PayloadType type, std::span<const std::uint8_t> payload) override {
    if (type != wire::PayloadType::output || pid_ <= 0) return;
    for (auto b : payload) {
      if (b == 0x03) {
        ::kill(-pid_, SIGINT);
        return;
      }
      if (b == 0x1c) {
        ::kill(-pid_, SIGQUIT);
        return;
      }
    }
  }
  void on_writable() override { writable_.cancel(); }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
    boost::system::error_code ec;
    out_.cancel(ec);
    err_.cancel(ec);
    writable_.cancel();
  }

 private:
  asio::awaitable<void> send_all(wire::PayloadType type, std::span<const std::uint8_t> data) {
    while (!data.empty() && !stopped_) {
      const auto n = std::min(data.size(), session_.chunk_size());
      auto ec = session_.send(type, data.first(n));
      if (ec == make_error_code(channel::Errc::would_block)) {
        writable_.expires_after(std::chrono::seconds(1));
        co_await writable_.async_wait(use_tuple);
        continue;
      }
      if (ec) co_return;
      data = data.subspan(n);
    }
  }

  asio::awaitable<void> pump(asio::posix::stream_descriptor& fd, wire::PayloadType type, bool live,
                             std::vector<std::uint8_t>& store) {
    auto keep = session_.shared_from_this();
    std::vector<std::uint8_t> buf(session_.chunk_size());
    for (;;) {
      auto [ec, n] = co_await fd.async_read_some(asio::buffer(buf), use_tuple);
      if (ec || stopped_) break;
      if (live) {
        co_await send_all(type, {buf.data(), n});
      } else {
        store.insert(store.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      }
    }
    ++pipes_done_;
  }

  asio::awaitable<void> run() {
    auto keep = session_.shared_from_this();
    const bool separate = session_.spec().separate_output;
    auto ex = session_.executor();
    asio::co_spawn(ex, pump(out_, wire::PayloadType::output, separate, combined_), asio::detached);
    if (separate) {
      asio::co_spawn(ex, pump(err_, wire::PayloadType::std_err, true, combined_), asio::detached);
    } else {
      boost::system::error_code ec;
      err_.close(ec);
      ++pipes_done_;
    }
    asio::steady_timer t(ex);
    while (pipes_done_ < 2 && !stopped_) {
      t.expires_after(kReapPoll);
      co_await t.async_wait(use_tuple);
    }
    const int status = co_await reap(ex, pid_);
    pid_ = -1;
    if (stopped_) co_return;
    if (separate) {
      const std::string text = wire::format_exit_code(status);
      co_await send_all(wire::PayloadType::exit_code, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    } else {
      // Default mode: the combined output after exit, no exit code (05 §4).
      co_await send_all(wire::PayloadType::output, combined_);
    }
    session_.plugin_done();
  }

  AgentSession& session_;
  asio::posix::stream_descriptor out_, err_;
  asio::steady_timer writable_;
  std::vector<std::uint8_t> combined_;
  int pipes_done_ = 0;
  pid_t pid_ = -1;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<Plugin> make_shell_plugin(AgentSession& session) { return std::make_unique<ShellPlugin>(session); }
std::unique_ptr<Plugin> make_command_plugin(AgentSession& session) {
  return std::make_unique<CommandPlugin>(session);
}

}  // namespace ssmc::emulator
