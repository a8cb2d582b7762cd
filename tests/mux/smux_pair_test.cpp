// A client session and a server session over an in-memory byte pipe (the
// stand-in for the data channel): many concurrent streams carry seeded
// pseudo-random payloads both ways, cut at random points, under several
// buffer configurations. Every byte is compared as it arrives and each
// stream's SHA-256 at its end; the memory bounds are checked every round.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <random>

#include "crypto/sha256.hpp"
#include "mux/smux_session.hpp"
#include "mux_test_support.hpp"

namespace ssmc::mux {
namespace {

using namespace test;

struct PairParams {
  const char* name;
  SessionConfig client, server;
  std::size_t streams;
  std::size_t max_payload;                  ///< per direction and stream
  std::size_t max_out_chunk;                ///< poll_output sizes 1..this
  std::size_t max_in_chunk;                 ///< on_bytes sizes 1..this
  std::size_t pipe_limit;                   ///< bytes in flight per direction (the data channel's window)
  int consume_percent;                      ///< chance per round that a stream's delivered bytes are consumed
  bool expect_held = false;                 ///< the receive bucket must run empty at some point
  bool expect_would_block = false;          ///< send buffers must fill at some point
  std::chrono::milliseconds round_time{1};  ///< virtual time per round
};

void PrintTo(const PairParams& p, std::ostream* os) { *os << p.name; }

// Payload of stream `id` in one direction: size and bytes follow from the seed.
std::size_t payload_size(std::uint64_t seed, std::uint32_t id, bool upstream, std::size_t max) {
  std::mt19937_64 g(seed * 1000003 + id * 2 + (upstream ? 1 : 0));
  const auto r = g();
  if (r % 10 == 0) return 0;  // some streams send nothing
  return static_cast<std::size_t>(g() % (max + 1));
}
Bytes payload(std::uint64_t seed, std::uint32_t id, bool upstream, std::size_t max) {
  return pattern(seed * 7919 + id * 2 + (upstream ? 1 : 0), payload_size(seed, id, upstream, max));
}

struct StreamState {
  Bytes to_send;
  std::size_t sent = 0;
  bool blocked = false;     ///< got would_block; waiting for StreamWritable
  bool write_done = false;  ///< shutdown_write / close_stream called
  Bytes expected;
  std::size_t received = 0;
  crypto::Sha256 sha;
  std::size_t unconsumed = 0;
  bool finished = false;
  bool closed = false;
};

class Pair {
 public:
  Pair(const PairParams& p, std::uint64_t seed)
      : p_(p), seed_(seed), gen_(seed), now_(t0()), client_(p.client, now_), server_(p.server, now_) {}

  void run() {
    std::size_t opened = 0;
    std::size_t round = 0;
    std::uint32_t want_id = 3;
    for (; round < 2'000'000; ++round) {
      // The client opens a few streams per round.
      for (int k = 0; k < 3 && opened < p_.streams; ++k, ++opened) {
        auto id = client_.open_stream(now_);
        ASSERT_TRUE(id) << id.error().message();
        ASSERT_EQ(*id, want_id) << "ids 3, 5, 7, ... (06 §5.3)";
        want_id += 2;
        auto& st = cstreams_[*id];
        st.to_send = payload(seed_, *id, true, p_.max_payload);
        st.expected = payload(seed_, *id, false, p_.max_payload);
      }
      app(client_, cstreams_, /*is_client=*/true);
      app(server_, sstreams_, /*is_client=*/false);
      transfer(client_, server_, c2s_, c2s_pos_);
      transfer(server_, client_, s2c_, s2c_pos_);
      check_bounds(client_);
      check_bounds(server_);
      if (::testing::Test::HasFatalFailure()) return;
      now_ += p_.round_time;
      for (SmuxSession* m : {&client_, &server_})
        if (auto d = m->next_deadline(); d && *d <= now_) m->on_timer(now_);
      if (opened == p_.streams && done()) break;
    }
    ASSERT_TRUE(done()) << "stalled after " << round << " rounds";
    EXPECT_EQ(client_.stream_count(), 0u);
    EXPECT_EQ(server_.stream_count(), 0u);
    EXPECT_EQ(client_.receive_buffered(), 0u);
    EXPECT_EQ(server_.receive_buffered(), 0u);
    EXPECT_EQ(client_.stats().streams_opened, p_.streams);
    EXPECT_EQ(server_.stats().streams_accepted, p_.streams);
    EXPECT_EQ(client_.stats().data_bytes_discarded + server_.stats().data_bytes_discarded, 0u);
    EXPECT_FALSE(client_.dead());
    EXPECT_FALSE(server_.dead());
    // The run exercised what it is meant to.
    if (p_.expect_would_block) {
      EXPECT_GT(would_blocks_, 0u) << "send back-pressure never happened";
    }
    if (p_.expect_held) {
      EXPECT_GT(client_.stats().frames_held + server_.stats().frames_held, 0u);
    }
    if (p_.client.version == wire::kSmuxVersion2) {
      EXPECT_GT(client_.stats().upds_in + server_.stats().upds_in, 0u);
    }
    if (p_.client.keep_alive) {
      EXPECT_GT(client_.stats().nops_in + server_.stats().nops_in, 0u);
    }
  }

 private:
  bool done() const {
    if (cstreams_.size() != p_.streams || sstreams_.size() != p_.streams) return false;
    for (const auto* m : {&cstreams_, &sstreams_})
      for (const auto& [id, st] : *m)
        if (!st.closed) return false;
    return true;
  }

  void app(SmuxSession& mux, std::map<std::uint32_t, StreamState>& streams, bool is_client) {
    while (auto e = mux.poll_event()) {
      if (auto* o = std::get_if<StreamOpened>(&*e)) {
        ASSERT_FALSE(is_client) << "the server never opens streams here";
        ASSERT_FALSE(streams.contains(o->id));
        auto& st = streams[o->id];
        st.to_send = payload(seed_, o->id, false, p_.max_payload);
        st.expected = payload(seed_, o->id, true, p_.max_payload);
      } else if (auto* d = std::get_if<StreamData>(&*e)) {
        ASSERT_TRUE(streams.contains(d->id));
        auto& st = streams[d->id];
        ASSERT_FALSE(st.finished);
        ASSERT_LE(st.received + d->bytes.size(), st.expected.size()) << "stream " << d->id;
        ASSERT_TRUE(std::equal(d->bytes.begin(), d->bytes.end(), st.expected.begin() + st.received))
            << "stream " << d->id << " at " << st.received;
        st.sha.update(d->bytes);
        st.received += d->bytes.size();
        st.unconsumed += d->bytes.size();
        mux.recycle(std::move(d->bytes));
      } else if (auto* f = std::get_if<StreamFinished>(&*e)) {
        auto& st = streams[f->id];
        ASSERT_EQ(st.received, st.expected.size()) << "FIN before all data, stream " << f->id;
        EXPECT_EQ(st.sha.finish(), crypto::sha256(st.expected)) << "stream " << f->id;
        st.finished = true;
      } else if (auto* w = std::get_if<StreamWritable>(&*e)) {
        ASSERT_TRUE(streams[w->id].blocked) << "StreamWritable without would_block";
        streams[w->id].blocked = false;
      } else if (auto* dead = std::get_if<SessionDead>(&*e)) {
        FAIL() << "session died: " << dead->error.message();
      }
    }
    for (auto& [id, st] : streams) {
      if (st.closed) continue;
      // Consume delivered bytes, sometimes only part, sometimes not at all.
      if (st.unconsumed > 0 && static_cast<int>(gen_() % 100) < p_.consume_percent) {
        const std::size_t n = gen_() % 2 ? st.unconsumed : 1 + gen_() % st.unconsumed;
        mux.consumed(id, n, now_);
        st.unconsumed -= n;
      }
      // Write while there is room; sometimes deliberately more than fits.
      while (!st.blocked && st.sent < st.to_send.size()) {
        const std::size_t room = mux.send_room(id);
        std::size_t n = std::min(st.to_send.size() - st.sent, 1 + gen_() % 40'000);
        if (gen_() % 4 != 0) n = std::min(n, std::max<std::size_t>(room, 1));
        n = std::min(n, mux.config().max_stream_send_buffer);
        const auto ec = mux.write(id, std::span(st.to_send).subspan(st.sent, n), now_);
        if (ec == make_error_code(Errc::would_block)) {
          ASSERT_GT(n, room);
          ++would_blocks_;
          st.blocked = true;
          break;
        }
        ASSERT_FALSE(ec) << ec.message();
        st.sent += n;
      }
      if (st.sent == st.to_send.size() && !st.write_done) {
        // Client: half close when done. Server: full close once the request is complete.
        if (is_client) {
          ASSERT_FALSE(mux.shutdown_write(id, now_));
          st.write_done = true;
        } else if (st.finished) {
          ASSERT_FALSE(mux.close_stream(id, now_));
          st.write_done = st.closed = true;
        }
      }
      if (is_client && st.write_done && st.finished && !st.closed) {
        ASSERT_FALSE(mux.close_stream(id, now_));
        st.closed = true;
      }
    }
  }

  void transfer(SmuxSession& from, SmuxSession& to, Bytes& pipe, std::size_t& pos) {
    while (pipe.size() - pos < p_.pipe_limit && from.has_output()) {
      const std::size_t n = from.poll_output(pipe, 1 + gen_() % p_.max_out_chunk, now_);
      ASSERT_GT(n, 0u) << "has_output promised bytes";
    }
    while (pos < pipe.size() && to.wants_input()) {
      const std::size_t n = std::min<std::size_t>(1 + gen_() % p_.max_in_chunk, pipe.size() - pos);
      to.on_bytes(std::span(pipe).subspan(pos, n), now_);
      pos += n;
    }
    if (pos == pipe.size()) {
      pipe.clear();
      pos = 0;
    } else if (pos > (1u << 20)) {
      pipe.erase(pipe.begin(), pipe.begin() + static_cast<std::ptrdiff_t>(pos));
      pos = 0;
    }
  }

  void check_bounds(const SmuxSession& m) {
    const auto& c = m.config();
    ASSERT_LE(m.receive_buffered(), c.max_receive_buffer + wire::kSmuxMaxLength - 1);
    ASSERT_LE(m.held_input_bytes(), c.max_input_backlog);
    ASSERT_LE(m.queued_send_bytes(), c.max_session_send_buffer);
    ASSERT_LT(m.parser_buffered_bytes(), wire::smux_frame_size(wire::kSmuxMaxLength));
    ASSERT_LE(m.stream_count(), c.max_streams);
  }

  const PairParams& p_;
  std::uint64_t seed_;
  std::mt19937_64 gen_;
  TimePoint now_;
  SmuxSession client_, server_;
  std::map<std::uint32_t, StreamState> cstreams_, sstreams_;
  Bytes c2s_, s2c_;
  std::size_t c2s_pos_ = 0, s2c_pos_ = 0;
  std::size_t would_blocks_ = 0;
};

SessionConfig base(Role role) {
  SessionConfig c;
  c.role = role;
  c.keep_alive = false;
  return c;
}

PairParams defaults() {
  return {"defaults", base(Role::client), base(Role::server), 24, 200'000, 1024, 1024, 64 * 1024, 90};
}

PairParams small_buffers() {
  PairParams p{"small buffers, keep-alive", base(Role::client), base(Role::server), 32, 60'000, 64, 3000, 4096, 30};
  for (SessionConfig* c : {&p.client, &p.server}) {
    c->keep_alive = true;
    c->max_frame_data = 1000;
    c->max_receive_buffer = 20'000;
    c->max_stream_send_buffer = 6'000;
    c->max_session_send_buffer = 25'000;
  }
  p.expect_held = p.expect_would_block = true;
  p.round_time = std::chrono::milliseconds(100);  // long enough for NOPs
  return p;
}

PairParams tiny_frames() {
  PairParams p{"1-byte frames, 1-byte bucket", base(Role::client), base(Role::server), 6, 3'000, 5, 40, 64, 50};
  for (SessionConfig* c : {&p.client, &p.server}) {
    c->max_frame_data = 1;
    c->max_receive_buffer = 1;
    c->max_stream_send_buffer = 7;
  }
  p.expect_held = p.expect_would_block = true;
  return p;
}

PairParams version2() {
  PairParams p{"version 2", base(Role::client), base(Role::server), 16, 400'000, 3000, 5000, 256 * 1024, 60};
  for (SessionConfig* c : {&p.client, &p.server}) {
    c->version = wire::kSmuxVersion2;
    c->max_stream_buffer = 16 * 1024;
  }
  return p;
}

PairParams large_chunks() {
  PairParams p{"large chunks", base(Role::client), base(Role::server), 8, 1'000'000, 70'000, 70'000, 1 << 20, 100};
  for (SessionConfig* c : {&p.client, &p.server}) c->max_stream_send_buffer = 1 << 20;
  return p;
}

class SmuxPair : public ::testing::TestWithParam<PairParams> {};

TEST_P(SmuxPair, ManyConcurrentStreamsArriveIntactBothWays) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Pair pair(GetParam(), seed);
    pair.run();
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, SmuxPair,
                         ::testing::Values(defaults(), small_buffers(), tiny_frames(), version2(), large_chunks()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.name;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace ssmc::mux
