// ssmc-emulator: a local SSM API + message gateway + agent (spec 08) on one
// io_context. Integrated topology (08 §1): the agent's data channel runs
// in-process and writes straight onto the client's WebSocket, with seeded
// fault injection in between.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ssmc::emulator {

using Duration = std::chrono::steady_clock::duration;

/// Agent version the emulator reports unless a target says otherwise (agent
/// tag of the transcripts, README "Sources").
inline constexpr std::string_view kDefaultAgentVersion = "3.3.1142.0";
/// A token is valid this long after StartSession/ResumeSession (UNVERIFIED: the
/// real lifetime is "long enough to ensure the connection is successful", 01 §3).
inline constexpr std::chrono::seconds kDefaultTokenLifetime{60};
/// How long a session without a client leg is kept for ResumeSession.
inline constexpr std::chrono::minutes kDefaultResumeGrace{5};
/// Agent: drain before closing (08 §4.6, 4.7).
inline constexpr std::chrono::seconds kAgentDrainTimeout{2};
/// Agent read chunk: 1024 bytes + pump sleep of 1 ms (08 §4.7) — the
/// `faithful` profile's pacing: 1000 messages/s.
inline constexpr std::size_t kFaithfulChunk = 1024;
inline constexpr double kFaithfulMessagesPerSecond = 1000.0;
/// `fast` profile: large payloads, no pacing.
inline constexpr std::size_t kFastChunk = 32 * 1024;
/// Upper end of --payload-size (one smux frame's data, rounded up).
inline constexpr std::size_t kMaxPayloadSize = 64 * 1024;

struct Target {
  std::string id;    ///< i-…, mi-…
  std::string name;  ///< tag Name
  std::string platform = "Linux";
  std::string agent_version{kDefaultAgentVersion};
  bool online = true;
  std::map<std::string, std::string> tags;
};

/// Seeded fault injection (applied per session, both directions).
struct FaultConfig {
  std::uint64_t seed = 1;
  double loss = 0;       ///< probability a frame is dropped
  double duplicate = 0;  ///< probability a frame is sent twice
  double reorder = 0;    ///< probability a frame is held back behind the next one
  double corrupt = 0;    ///< probability a frame's digest byte is flipped
  /// Extra one-way latency of every frame, both directions, plus a uniform
  /// random part up to `jitter` (which also reorders frames).
  Duration delay{};
  Duration jitter{};
  /// Drop the client's WebSocket after this many frames sent to it (0 = never).
  unsigned drop_client_after = 0;
  /// Drop the client's WebSocket every period (0 = never).
  Duration drop_client_every{};
  /// Agent-side drops (08 §1): every period the agent's own leg to the gateway
  /// goes down for `agent_outage`; frames both ways are lost meanwhile and the
  /// agent engine retransmits after it "reconnects". The client's WebSocket stays up.
  Duration drop_agent_every{};
  Duration agent_outage = std::chrono::seconds(1);
  /// Send pause_publication/start_publication to the agent engine every period.
  Duration pause_every{};
  /// Stalled consumer: every period the agent stops taking the client's input
  /// for `stall_consumer_for` (nothing delivered, nothing acknowledged: the
  /// client's window fills and it retransmits), then takes it again.
  Duration stall_consumer_every{};
  Duration stall_consumer_for = std::chrono::seconds(2);
  /// Emit channel_closed with HL 112 + NUL padding (02 §9.5).
  bool short_channel_closed = false;
  /// Service-side timers: idle (no client input) and maximum session duration.
  Duration idle_timeout{};
  Duration max_duration{};
};

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  bool tls = false;
  std::string region = "us-east-1";
  /// Credentials the fake API accepts (SigV4-verified).
  std::string access_key_id = "AKIAEMULATOR00000000";
  std::string secret_access_key = "ssmc-emulator-secret-key";
  /// More keys the API accepts, each optionally only for a while after the
  /// emulator started (then calls signed with it get ExpiredTokenException,
  /// as AWS answers expired temporary credentials).
  struct ExtraCredential {
    std::string access_key_id, secret_access_key;
    std::optional<Duration> valid_for;
  };
  std::vector<ExtraCredential> extra_credentials;
  /// The primary key (above) stops being accepted this long after start (none = never).
  std::optional<Duration> primary_valid_for;
  bool require_signed_api = true;
  /// Refuse unsigned WebSocket upgrades with 403 (strict MGS switch, 08 §3.1).
  bool require_signed_upgrade = false;
  std::vector<Target> targets;
  /// "faithful" or "fast" (agent payload size and pacing).
  std::string profile = "faithful";
  /// Largest agent payload (0 = the profile's: 1024 faithful, 32 KiB fast).
  std::size_t payload_size = 0;
  FaultConfig faults;
  /// Hosts the agent may dial for port sessions (loopback by default).
  std::vector<std::string> allow_hosts{"127.0.0.1", "::1", "localhost"};
  /// KMS key id: when set, shell sessions use KMS encryption (04).
  std::string kms_key_id;
  /// Shell for Standard_Stream sessions.
  std::string shell = "/bin/sh";
  Duration token_lifetime = kDefaultTokenLifetime;
  Duration resume_grace = kDefaultResumeGrace;
  /// ResumeSession returns a different StreamUrl (extra cell-number) to test
  /// that clients follow it (08 §2).
  bool resume_new_url = false;
  /// Directory for JSONL transcripts of every session ("" = none).
  std::string record_dir;
};

/// Counters for tests and the operator.
struct Stats {
  unsigned sessions_started = 0;
  unsigned sessions_active = 0;
  unsigned api_rejected = 0;
  unsigned tokens_rejected = 0;
  unsigned client_connections = 0;
};

class Emulator {
 public:
  /// Starts listening. Errors: bind failures, bad host, TLS set-up.
  static Result<std::unique_ptr<Emulator>> start(boost::asio::any_io_executor ex, Config config);
  ~Emulator();
  std::uint16_t port() const;
  /// http(s)://host:port — the SSM endpoint (and the KMS one).
  std::string endpoint_url() const;
  /// PEM of the generated certificate when tls is on.
  const std::string& certificate_pem() const;
  const Stats& stats() const;
  /// Ends every session (clients get channel_closed); keeps listening.
  void end_sessions(const std::string& reason = "ssmc-emulator is shutting down");
  /// Ends every session and stops listening at once (open connections are cut).
  void stop();

  struct Impl;

 private:
  explicit Emulator(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ssmc::emulator
