// A deterministic network simulator (virtual time, seeded) that connects a
// client DataChannel and an agent DataChannel: delay, jitter, bandwidth, loss,
// duplication, reordering and transport drops. Used by property tests and by
// the recovery benchmarks. Modelled on ngtcp2's examples/sim.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "channel/data_channel.hpp"

namespace ssmc::sim {

using channel::Duration;
using channel::TimePoint;
using namespace std::chrono_literals;

struct LinkProfile {
  std::string name = "perfect";
  Duration delay = 0ms;             ///< one-way propagation delay
  Duration jitter = 0ms;            ///< uniform extra delay in [0, jitter]
  double bandwidth = 0;             ///< bytes per second per direction, 0 = unlimited
  double loss = 0;                  ///< probability a frame is lost
  double duplicate = 0;             ///< probability a frame is delivered twice
  double reorder = 0;               ///< probability a frame gets extra delay (2..4 x delay + 5 ms)
  Duration drop_every = 0ms;        ///< transport (WebSocket) drop period, 0 = never
  Duration outage = 50ms;           ///< how long a drop lasts before the transport is back
  Duration first_drop = 0ms;        ///< time of the first drop (0 = drop_every); then every drop_every
};

/// gtest printer: the profile's name.
inline void PrintTo(const LinkProfile& p, std::ostream* os) { *os << p.name; }

/// Standard profiles used by the property tests.
std::vector<LinkProfile> standard_profiles();

/// How the session starts.
enum class StartMode { no_handshake, port_handshake, kms_handshake };

struct SimConfig {
  std::uint64_t seed = 1;
  LinkProfile link;
  StartMode start = StartMode::port_handshake;
  std::size_t client_bytes = 64 * 1024;  ///< client -> agent payload bytes
  std::size_t agent_bytes = 64 * 1024;   ///< agent -> client payload bytes
  std::size_t chunk = 1024;              ///< payload size per message
  channel::Config client;                ///< role forced to client
  channel::Config agent;                 ///< role forced to agent
  Duration time_limit = 600s;            ///< virtual time budget
};

struct SimResult {
  bool completed = false;       ///< all bytes delivered in both directions and acknowledged
  bool data_intact = false;     ///< delivered bytes equal sent bytes, in order, exactly once
  bool bounded = true;          ///< memory bounds held at every step
  std::string failure;          ///< why, when not completed/intact/bounded
  Duration elapsed{};           ///< virtual time until completion
  Duration last_restore{};      ///< virtual time the transport last came back
  Duration client_rto{}, agent_rto{};  ///< RTO at the end
  std::uint64_t frames_lost = 0, frames_duplicated = 0, transport_drops = 0;
  channel::Stats client_stats, agent_stats;
  std::size_t max_client_unacked = 0, max_agent_unacked = 0;
  std::size_t max_client_unacked_bytes = 0, max_agent_unacked_bytes = 0;
  std::size_t max_client_reorder = 0, max_agent_reorder = 0;
};

/// Runs one simulated session to completion (or failure) and reports.
SimResult run_session(const SimConfig& config);

/// Fake KMS shared by the simulator and tests: GenerateDataKey returns a
/// deterministic 64-byte key and a "ciphertext" Decrypt can invert.
channel::KmsResult fake_kms(const channel::KmsRequest& request, std::uint64_t seed);

}  // namespace ssmc::sim
