// Data-channel engine benchmarks (issue "Data channel engine"):
//  - a client and an agent engine exchanging 1 KiB messages over a perfect
//    in-memory link, against the bound of two SHA-256 digests of 1 KiB
//    measured in the same run (one to send, one to verify);
//  - recovery figures from the deterministic simulator (virtual time).
#include <benchmark/benchmark.h>

#include "channel/data_channel.hpp"
#include "crypto/sha256.hpp"
#include "sim/network_sim.hpp"

namespace {

using namespace ssmc;
using namespace ssmc::channel;

constexpr std::size_t kPayload = 1024;

void BM_TwoSha256_1KiB(benchmark::State& state) {
  std::vector<std::uint8_t> buf(kPayload, 0x5a);
  for (auto _ : state) {
    auto a = crypto::sha256(buf);
    buf[0] ^= a[0];
    auto b = crypto::sha256(buf);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwoSha256_1KiB);

// One message client -> agent, delivered, acked, ack processed: a full
// exchange on one core.
void BM_EnginePair_1KiB(benchmark::State& state) {
  crypto::DeterministicRandom rc(1), ra(2);
  Config cc, ca;
  ca.role = Role::agent;
  cc.newline_quirk = false;
  TimePoint now{};
  DataChannel client(cc, rc, now), agent(ca, ra, now);
  agent.start_without_handshake();
  // Bring the client to running: the agent speaks first.
  const std::uint8_t prompt[] = {'$'};
  agent.send(wire::PayloadType::output, prompt, now);
  while (auto f = agent.poll_output(now)) client.on_frame(*f, now);
  while (auto f = client.poll_output(now)) agent.on_frame(*f, now);
  while (client.poll_event()) {
  }
  std::vector<std::uint8_t> payload(kPayload, 0x42);
  std::uint64_t delivered = 0;
  for (auto _ : state) {
    now += std::chrono::microseconds(10);
    if (client.send(wire::PayloadType::output, payload, now)) state.SkipWithError("send refused");
    while (auto f = client.poll_output(now)) agent.on_frame(*f, now);
    while (auto e = agent.poll_event()) delivered += std::get<DataReceived>(*e).bytes.size();
    while (auto f = agent.poll_output(now)) client.on_frame(*f, now);
  }
  if (client.unacked_messages() != 0) state.SkipWithError("messages left unacked");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(delivered));
}
BENCHMARK(BM_EnginePair_1KiB);

// 10 MiB agent -> client at 5 % frame loss and 100 ms RTT (virtual time).
void BM_SimDeliver10MiB_Loss5_Rtt100(benchmark::State& state) {
  sim::SimResult r;
  for (auto _ : state) {
    sim::SimConfig c;
    c.seed = 5;
    c.link = {.name = "loss5-rtt100", .delay = std::chrono::milliseconds(50), .loss = 0.05};
    c.start = sim::StartMode::port_handshake;
    c.client_bytes = 0;
    c.agent_bytes = 10 * 1024 * 1024;
    c.chunk = 1024;
    c.agent.send_window_messages = kAgentBufferCapacity;
    r = sim::run_session(c);
    if (!r.completed) state.SkipWithError(r.failure.c_str());
  }
  const double secs = std::chrono::duration<double>(r.elapsed).count();
  state.counters["virtual_seconds"] = secs;
  state.counters["virtual_MiB_per_s"] = 10.0 / secs;
  state.counters["retransmissions"] = static_cast<double>(r.agent_stats.retransmissions);
}
BENCHMARK(BM_SimDeliver10MiB_Loss5_Rtt100)->Iterations(1)->Unit(benchmark::kMillisecond);

// 1,000 messages in flight when the transport drops: time from the transport
// coming back until every one is acknowledged (target <= 2 RTO; the official
// one-head-per-100-ms-tick scheme needs ~100 s).
void BM_SimRecover1000AfterDrop(benchmark::State& state) {
  sim::SimResult r;
  for (auto _ : state) {
    sim::SimConfig c;
    c.seed = 42;
    c.link = {.name = "drop-once", .delay = std::chrono::milliseconds(25), .outage = std::chrono::milliseconds(100),
              .first_drop = std::chrono::milliseconds(10)};
    c.start = sim::StartMode::no_handshake;
    c.client_bytes = 0;
    c.agent_bytes = 1000 * 1024;
    c.agent.send_window_messages = 2000;
    r = sim::run_session(c);
    if (!r.completed) state.SkipWithError(r.failure.c_str());
  }
  const double recovery = std::chrono::duration<double>(r.elapsed - r.last_restore).count();
  state.counters["recovery_seconds"] = recovery;
  state.counters["rto_seconds"] = std::chrono::duration<double>(r.agent_rto).count();
  state.counters["recovery_in_initial_rto"] = recovery / std::chrono::duration<double>(kInitialRto).count();
}
BENCHMARK(BM_SimRecover1000AfterDrop)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
