// The adaptive send window (src/channel/send_window.hpp): unit behaviour of
// the estimator, and in the simulator what it is for: a bulk transfer keeps
// its speed while the bytes queued ahead of anything else stay near the
// path's bandwidth-delay product instead of filling the whole fixed window.
#include <gtest/gtest.h>

#include "channel/send_window.hpp"
#include "sim/network_sim.hpp"

namespace ssmc::channel {
namespace {

constexpr std::size_t kMin = 64 * 1024;
constexpr std::size_t kMax = 16 * 1024 * 1024;
constexpr std::size_t kMsg = 1024;

/// Drives the window like a sender limited only by it: every round trip
/// the whole window is sent and acknowledged, one message at a time, each
/// `rtt` after it was sent.
struct Rounds {
  AdaptiveWindow w{kMax, kMin};
  TimePoint now{};
  void round(Duration rtt) {
    const std::size_t n = std::max<std::size_t>(1, w.window() / kMsg);
    std::vector<AdaptiveWindow::Stamp> stamps;
    for (std::size_t i = 0; i < n; ++i) stamps.push_back(w.stamp(now));
    now += rtt;
    for (const auto& s : stamps) w.on_ack(kMsg, rtt, s, now);
  }
};

TEST(AdaptiveWindow, StartsAtTheFloor) {
  AdaptiveWindow w(kMax, kMin);
  EXPECT_EQ(w.window(), kMin);
  AdaptiveWindow tiny(1000, kMin);  // a ceiling below the floor wins
  EXPECT_EQ(tiny.window(), 1000u);
}

TEST(AdaptiveWindow, GrowsWhileTheRoundTripStaysAtItsMinimum) {
  // No queue builds (RTT constant): the window doubles each round trip
  // until it reaches the ceiling, as a start-up phase should.
  Rounds r;
  std::size_t before = r.w.window();
  r.round(10ms);
  r.round(10ms);
  EXPECT_GT(r.w.window(), before);
  for (int i = 0; i < 20 && r.w.window() < kMax; ++i) r.round(10ms);
  EXPECT_EQ(r.w.window(), kMax);
}

TEST(AdaptiveWindow, SettlesAtGainTimesRateTimesMinimumRtt) {
  // A 1 MB/s path with a 20 ms minimum RTT: once a queue makes the RTT
  // grow, the window stays at about 2 x 1 MB/s x 20 ms = 40 KB, floored.
  AdaptiveWindow w(kMax, 4096);
  TimePoint now{};
  const double rate = 1e6;
  const Duration base = 20ms;
  for (int i = 0; i < 2000; ++i) {
    const auto stamp = w.stamp(now);
    // Queueing delay proportional to the window beyond one BDP.
    const double bdp = rate * std::chrono::duration<double>(base).count();
    const double queue_s = std::max(0.0, static_cast<double>(w.window()) - bdp) / rate;
    const Duration rtt = base + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(queue_s));
    now += std::chrono::microseconds(1024);  // one 1 KiB message per ms at 1 MB/s
    w.on_ack(kMsg, rtt, stamp, now);
  }
  EXPECT_EQ(w.min_rtt(), base);
  EXPECT_NEAR(w.max_rate(), rate, rate * 0.1);
  EXPECT_NEAR(static_cast<double>(w.window()), kWindowGain * rate * 0.020, 0.15 * kWindowGain * rate * 0.020);
}

TEST(AdaptiveWindow, ForgetsAnOldMinimumRttAndRate) {
  // A path that got slower (new route): after two estimation windows the
  // old, smaller RTT no longer counts.
  AdaptiveWindow w(kMax, 1024);
  TimePoint now{};
  for (int i = 0; i < 100; ++i) {
    const auto s = w.stamp(now);
    now += 1ms;
    w.on_ack(kMsg, 1ms, s, now);
  }
  EXPECT_EQ(w.min_rtt(), 1ms);
  for (int i = 0; i < 300; ++i) {
    const auto s = w.stamp(now);
    now += 100ms;
    w.on_ack(kMsg, 50ms, s, now);
  }
  EXPECT_EQ(w.min_rtt(), 50ms);
  EXPECT_LT(w.max_rate(), 20'000.0);  // 1 KiB per 100 ms, not the early 1 MB/s
}

TEST(AdaptiveWindow, NeverLeavesItsBounds) {
  AdaptiveWindow w(256 * 1024, 8192);
  TimePoint now{};
  for (int i = 0; i < 1000; ++i) {
    const auto s = w.stamp(now);
    now += std::chrono::microseconds(1 + (i * 7919) % 5000);
    w.on_ack(kMsg * (1 + i % 64), std::chrono::microseconds(1 + (i * 104729) % 90000), s, now);
    ASSERT_GE(w.window(), 8192u);
    ASSERT_LE(w.window(), 256u * 1024);
  }
}

TEST(AdaptiveWindow, HoldsAtLeastTwoOfTheLargestMessages) {
  AdaptiveWindow w(kMax, 32 * 1024);
  w.note_message(1024);
  EXPECT_EQ(w.window(), 32u * 1024) << "small messages: the floor";
  w.note_message(32 * 1024);
  EXPECT_EQ(w.window(), kMinWindowMessages * 32 * 1024) << "else one large message would be stop-and-wait";
  // Slow acknowledgements (a tiny rate) cannot take it below that either.
  TimePoint now{};
  for (int i = 0; i < 50; ++i) {
    const auto s = w.stamp(now);
    now += 100ms;
    w.on_ack(kMsg, 50ms, s, now);
  }
  EXPECT_EQ(w.window(), kMinWindowMessages * 32 * 1024);
  AdaptiveWindow mid(kMax, 32 * 1024);
  mid.note_message(16 * 1024);
  EXPECT_EQ(mid.window(), kFewMessagesCapBytes) << "four 16 KiB messages";
  mid.note_message(64 * 1024);
  EXPECT_EQ(mid.window(), kMinWindowMessages * 64 * 1024) << "two 64 KiB messages";
  AdaptiveWindow capped(48 * 1024, 32 * 1024);
  capped.note_message(32 * 1024);
  EXPECT_EQ(capped.window(), 48u * 1024) << "the ceiling still wins";
}

// ------------------------------------------------------------ in the simulator

sim::SimConfig bulk(bool adaptive) {
  sim::SimConfig c;
  c.seed = 11;
  // 4 MB/s with 25 ms each way: a bandwidth-delay product of 200 KB.
  c.link = {.name = "bottleneck", .delay = 25ms, .bandwidth = 4e6};
  c.start = sim::StartMode::no_handshake;
  c.client_bytes = 0;
  c.agent_bytes = 8 * 1024 * 1024;
  c.chunk = 1024;
  c.agent.send_window_messages = kAgentBufferCapacity;
  c.agent.adaptive_window = adaptive;
  c.agent.adaptive_window_min_bytes = 32 * 1024;
  return c;
}

TEST(AdaptiveWindowSim, BulkKeepsItsSpeedWithAFractionOfTheQueue) {
  const sim::SimResult fixed = sim::run_session(bulk(false));
  const sim::SimResult adaptive = sim::run_session(bulk(true));
  ASSERT_TRUE(fixed.completed && fixed.data_intact) << fixed.failure;
  ASSERT_TRUE(adaptive.completed && adaptive.data_intact) << adaptive.failure;
  const double fixed_s = std::chrono::duration<double>(fixed.elapsed).count();
  const double adaptive_s = std::chrono::duration<double>(adaptive.elapsed).count();
  // Within 15 % of the fixed window's time (which fills the link from the start)...
  EXPECT_LE(adaptive_s, fixed_s * 1.15) << "fixed " << fixed_s << " s, adaptive " << adaptive_s << " s";
  // ...with at most a few bandwidth-delay products queued instead of megabytes.
  constexpr std::size_t kBdp = 200'000;
  EXPECT_LE(adaptive.max_agent_unacked_bytes, 4 * kBdp);
  EXPECT_GT(fixed.max_agent_unacked_bytes, 20 * kBdp);
}

}  // namespace
}  // namespace ssmc::channel
