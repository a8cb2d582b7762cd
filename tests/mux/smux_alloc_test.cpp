// The steady-state data path allocates nothing: once buffers have grown, a
// bulk transfer between two sessions (write → poll_output in 1024-byte
// Output-sized pieces → on_bytes → StreamData → consumed → recycle) reuses
// them. Counted with a replacement global operator new (this test program
// only).
#include <gtest/gtest.h>

#include "mux/smux_session.hpp"
#include "mux_test_support.hpp"
#include "support/counting_new.hpp"

namespace ssmc::mux {
namespace {

using namespace test;

struct BulkPair {
  SmuxSession client{config(Role::client), t0()};
  SmuxSession server{config(Role::server), t0()};
  std::uint32_t id = 0;
  Bytes chunk = pattern(1, 32 * 1024);
  Bytes pipe;
  std::size_t received = 0;
  bool corrupt = false;

  static SessionConfig config(Role role) {
    SessionConfig c;
    c.role = role;
    c.keep_alive = true;  // timers are part of the steady state too
    return c;
  }

  BulkPair() {
    pipe.reserve(1024);
    id = *client.open_stream(t0());
  }

  void round(TimePoint now) {
    while (client.send_room(id) >= chunk.size()) (void)client.write(id, chunk, now);
    for (SmuxSession* m : {&client, &server})
      if (auto d = m->next_deadline(); d && *d <= now) m->on_timer(now);
    while (client.has_output()) {
      pipe.clear();
      client.poll_output(pipe, 1024, now);
      server.on_bytes(pipe, now);
    }
    while (server.has_output()) {  // NOPs
      pipe.clear();
      server.poll_output(pipe, 1024, now);
      client.on_bytes(pipe, now);
    }
    while (auto e = server.poll_event()) {
      if (auto* d = std::get_if<StreamData>(&*e)) {
        if (d->bytes.empty() || d->bytes[0] != chunk[received % chunk.size()]) corrupt = true;
        received += d->bytes.size();
        server.consumed(d->id, d->bytes.size(), now);
        server.recycle(std::move(d->bytes));
      }
    }
    while (client.poll_event()) {
    }
  }
};

TEST(SmuxAllocation, SteadyStateBulkTransferDoesNotAllocate) {
  BulkPair pair;
  auto now = t0();
  for (int i = 0; i < 20; ++i, now += std::chrono::seconds(1)) pair.round(now);
  ASSERT_FALSE(pair.corrupt);
  const std::size_t before = pair.received;

  std::size_t allocations = 0;
  {
    ssmc::test::AllocationCounter counter;
    for (int i = 0; i < 200; ++i, now += std::chrono::seconds(1)) pair.round(now);
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_FALSE(pair.corrupt);
  EXPECT_GT(pair.received - before, std::size_t{200} * 200 * 1024) << "data flowed";
  EXPECT_FALSE(pair.client.dead());
  EXPECT_FALSE(pair.server.dead());
  EXPECT_GT(pair.client.stats().nops_out, 15u);
}

}  // namespace
}  // namespace ssmc::mux
