// Property test over many seeds and link profiles: every byte in each
// direction is delivered exactly once and in order, nothing deadlocks, and
// memory stays within the configured windows.
#include <gtest/gtest.h>

#include "sim/network_sim.hpp"

namespace ssmc::sim {
namespace {

constexpr int kSeedsPerProfile = 1000;  // x 5 profiles = 5,000 sessions

class SimProperty : public ::testing::TestWithParam<LinkProfile> {};

TEST_P(SimProperty, EveryByteDeliveredExactlyOnceInOrderWithinBounds) {
  const LinkProfile profile = GetParam();
  for (int seed = 1; seed <= kSeedsPerProfile; ++seed) {
    SimConfig c;
    c.seed = static_cast<std::uint64_t>(seed) * 7919;
    c.link = profile;
    c.start = seed % 3 == 0 ? StartMode::kms_handshake
                            : (seed % 3 == 1 ? StartMode::port_handshake : StartMode::no_handshake);
    c.client_bytes = 8 * 1024 + static_cast<std::size_t>(seed % 7) * 1000;
    c.agent_bytes = 24 * 1024 + static_cast<std::size_t>(seed % 5) * 3333;
    c.chunk = 256 + static_cast<std::size_t>(seed % 4) * 400;
    // Small windows so that back-pressure and the bounds are exercised.
    c.client.send_window_messages = 8 + static_cast<std::size_t>(seed % 24);
    c.agent.send_window_messages = 8 + static_cast<std::size_t>(seed % 17);
    c.client.reorder_messages = c.agent.reorder_messages = 4 + static_cast<std::size_t>(seed % 16);
    c.agent.honor_pause = true;
    // Small receive buffers: held messages must resume when the app drains.
    if (seed % 2) c.client.receive_buffer_bytes = c.agent.receive_buffer_bytes = 2048;
    // Every fourth session: adaptive windows with a small floor and ceiling,
    // so that they, not the message count, limit what is in flight.
    if (seed % 4 == 0) {
      for (auto* e : {&c.client, &c.agent}) {
        e->adaptive_window = true;
        e->adaptive_window_min_bytes = 1024 + static_cast<std::size_t>(seed % 3) * 1024;
        e->send_window_bytes = 4096 + static_cast<std::size_t>(seed % 5) * 2048;
      }
    }
    const SimResult r = run_session(c);
    ASSERT_TRUE(r.completed && r.data_intact && r.bounded) << profile.name << " seed " << c.seed << ": " << r.failure;
    ASSERT_LE(r.max_client_unacked, c.client.send_window_messages);
    ASSERT_LE(r.max_agent_unacked, c.agent.send_window_messages);
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, SimProperty, ::testing::ValuesIn(standard_profiles()),
                         [](const ::testing::TestParamInfo<LinkProfile>& p) {
                           std::string n = p.param.name;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(SimRecovery, AllOutstandingMessagesAckedWithinTwoRtoAfterTransportDrop) {
  // 1,000 messages are in flight when the WebSocket drops (10 ms after they
  // were sent, before any ack). When the transport is back every one of them
  // must be resent at once, not one per 100 ms tick as the official client does.
  SimConfig c;
  c.seed = 42;
  c.link = {.name = "drop-once", .delay = 25ms, .outage = 100ms, .first_drop = 10ms};
  c.start = StartMode::no_handshake;
  c.client_bytes = 0;
  c.agent_bytes = 1000 * 1024;
  c.chunk = 1024;
  c.agent.send_window_messages = 2000;
  const SimResult r = run_session(c);
  ASSERT_TRUE(r.completed) << r.failure;
  EXPECT_EQ(r.transport_drops, 1u);
  EXPECT_EQ(r.agent_stats.stream_messages_sent, 1000u);
  EXPECT_GE(r.agent_stats.retransmissions, 1000u);
  const Duration recovery = r.elapsed - r.last_restore;
  EXPECT_LE(recovery, 2 * channel::kInitialRto)
      << "recovery " << std::chrono::duration<double>(recovery).count() << " s";
}

}  // namespace
}  // namespace ssmc::sim
