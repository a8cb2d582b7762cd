// shell: an interactive shell on a managed node, written with plain
// completion callbacks (no coroutines). Shows Client::async_start_shell,
// Shell::stream() as the terminal, Shell::resize() on SIGWINCH, and putting
// the local terminal into raw mode and back.
//
//   shell TARGET                      interactive; leave with `exit`
//   shell TARGET --command 'CMD'      types CMD and then `exit` into the shell
//   printf 'uname\nexit\n' | shell TARGET    stdin that is not a terminal is
//                                     forwarded as typed; at its end Ctrl-D is sent
//
// In raw mode every key, Ctrl-C included, goes to the remote shell. Against
// ssmc-emulator (docs/emulator.md) the "remote" shell is a local /bin/sh in a
// pty; export the emulator's AWS_* settings first, then: shell i-0123456789abcdef0
//
// RUN: $TARGET --command "echo hello-$$((6*7))"
// EXPECT: ^hello-42\r?$
#include <ssmc/ssmc.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>

namespace asio = boost::asio;

// Raw mode for the local terminal, undone on destruction. Also restores the
// file status flags of fds 0 and 1: Asio sets O_NONBLOCK on our dups of them,
// which would otherwise leak into the parent shell's terminal.
class LocalTerminal {
 public:
  LocalTerminal() : in_flags_(::fcntl(0, F_GETFL)), out_flags_(::fcntl(1, F_GETFL)) {
    if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      raw_ = ::tcsetattr(0, TCSADRAIN, &raw) == 0;
    }
  }
  ~LocalTerminal() {
    if (raw_) ::tcsetattr(0, TCSADRAIN, &saved_);
    if (in_flags_ >= 0) ::fcntl(0, F_SETFL, in_flags_);
    if (out_flags_ >= 0) ::fcntl(1, F_SETFL, out_flags_);
  }
  LocalTerminal(const LocalTerminal&) = delete;
  LocalTerminal& operator=(const LocalTerminal&) = delete;
  bool raw() const { return raw_; }
  static winsize size() {
    winsize ws{};
    if ((::ioctl(0, TIOCGWINSZ, &ws) != 0 && ::ioctl(1, TIOCGWINSZ, &ws) != 0) || ws.ws_col == 0 || ws.ws_row == 0) {
      ws.ws_col = 80;
      ws.ws_row = 24;
    }
    return ws;
  }

 private:
  termios saved_{};
  bool raw_ = false;
  int in_flags_, out_flags_;
};

class ShellApp {
 public:
  ShellApp(asio::io_context& io, std::string target, std::string command)
      : target_(std::move(target)), command_(std::move(command)), client_(io.get_executor(), {}),
        in_(io, ::dup(0)), out_(io, ::dup(1)), winch_(io, SIGWINCH), stop_(io, SIGINT, SIGTERM, SIGHUP) {}
  int exit_code = 0;

  void start(bool interactive) {
    interactive_ = interactive;
    const winsize ws = LocalTerminal::size();
    client_.async_start_shell(target_, ws.ws_col, ws.ws_row, [this](ssmc::Error err, ssmc::Shell shell) {
      if (err) return fail("cannot start the shell: " + err.message);
      shell_ = std::move(shell);
      // Ends when the service, the remote shell (`exit`) or close() ends the session.
      shell_.async_wait_closed([this](ssmc::Error closed) {
        if (closed) fail("session ended: " + closed.message);
        winch_.cancel();
        stop_.cancel();
        boost::system::error_code ignored;
        in_.close(ignored);  // cancels a pending stdin read
      });
      stop_.async_wait([this](boost::system::error_code ec, int) {
        if (!ec) shell_.close();
      });
      if (interactive_) watch_window_size();
      pump_output();
      if (!command_.empty()) {
        type(std::make_shared<std::string>(command_ + "\nexit\n"), [] {});
      } else {
        pump_input();
      }
    });
  }

 private:
  void fail(const std::string& message) {
    std::cerr << "shell: " << message << (interactive_ ? "\r\n" : "\n");
    exit_code = 1;
  }

  // Remote terminal output -> our stdout, until EOF (the session is over).
  void pump_output() {
    shell_.stream().async_read_some(asio::buffer(out_buf_), [this](boost::system::error_code ec, std::size_t n) {
      if (ec) {  // all output is here: release our end of the terminal stream
        shell_.stream().close(ec);
        return;
      }
      asio::async_write(out_, asio::buffer(out_buf_.data(), n), [this](boost::system::error_code wec, std::size_t) {
        if (wec) return shell_.close();  // stdout went away
        pump_output();
      });
    });
  }

  // Our stdin -> the remote terminal's input.
  void pump_input() {
    in_.async_read_some(asio::buffer(in_buf_), [this](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;  // the session is over
      if (ec) return type(std::make_shared<std::string>("\x04"), [] {});  // end of input: Ctrl-D
      type(std::make_shared<std::string>(in_buf_.data(), n), [this] { pump_input(); });
    });
  }

  template <class Then>
  void type(std::shared_ptr<std::string> text, Then then) {
    asio::async_write(shell_.stream(), asio::buffer(*text),
                      [text, then](boost::system::error_code ec, std::size_t) {
                        if (!ec) then();
                      });
  }

  void watch_window_size() {
    winch_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      const winsize ws = LocalTerminal::size();
      shell_.resize(ws.ws_col, ws.ws_row);
      watch_window_size();
    });
  }

  std::string target_, command_;
  ssmc::Client client_;
  ssmc::Shell shell_;
  asio::posix::stream_descriptor in_, out_;
  asio::signal_set winch_, stop_;
  std::array<char, 4096> in_buf_{}, out_buf_{};
  bool interactive_ = false;
};

int main(int argc, char** argv) {
  std::string target, command;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--command" && i + 1 < argc) {
      command = argv[++i];
    } else if (target.empty() && !a.starts_with("-")) {
      target = a;
    } else {
      target.clear();
      break;
    }
  }
  if (target.empty()) {
    std::cerr << "usage: shell TARGET [--command CMD]\n";
    return 2;
  }
  int exit_code = 0;
  {
    LocalTerminal terminal;  // raw from here, restored at the end of this block
    asio::io_context io;
    ShellApp app(io, target, command);
    asio::post(io, [&] { app.start(terminal.raw()); });  // runs once the loop is running
    io.run();
    exit_code = app.exit_code;
  }
  return exit_code;
}
