// The emulator's agent: one AgentSession per SSM session, running the agent
// role of the data-channel engine (08 §4) and a session plugin (08 §5).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "emulator/emulator.hpp"
#include "emulator/recorder.hpp"
#include "session/runner.hpp"

namespace ssmc::emulator {

namespace asio = boost::asio;
class AgentSession;

/// What StartSession resolved from the document (01 §7).
struct SessionSpec {
  std::string session_id;
  std::string target_id;
  std::string agent_version;
  std::string platform = "Linux";
  std::string document_name;
  /// Standard_Stream | InteractiveCommands | NonInteractiveCommands | Port
  std::string session_type;
  /// Port properties, or the per-platform command properties; null otherwise.
  boost::json::value properties;
  std::string command;           ///< InteractiveCommands / NonInteractiveCommands
  bool separate_output = false;  ///< NonInteractiveCommands separateOutputStream
  std::string kms_key_id;        ///< non-empty: KMS encryption
};

/// A session plugin (shell, command, port). Runs on the agent's executor.
class Plugin {
 public:
  virtual ~Plugin() = default;
  /// The session is running (after the handshake, or at once without one).
  virtual void start() = 0;
  /// A stream payload from the client, in order.
  virtual void on_input(wire::PayloadType type, std::span<const std::uint8_t> payload) = 0;
  /// Send window has room again.
  virtual void on_writable() {}
  /// The session is being torn down: release processes, fds, sockets.
  virtual void stop() = 0;
};

/// Built-in KMS (GenerateDataKey / Decrypt share this store, 08 §6).
class KmsStore {
 public:
  /// Returns {ciphertext handle, 64-byte plaintext}.
  std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>> generate(
      const std::vector<std::pair<std::string, std::string>>& context);
  /// The plaintext for a handle if the context matches exactly.
  std::optional<std::vector<std::uint8_t>> decrypt(const std::vector<std::uint8_t>& blob,
                                                   const std::vector<std::pair<std::string, std::string>>& context);

 private:
  struct Key {
    std::vector<std::uint8_t> plaintext;
    std::vector<std::pair<std::string, std::string>> context;
  };
  std::map<std::vector<std::uint8_t>, Key> keys_;
};

/// Seeded frame-level faults (loss, duplication, reordering, corruption).
class FaultFilter final : public session::FrameFilter {
 public:
  explicit FaultFilter(const FaultConfig& config);
  void outgoing(std::span<const std::uint8_t> frame, channel::TimePoint now,
                std::vector<std::vector<std::uint8_t>>& out) override;
  void incoming(std::span<const std::uint8_t> frame, channel::TimePoint now,
                std::vector<std::vector<std::uint8_t>>& out) override;
  channel::Duration delay(bool outgoing) override;
  /// Called (once per leg) when drop_client_after frames went out on it.
  std::function<void()> drop_client;
  /// A new client leg: count its frames from zero.
  void new_leg() { leg_frames_ = 0; }
  /// The agent leg is down until `until`: every frame either way is lost.
  void agent_outage_until(channel::TimePoint until) { outage_until_ = until; }
  bool agent_down(channel::TimePoint now) const { return now < outage_until_; }

 private:
  void apply(std::span<const std::uint8_t> frame, std::optional<std::vector<std::uint8_t>>& held,
             std::vector<std::vector<std::uint8_t>>& out);
  bool chance(double p);
  FaultConfig config_;
  std::mt19937_64 rng_;
  std::optional<std::vector<std::uint8_t>> held_out_, held_in_;
  channel::TimePoint outage_until_{};
  std::uint64_t leg_frames_ = 0;
};

class AgentSession : public session::ChannelHandler,
                     public session::TransportSource,
                     public std::enable_shared_from_this<AgentSession> {
 public:
  AgentSession(asio::any_io_executor ex, SessionSpec spec, const Config& config, KmsStore& kms,
               std::function<void(const std::string&)> on_end);
  ~AgentSession() override;

  /// Starts the engine (handshake or plugin) and the runner.
  void begin();
  /// The gateway hands over a client WebSocket (first or replacement leg)
  /// whose OpenDataChannel text (recorded) it accepted.
  void attach(std::unique_ptr<net::WebSocket> ws, std::string_view open_data_channel);
  /// Ends the session: channel_closed with `reason` as Output ("" = normal end).
  void terminate(const std::string& reason);
  bool ended() const { return ending_; }
  /// channel_closed has gone out (or the session is over): no more legs or resumes.
  bool closed() const { return closed_sent_ || finished_; }
  bool client_connected() const { return client_connected_; }
  const SessionSpec& spec() const { return spec_; }

  // --- for plugins
  asio::any_io_executor executor() const { return ex_; }
  std::size_t chunk_size() const { return chunk_; }
  const Config& config() const { return config_; }
  /// Queues a stream message; would_block means wait for on_writable().
  std::error_code send(wire::PayloadType type, std::span<const std::uint8_t> payload);
  /// send() with the payload written in place (DataChannel::send_with).
  std::error_code send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill);
  void set_receive_ready(bool ready);
  /// The plugin finished: drain (≤ 2 s), then channel_closed.
  void plugin_done(const std::string& reason = {});

  // --- ChannelHandler / TransportSource
  void on_event(channel::Event& event) override;
  asio::awaitable<Result<channel::KmsResult>> kms(const channel::KmsRequest& request) override;
  asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> next(unsigned attempt) override;
  void on_transport_lost(std::error_code error) override;

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> finish(std::string reason);
  void start_plugin();
  void touch_idle();

  asio::any_io_executor ex_;
  SessionSpec spec_;
  const Config& config_;
  KmsStore& kms_;
  std::function<void(const std::string&)> on_end_;
  std::size_t chunk_;
  std::unique_ptr<FaultFilter> faults_;
  std::unique_ptr<Recorder> recorder_;  ///< --record-dir
  std::unique_ptr<session::ChannelRunner> runner_;
  std::unique_ptr<Plugin> plugin_;
  std::unique_ptr<net::WebSocket> pending_;
  asio::steady_timer attach_wait_;
  asio::steady_timer service_timer_;  ///< idle / max-duration / drop-every
  std::chrono::steady_clock::time_point started_at_, last_input_;
  bool client_connected_ = false;
  bool plugin_started_ = false;
  bool ending_ = false;
  bool finished_ = false;
  bool plugin_ready_ = true;       ///< the plugin's own receive back-pressure
  bool consumer_stalled_ = false;  ///< --stall-consumer-every in force
  void apply_receive_ready();
  bool closed_sent_ = false;
};

/// Plugin factories (agent.cpp, port_plugin.cpp).
std::unique_ptr<Plugin> make_shell_plugin(AgentSession& session);
std::unique_ptr<Plugin> make_command_plugin(AgentSession& session);
std::unique_ptr<Plugin> make_port_plugin(AgentSession& session);

}  // namespace ssmc::emulator
