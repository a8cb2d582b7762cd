// ClientSession: one SSM session from the client's side — the engine over a
// ClientSource (signed connect, resume), KMS through AwsClient, and a Mode
// that connects the session to the user (terminal, command, stdio, ports).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "session/aws_client.hpp"
#include "session/client_source.hpp"
#include "session/runner.hpp"

namespace ssmc::session {

/// Exit codes of ssmc (documented in `ssmc --help` and docs/usage.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitRemoteFailure = 1,  ///< exec: the remote command's own status is returned instead
  kExitUsage = 2,          ///< bad command line
  kExitConfig = 3,         ///< credentials, profile, region, config files
  kExitApi = 4,            ///< an AWS API call failed (AccessDenied, TargetNotConnected, ...)
  kExitConnection = 5,     ///< the data channel could not be opened or was lost for good
  kExitProtocol = 6,       ///< handshake failure, bad frames, no session type
  kExitLocal = 7,          ///< local resources: port in use, terminal, files
  kExitInterrupted = 130,  ///< ended by SIGINT/SIGTERM
};

class ClientSession;

/// The session-type-specific half: what to do with the user's side.
class Mode {
 public:
  virtual ~Mode() = default;
  /// The session type is known; stream sends are allowed from now on.
  virtual void on_started(ClientSession& session, const channel::SessionStarted& started) = 0;
  /// A stream payload (Output, StdErr, ExitCode, Flag, ...).
  virtual void on_data(ClientSession& session, wire::PayloadType type, std::vector<std::uint8_t>& bytes) = 0;
  virtual void on_writable(ClientSession&) {}
  /// The session ended (channel_closed or local stop): release resources.
  virtual void on_closed(ClientSession&) {}
};

/// What ClientOptions::notify is told.
enum class SessionNotice {
  message,          ///< a diagnostic line the CLI would print
  connection_lost,  ///< text: why; a resume follows
  reconnected,      ///< text: the attempt number
  closed,           ///< channel_closed; text: the reason ("" = normal end)
};

struct ClientOptions {
  SessionTicket ticket;
  std::string target;        ///< StartSession's Target (KMS context, 04 §4)
  bool plugin_mode = false;  ///< official texts on stdout (07)
  bool legacy_cli = false;   ///< 4-argument plugin form: KMS refused (04 §4)
  bool sign_upgrade = true;  ///< false: SSM_PLUGIN_SKIP_CLIENT_CONFIGURE / presigned
  bool can_resume = true;
  std::chrono::steady_clock::duration reconnect_budget = kDefaultReconnectBudget;
  std::chrono::steady_clock::duration idle_timeout = net::kDefaultIdleTimeout;
  /// Give up when no session type arrived this long after connecting (the
  /// official client has no such timeout and hangs, 02 §2).
  std::chrono::seconds start_timeout{60};
  net::TlsOptions tls;
  /// Largest stream payload ssmc sends (stdio, port forwarding). The default
  /// is what the spec records as safe for the real gateway (03 §1
  /// StreamDataPayloadSize); larger values are for the emulator or at your risk.
  std::size_t payload_size = channel::kStreamDataPayloadSize;
  /// Bytes in flight follow the path's delay and rate (channel/send_window.hpp)
  /// so interactive data never queues behind megabytes of bulk data.
  bool adaptive_window = true;
  bool quiet = false;
  /// Library use: everything the session would print (diagnostics, banners,
  /// the close reason) and its lifecycle go here instead of stderr/stdout.
  std::function<void(SessionNotice notice, const std::string& text)> notify;
};

class ClientSession : public ChannelHandler {
 public:
  ClientSession(asio::any_io_executor ex, ClientOptions options, AwsClient* aws, std::unique_ptr<Mode> mode);
  ~ClientSession() override;

  /// Runs the session to its end; returns the process exit code.
  asio::awaitable<int> run();

  // --- for modes
  std::error_code send(wire::PayloadType type, std::span<const std::uint8_t> payload);
  /// send() with the payload written in place (DataChannel::send_with).
  std::error_code send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill);
  /// Ends the session with `exit_code`; `terminate` also calls TerminateSession.
  void finish(int exit_code, bool terminate = false);
  void set_receive_ready(bool ready);
  /// Overrides the exit code (exec: the remote command's status).
  void set_exit_code(int code) { exit_code_ = code; }
  int exit_code() const { return exit_code_; }
  asio::any_io_executor executor() const { return ex_; }
  const ClientOptions& options() const { return options_; }
  const std::string& session_id() const { return options_.ticket.session_id; }
  const std::string& agent_version() const { return agent_version_; }
  bool finished() const { return finishing_; }
  AwsClient* aws() const { return aws_; }
  /// Diagnostics: stderr, or stdout in plugin mode (07 §5). Always shown.
  void say(const std::string& text) const;
  /// Banners (not errors): suppressed by --quiet.
  void banner(const std::string& text) const {
    if (!options_.quiet || options_.plugin_mode) say(text);
  }
  ChannelRunner& runner() { return *runner_; }

  // --- ChannelHandler
  void on_event(channel::Event& event) override;
  void on_transport_lost(std::error_code error) override;
  void on_transport_restored(unsigned attempt) override;
  asio::awaitable<Result<channel::KmsResult>> kms(const channel::KmsRequest& request) override;

 private:
  asio::any_io_executor ex_;
  ClientOptions options_;
  AwsClient* aws_;
  std::unique_ptr<Mode> mode_;
  std::unique_ptr<ClientSource> source_;
  std::unique_ptr<ChannelRunner> runner_;
  std::string agent_version_;
  std::string close_reason_;
  int exit_code_ = kExitOk;
  bool started_ = false;
  bool finishing_ = false;
  bool terminate_requested_ = false;
  bool channel_closed_ = false;
};

}  // namespace ssmc::session
