// Issue #8: "no per-message heap allocation on the data path". Once a
// client and an agent engine have warmed up, a bulk exchange of 1 KiB
// messages in both directions (send -> poll_output -> on_frame -> ack ->
// DataReceived -> recycle) allocates nothing: frames, acks, delivered
// buffers and every internal queue reuse their storage. Counted with a
// replacement global operator new (this test program only).
#include <gtest/gtest.h>

#include "channel/data_channel.hpp"
#include "support/counting_new.hpp"

namespace ssmc::channel {
namespace {

/// Messages per round and direction: more than one batch, fewer than the window.
constexpr int kMessagesPerRound = 64;
constexpr std::size_t kPayload = 1024;

struct EnginePair {
  crypto::DeterministicRandom client_rng{1}, agent_rng{2};
  DataChannel client, agent;
  TimePoint now{};
  std::vector<std::uint8_t> payload = std::vector<std::uint8_t>(kPayload, 0x5a);
  std::size_t client_got = 0, agent_got = 0;
  bool corrupt = false;

  static Config with_role(Role r) {
    Config c;
    c.role = r;
    return c;
  }

  EnginePair()
      : client(with_role(Role::client), client_rng, TimePoint{}),
        agent(with_role(Role::agent), agent_rng, TimePoint{}) {
    client.on_transport_ready(now);
    agent.on_transport_ready(now);
    agent.start_without_handshake();
    const std::uint8_t prompt[] = {'$', ' '};
    (void)agent.send(wire::PayloadType::output, prompt, now);
    exchange();
  }

  void drain(DataChannel& e, std::size_t& got) {
    while (auto ev = e.poll_event()) {
      if (auto* d = std::get_if<DataReceived>(&*ev)) {
        if (d->bytes.size() == kPayload && d->bytes != payload) corrupt = true;
        got += d->bytes.size();
        e.recycle(std::move(d->bytes));
      }
    }
  }

  /// Moves frames both ways until neither engine has output.
  void exchange() {
    for (bool moved = true; moved;) {
      moved = false;
      while (auto f = client.poll_output(now)) {
        agent.on_frame(*f, now);
        moved = true;
      }
      while (auto f = agent.poll_output(now)) {
        client.on_frame(*f, now);
        moved = true;
      }
      drain(client, client_got);
      drain(agent, agent_got);
    }
  }

  void round() {
    now += std::chrono::milliseconds(1);
    for (int i = 0; i < kMessagesPerRound; ++i) {
      ASSERT_FALSE(client.send(wire::PayloadType::output, payload, now));
      ASSERT_FALSE(agent.send(wire::PayloadType::output, payload, now));
    }
    exchange();
    if (auto d = client.next_deadline(); d && *d <= now) client.on_timer(now);
    if (auto d = agent.next_deadline(); d && *d <= now) agent.on_timer(now);
  }
};

TEST(EngineAllocations, SteadyBulkExchangeAllocatesNothing) {
  EnginePair p;
  for (int i = 0; i < 50; ++i) p.round();  // buffers and queues grow to their working size
  ASSERT_EQ(p.client.unacked_messages(), 0u);
  const std::size_t before_client = p.client_got, before_agent = p.agent_got;
  std::size_t allocations = 0;
  {
    test::AllocationCounter counter;
    for (int i = 0; i < 200; ++i) p.round();
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0u) << "allocations in 2 x 12,800 messages";
  EXPECT_EQ(p.client_got - before_client, 200u * kMessagesPerRound * kPayload);
  EXPECT_EQ(p.agent_got - before_agent, 200u * kMessagesPerRound * kPayload);
  EXPECT_FALSE(p.corrupt);
  EXPECT_EQ(p.client.unacked_messages(), 0u);
  EXPECT_EQ(p.agent.unacked_messages(), 0u);
}

}  // namespace
}  // namespace ssmc::channel
