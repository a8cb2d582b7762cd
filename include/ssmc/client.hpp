// The ssmc library: open AWS Systems Manager Session Manager sessions from C++.
//
//   boost::asio::io_context io;
//   ssmc::ClientConfig config;
//   config.region = "eu-west-1";
//   ssmc::Client client(io.get_executor(), config);
//   ssmc::ExecRequest request;
//   request.target = "i-0123456789abcdef0";
//   request.argv = {"uname", "-a"};
//   client.async_exec(request, [](ssmc::Error e, ssmc::ExecResult r) { ... });
//   io.run();
//
// Operations may be started before io.run(); a Client and the session
// handles may be dropped while their operations are outstanding (the
// sessions keep what they need).
//
// Everything runs on the executor given to the Client (one io_context; no
// threads of its own). Asynchronous operations take any Asio completion token
// (a callback, boost::asio::use_awaitable, use_future, deferred...); their
// completion signature is void(ssmc::Error, T): with use_awaitable write
// `auto [err, result] = co_await client.async_exec(req, use_awaitable);`.
// Completion handlers run on their associated executor (by default the
// Client's). Credentials are resolved like the AWS CLI v2 does (environment,
// profiles, SSO and assume-role caches, credential_process, IMDS/ECS) unless
// ClientConfig::credentials is set. Sessions resume by themselves after a
// network failure (within ClientConfig::reconnect_budget).
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssmc/error.hpp"

namespace ssmc {

/// Static credentials (used instead of the default chain when given).
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty for long-term keys
};

struct ClientConfig {
  std::string region;        ///< empty: AWS_REGION / AWS_DEFAULT_REGION / the profile's
  std::string profile;       ///< empty: AWS_PROFILE, else "default"
  std::string endpoint_url;  ///< SSM endpoint override (e.g. ssmc-emulator's); empty: the region's
  std::string ca_bundle;     ///< PEM file of trusted CAs (like AWS_CA_BUNDLE); empty: the system store
  std::optional<Credentials> credentials;
  /// Environment the configuration is read from (AWS_*, HOME, proxies).
  /// nullopt: the process environment at Client construction.
  std::optional<std::map<std::string, std::string>> environment;
  std::chrono::milliseconds reconnect_budget{600'000};  ///< how long to try resuming a lost session
  std::chrono::milliseconds keepalive_timeout{20'000};  ///< silence after which a connection counts as dead
};

/// Per-session counters (data channel, 03).
struct SessionStats {
  std::uint64_t messages_sent = 0;      ///< stream messages (input_stream_data) sent
  std::uint64_t bytes_received = 0;     ///< payload bytes delivered in order
  std::uint64_t frames_in = 0, frames_out = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t duplicates_received = 0;
  std::uint64_t reconnects = 0;
  /// Smoothed round-trip time of the data channel (acknowledged messages, 03 §6);
  /// 100 ms (the protocol's initial value) until the first sample.
  std::chrono::microseconds rtt{0};
};

/// Something that happened to a session (ClientConfig-wide handler, set_event_handler).
struct SessionEvent {
  enum class Type {
    connection_lost,  ///< text: why; the session is being resumed
    reconnected,      ///< text: the attempt number
    message,          ///< text: a diagnostic line (what the CLI would print)
    closed,           ///< text: the reason given by the service ("" = normal end)
  };
  Type type;
  std::string session_id;
  std::string text;
};
using EventHandler = std::function<void(const SessionEvent&)>;

struct ExecRequest {
  std::string target;             ///< instance or managed-node id (i-..., mi-...)
  std::vector<std::string> argv;  ///< the command; quoted for a POSIX shell
  /// Document; empty: AWS-StartNonInteractiveCommand, through which ssmc
  /// still separates stdout, stderr and the exit status (POSIX targets).
  std::string document;
};

struct ExecResult {
  std::string session_id;
  int exit_code = -1;  ///< the remote status (0..255); -1 when the command could not run
  std::string stdout_data;
  std::string stderr_data;
  SessionStats stats;
};

/// A byte stream to a remote host:port through the target: a connected local
/// stream socket (read/write/shutdown/close as any Asio socket).
using Stream = boost::asio::generic::stream_protocol::socket;

namespace detail {
struct ClientImpl;
struct PortImpl;
struct ShellImpl;
}  // namespace detail

/// A port session (AWS-StartPortForwardingSession[ToRemoteHost]) multiplexing
/// any number of streams to one remote host:port. Copies share the session.
/// A default-constructed handle is empty: calling members other than
/// session_id/is_open/stats on it throws std::logic_error.
class PortSession {
 public:
  PortSession() = default;
  const std::string& session_id() const;
  /// False once the session has ended (close(), the service, a lost connection).
  bool is_open() const;
  SessionStats stats() const;
  /// Opens one stream. Errors: errc::closed (session over),
  /// errc::unsupported (agent without multiplexing), errc::protocol.
  template <class Token>
  auto async_open_stream(Token&& token) {
    return boost::asio::async_initiate<Token, void(Error, Stream)>(
        [this](auto handler) { open_stream_impl(std::move(handler)); }, token);
  }
  /// Completes when the session ends: no error after close(); otherwise why.
  template <class Token>
  auto async_wait_closed(Token&& token) {
    return boost::asio::async_initiate<Token, void(Error)>(
        [this](auto handler) { wait_closed_impl(std::move(handler)); }, token);
  }
  /// Ends the session (TerminateSession); open streams are closed.
  void close();

 private:
  friend struct detail::PortImpl;
  explicit PortSession(std::shared_ptr<detail::PortImpl> impl) : impl_(std::move(impl)) {}
  void open_stream_impl(boost::asio::any_completion_handler<void(Error, Stream)> handler);
  void wait_closed_impl(boost::asio::any_completion_handler<void(Error)> handler);
  std::shared_ptr<detail::PortImpl> impl_;
};

/// An interactive shell (Standard_Stream, 05): write keystrokes to stream(),
/// read terminal output from it; it reads EOF after the session ends. Copies
/// share the session; a default-constructed one is empty (as PortSession).
class Shell {
 public:
  Shell() = default;
  const std::string& session_id() const;
  bool is_open() const;
  SessionStats stats() const;
  /// The shell's terminal: output to read, input to write. Closing it ends the session.
  Stream& stream();
  /// Tells the remote pty its size.
  void resize(unsigned cols, unsigned rows);
  template <class Token>
  auto async_wait_closed(Token&& token) {
    return boost::asio::async_initiate<Token, void(Error)>(
        [this](auto handler) { wait_closed_impl(std::move(handler)); }, token);
  }
  void close();

 private:
  friend struct detail::ShellImpl;
  explicit Shell(std::shared_ptr<detail::ShellImpl> impl) : impl_(std::move(impl)) {}
  void wait_closed_impl(boost::asio::any_completion_handler<void(Error)> handler);
  std::shared_ptr<detail::ShellImpl> impl_;
};

/// A raw byte stream to a port of the target itself (AWS-StartSSHSession,
/// what `ssh -o ProxyCommand=...` uses): stream() carries the bytes both ways
/// and reads EOF after the session ends; closing it ends the session. Copies
/// share the session; a default-constructed one is empty (as PortSession).
class SshSession {
 public:
  SshSession() = default;
  const std::string& session_id() const;
  bool is_open() const;
  SessionStats stats() const;
  Stream& stream();
  template <class Token>
  auto async_wait_closed(Token&& token) {
    return boost::asio::async_initiate<Token, void(Error)>(
        [this](auto handler) { wait_closed_impl(std::move(handler)); }, token);
  }
  void close();

 private:
  friend struct detail::ShellImpl;
  explicit SshSession(std::shared_ptr<detail::ShellImpl> impl) : impl_(std::move(impl)) {}
  void wait_closed_impl(boost::asio::any_completion_handler<void(Error)> handler);
  std::shared_ptr<detail::ShellImpl> impl_;
};

class Client {
 public:
  using executor_type = boost::asio::any_io_executor;

  Client(executor_type ex, ClientConfig config);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  executor_type get_executor() const;
  /// Receives the events of every session this client starts.
  void set_event_handler(EventHandler handler);

  /// Runs one command; completes when it has exited. Errors: invalid_argument,
  /// config, credentials, api, unreachable, connection_lost, session_closed,
  /// protocol, no_exit_code (with whatever output arrived in the result).
  template <class Token>
  auto async_exec(ExecRequest request, Token&& token) {
    return boost::asio::async_initiate<Token, void(Error, ExecResult)>(
        [this](auto handler, ExecRequest r) { exec_impl(std::move(r), std::move(handler)); }, token,
        std::move(request));
  }

  /// Starts a port session to `port` on `host` as seen from the target (empty
  /// host: the target itself). Completes once it runs. Errors: invalid_argument,
  /// config, credentials, api, unreachable, connection_lost, protocol, unsupported.
  template <class Token>
  auto async_connect_port(std::string target, std::string host, std::uint16_t port, Token&& token) {
    return boost::asio::async_initiate<Token, void(Error, PortSession)>(
        [this](auto handler, std::string t, std::string h, std::uint16_t p) {
          port_impl(std::move(t), std::move(h), p, std::move(handler));
        },
        token, std::move(target), std::move(host), port);
  }

  /// Opens a byte stream to `port` of the target (22 for SSH) through
  /// AWS-StartSSHSession. Completes once it runs. Errors: invalid_argument,
  /// config, credentials, api, unreachable, connection_lost, protocol.
  template <class Token>
  auto async_start_ssh_stream(std::string target, std::uint16_t port, Token&& token) {
    return boost::asio::async_initiate<Token, void(Error, SshSession)>(
        [this](auto handler, std::string t, std::uint16_t p) { ssh_impl(std::move(t), p, std::move(handler)); },
        token, std::move(target), port);
  }

  /// Starts an interactive shell of cols x rows. Errors as async_connect_port.
  template <class Token>
  auto async_start_shell(std::string target, unsigned cols, unsigned rows, Token&& token) {
    return boost::asio::async_initiate<Token, void(Error, Shell)>(
        [this](auto handler, std::string t, unsigned c, unsigned r) { shell_impl(std::move(t), c, r, std::move(handler)); },
        token, std::move(target), cols, rows);
  }

 private:
  void exec_impl(ExecRequest request, boost::asio::any_completion_handler<void(Error, ExecResult)> handler);
  void port_impl(std::string target, std::string host, std::uint16_t port,
                 boost::asio::any_completion_handler<void(Error, PortSession)> handler);
  void shell_impl(std::string target, unsigned cols, unsigned rows,
                  boost::asio::any_completion_handler<void(Error, Shell)> handler);
  void ssh_impl(std::string target, std::uint16_t port,
                boost::asio::any_completion_handler<void(Error, SshSession)> handler);
  std::shared_ptr<detail::ClientImpl> impl_;
};

}  // namespace ssmc
