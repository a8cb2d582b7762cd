// smux session engine, one behaviour at a time: stream ids, the spec's
// frame examples, FIN and half close, fairness, receive back-pressure,
// keep-alive timing in virtual time, protocol errors, unknown streams,
// limits, and version-2 windows.
#include <gtest/gtest.h>

#include <variant>

#include "mux/smux_session.hpp"
#include "mux_test_support.hpp"
#include "support/transcript.hpp"
#include "wire/errors.hpp"

namespace ssmc::mux {
namespace {

using namespace test;
using wire::SmuxCmd;

SessionConfig client_config(bool keep_alive = false) {
  SessionConfig c;
  c.role = Role::client;
  c.keep_alive = keep_alive;
  return c;
}
SessionConfig server_config(bool keep_alive = false) {
  SessionConfig c;
  c.role = Role::server;
  c.keep_alive = keep_alive;
  return c;
}

template <class T>
const T& as(const Event& e) {
  EXPECT_TRUE(std::holds_alternative<T>(e)) << "event index " << e.index();
  static const T empty{};
  const T* p = std::get_if<T>(&e);
  return p ? *p : empty;
}

/// Concatenated StreamData of `id` (recycling the vectors).
Bytes data_of(const std::vector<Event>& events, std::uint32_t id) {
  Bytes out;
  for (const auto& e : events)
    if (const auto* d = std::get_if<StreamData>(&e); d && d->id == id)
      out.insert(out.end(), d->bytes.begin(), d->bytes.end());
  return out;
}

// ------------------------------------------------------------ ids and spec

TEST(SmuxSession, ClientStreamIdsAre3Then5Then7) {
  SmuxSession c(client_config(), t0());
  for (std::uint32_t want : {3u, 5u, 7u, 9u}) {
    auto id = c.open_stream(t0());
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_EQ(*id, want);
  }
  const auto frames = parse_frames(drain_output(c, t0()));
  ASSERT_EQ(frames.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(frames[i].header, (wire::SmuxFrameHeader{1, SmuxCmd::syn, 0, static_cast<std::uint32_t>(3 + 2 * i)}));
  }
}

TEST(SmuxSession, ServerRoleOpensEvenIdsAndSkipsIdsThePeerUses) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(frame(SmuxCmd::syn, 4), t0());  // a (misbehaving) peer takes an even id
  EXPECT_EQ(*s.open_stream(t0()), 2u);
  EXPECT_EQ(*s.open_stream(t0()), 6u) << "4 is in use";
}

// 06 §5.7: the vendored client opened a stream, wrote "GET /", closed it and
// opened a second stream.
// The reference library writes synchronously; a driver that polls after each
// call produces the same bytes.
TEST(SmuxSession, ClientProducesTheSpecExampleBytes) {
  SmuxSession c(client_config(), t0());
  Bytes out;
  const std::uint32_t a = *c.open_stream(t0());
  c.poll_output(out, 1024, t0());
  ASSERT_FALSE(c.write(a, bytes_of("GET /"), t0()));
  c.poll_output(out, 1024, t0());
  ASSERT_FALSE(c.close_stream(a, t0()));
  c.poll_output(out, 1024, t0());
  EXPECT_EQ(*c.open_stream(t0()), 5u);
  c.poll_output(out, 1024, t0());
  EXPECT_EQ(out, ssmc::test::from_hex("0100000003000000"
                                      "0102050003000000474554202f"
                                      "0101000003000000"
                                      "0100000005000000"));
}

// Queued together, the control frame of a later call overtakes queued data
// of another stream (control priority); per-stream order is kept.
TEST(SmuxSession, QueuedControlFramesOvertakeOtherStreamsData) {
  SmuxSession c(client_config(), t0());
  const std::uint32_t a = *c.open_stream(t0());
  ASSERT_FALSE(c.write(a, bytes_of("GET /"), t0()));
  ASSERT_FALSE(c.close_stream(a, t0()));
  EXPECT_EQ(*c.open_stream(t0()), 5u);
  EXPECT_EQ(drain_output(c, t0()), ssmc::test::from_hex("0100000003000000"
                                                        "0100000005000000"
                                                        "0102050003000000474554202f"
                                                        "0101000003000000"));
}

TEST(SmuxSession, ServerTurnsTheSpecExampleIntoEvents) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(ssmc::test::from_hex("0100000003000000"
                                  "0102050003000000474554202f"
                                  "0101000003000000"
                                  "0100000005000000"
                                  "0103000000000000"),
             t0());
  const auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(as<StreamOpened>(ev[0]).id, 3u);
  EXPECT_EQ(as<StreamData>(ev[1]).id, 3u);
  EXPECT_EQ(text_of(as<StreamData>(ev[1]).bytes), "GET /");
  EXPECT_EQ(as<StreamFinished>(ev[2]).id, 3u);
  EXPECT_EQ(as<StreamOpened>(ev[3]).id, 5u);
  EXPECT_EQ(s.stats().nops_in, 1u);
  EXPECT_EQ(s.receive_buffered(), 5u) << "delivered, not consumed";
  s.consumed(3, 5, t0());
  EXPECT_EQ(s.receive_buffered(), 0u);
}

TEST(SmuxSession, EveryInputSplitGivesTheSameEvents) {
  const Bytes in =
      cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "hello"), frame(SmuxCmd::nop, 0), frame(SmuxCmd::syn, 5),
           frame(SmuxCmd::psh, 5, pattern(1, 3000)), frame(SmuxCmd::psh, 3, " world"), frame(SmuxCmd::fin, 3)});
  for (std::size_t split = 0; split <= in.size(); ++split) {
    for (std::size_t split2 = split; split2 <= in.size(); split2 += 97) {
      SmuxSession s(server_config(), t0());
      s.on_bytes(std::span(in).first(split), t0());
      s.on_bytes(std::span(in).subspan(split, split2 - split), t0());
      s.on_bytes(std::span(in).subspan(split2), t0());
      const auto ev = drain_events(s);
      ASSERT_EQ(text_of(data_of(ev, 3)), "hello world") << split << "/" << split2;
      ASSERT_EQ(data_of(ev, 5), pattern(1, 3000));
      ASSERT_TRUE(std::holds_alternative<StreamFinished>(ev.back()));
      ASSERT_EQ(s.parser_buffered_bytes(), 0u);
    }
  }
}

TEST(SmuxSession, OutputIsBoundedByMaxBytesAndFramesMayBeCutAnywhere) {
  const Bytes data = pattern(2, 100'000);
  Bytes whole;
  for (std::size_t chunk : {1u, 3u, 8u, 1024u, 40000u}) {
    SmuxSession c2(client_config(), t0());
    const auto id2 = *c2.open_stream(t0());
    ASSERT_FALSE(c2.write(id2, data, t0()));
    ASSERT_FALSE(c2.close_stream(id2, t0()));
    Bytes out;
    while (c2.has_output()) {
      const std::size_t before = out.size();
      const std::size_t n = c2.poll_output(out, chunk, t0());
      ASSERT_EQ(out.size() - before, n);
      ASSERT_GT(n, 0u) << "has_output promised bytes";
      ASSERT_LE(n, chunk);
    }
    EXPECT_EQ(c2.poll_output(out, chunk, t0()), 0u);
    if (whole.empty()) whole = out;
    EXPECT_EQ(out, whole) << "chunk " << chunk;
  }
  const auto frames = parse_frames(whole);
  ASSERT_EQ(frames.size(), 1 + 4 + 1u);  // SYN, 3×32768 + 1696, FIN
  EXPECT_EQ(frames[1].header.length, wire::kSmuxMaxFrameData);
  EXPECT_EQ(frames[4].header.length, 100'000 - 3 * wire::kSmuxMaxFrameData);
  EXPECT_EQ(frames.back().header, (wire::SmuxFrameHeader{1, SmuxCmd::fin, 0, 3}));
}

// ------------------------------------------------------------ FIN semantics

TEST(SmuxSession, FinFollowsQueuedDataAndTheStreamIsForgotten) {
  SmuxSession c(client_config(), t0());
  const auto id = *c.open_stream(t0());
  ASSERT_FALSE(c.write(id, pattern(3, 70'000), t0()));
  ASSERT_FALSE(c.close_stream(id, t0()));
  EXPECT_EQ(c.write(id, bytes_of("late"), t0()), make_error_code(Errc::stream_closed));
  EXPECT_EQ(c.close_stream(id, t0()), make_error_code(Errc::stream_closed));
  EXPECT_EQ(c.stream_count(), 1u) << "kept until its data and FIN are out";
  const auto frames = parse_frames(drain_output(c, t0()));
  ASSERT_EQ(frames.back().header.cmd, SmuxCmd::fin);
  Bytes sent;
  for (const auto& f : frames)
    if (f.header.cmd == SmuxCmd::psh) sent.insert(sent.end(), f.data.begin(), f.data.end());
  EXPECT_EQ(sent, pattern(3, 70'000));
  EXPECT_EQ(c.stream_count(), 0u);
  EXPECT_EQ(c.write(id, bytes_of("x"), t0()), make_error_code(Errc::unknown_stream));

  // 06 §4.5: data and FIN for the forgotten stream are read and discarded.
  c.on_bytes(cat({frame(SmuxCmd::psh, id, "reply"), frame(SmuxCmd::fin, id)}), t0());
  EXPECT_TRUE(drain_events(c).empty());
  EXPECT_EQ(c.stats().data_bytes_discarded, 5u);
  EXPECT_EQ(c.receive_buffered(), 0u) << "discarded data uses no tokens";
}

TEST(SmuxSession, PeerFinDeliversEverythingFirstAndWritingStaysAllowed) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "req"), frame(SmuxCmd::fin, 3)}), t0());
  auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<StreamFinished>(ev[2]));
  // 06 §5.4: writing after the peer's FIN is not prevented.
  EXPECT_FALSE(s.write(3, bytes_of("resp"), t0()));
  // Data after the FIN is a peer bug: discarded.
  s.on_bytes(frame(SmuxCmd::psh, 3, "more"), t0());
  EXPECT_TRUE(drain_events(s).empty());
  EXPECT_FALSE(s.close_stream(3, t0()));
  const auto frames = parse_frames(drain_output(s, t0()));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(text_of(frames[0].data), "resp");
  EXPECT_EQ(frames[1].header.cmd, SmuxCmd::fin);
  EXPECT_EQ(s.stream_count(), 0u);
}

// Half close (CloseWrite): our FIN goes out, the peer's data still arrives.
TEST(SmuxSession, ShutdownWriteIsAHalfClose) {
  SmuxSession c(client_config(), t0());
  SmuxSession s(server_config(), t0());
  const auto id = *c.open_stream(t0());
  ASSERT_FALSE(c.write(id, bytes_of("question"), t0()));
  ASSERT_FALSE(c.shutdown_write(id, t0()));
  EXPECT_EQ(c.write(id, bytes_of("x"), t0()), make_error_code(Errc::stream_closed));
  EXPECT_EQ(c.shutdown_write(id, t0()), make_error_code(Errc::stream_closed));
  s.on_bytes(drain_output(c, t0()), t0());
  auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(text_of(as<StreamData>(ev[1]).bytes), "question");
  EXPECT_EQ(as<StreamFinished>(ev[2]).id, id);

  ASSERT_FALSE(s.write(id, bytes_of("answer"), t0()));
  ASSERT_FALSE(s.close_stream(id, t0()));
  c.on_bytes(drain_output(s, t0()), t0());
  ev = drain_events(c);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(text_of(as<StreamData>(ev[0]).bytes), "answer");
  EXPECT_EQ(as<StreamFinished>(ev[1]).id, id);
  EXPECT_EQ(c.stream_count(), 1u) << "half-closed streams stay until close_stream";
  ASSERT_FALSE(c.close_stream(id, t0()));
  EXPECT_EQ(c.stream_count(), 0u);
  EXPECT_TRUE(drain_output(c, t0()).empty()) << "no second FIN";
}

TEST(SmuxSession, ClosingDropsUndeliveredEventsAndReturnsTheirTokens) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, pattern(4, 1000)), frame(SmuxCmd::fin, 3),
                  frame(SmuxCmd::syn, 5), frame(SmuxCmd::psh, 5, "keep")}),
             t0());
  EXPECT_EQ(s.receive_buffered(), 1004u);
  ASSERT_FALSE(s.close_stream(3, t0()));  // before polling any event
  EXPECT_EQ(s.receive_buffered(), 4u);
  const auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 2u) << "stream 3's events are gone";
  EXPECT_EQ(as<StreamOpened>(ev[0]).id, 5u);
  EXPECT_EQ(text_of(as<StreamData>(ev[1]).bytes), "keep");
}

// ------------------------------------------------------------------ fairness

TEST(SmuxSession, SmallStreamIsNotStarvedByABulkOne) {
  SessionConfig cfg = client_config();
  cfg.max_stream_send_buffer = 4 << 20;
  SmuxSession c(cfg, t0());
  const auto bulk = *c.open_stream(t0());
  const auto small = *c.open_stream(t0());
  ASSERT_FALSE(c.write(bulk, pattern(5, 2 << 20), t0()));

  // Send some of the bulk stream, then the small one starts.
  Bytes out;
  for (int i = 0; i < 100; ++i) c.poll_output(out, 1024, t0());
  ASSERT_FALSE(c.write(small, pattern(6, 3000), t0()));
  ASSERT_FALSE(c.close_stream(small, t0()));

  SmuxSession s(server_config(), t0());
  std::size_t bulk_after_small_started = 0;
  bool small_done = false;
  s.on_bytes(out, t0());
  drain_events(s);  // sent before the small stream had data
  while (!small_done && c.has_output()) {
    Bytes piece;
    c.poll_output(piece, 1024, t0());
    s.on_bytes(piece, t0());
    for (auto& e : drain_events(s)) {
      if (const auto* d = std::get_if<StreamData>(&e); d && d->id == bulk) bulk_after_small_started += d->bytes.size();
      if (const auto* f = std::get_if<StreamFinished>(&e); f && f->id == small) small_done = true;
    }
  }
  ASSERT_TRUE(small_done);
  // At most the frame in progress and one more bulk frame before the small
  // stream's frame, never the remaining ~1.9 MiB.
  EXPECT_LE(bulk_after_small_started, 2 * wire::kSmuxMaxFrameData);
  EXPECT_GT(c.queued_send_bytes(), std::size_t{1} << 20) << "the bulk stream is still queued";
}

TEST(SmuxSession, StreamsWithQueuedDataTakeTurnsFrameByFrame) {
  SessionConfig cfg = client_config();
  cfg.max_frame_data = 1000;
  SmuxSession c(cfg, t0());
  const auto a = *c.open_stream(t0()), b = *c.open_stream(t0()), d = *c.open_stream(t0());
  ASSERT_FALSE(c.write(a, pattern(7, 5000), t0()));
  ASSERT_FALSE(c.write(b, pattern(8, 5000), t0()));
  ASSERT_FALSE(c.write(d, pattern(9, 2000), t0()));
  const auto frames = parse_frames(drain_output(c, t0(), 777));
  std::vector<std::uint32_t> order;
  for (const auto& f : frames) {
    if (f.header.cmd == SmuxCmd::psh) {
      EXPECT_LE(f.header.length, 1000u);
      order.push_back(f.header.stream_id);
    }
  }
  const std::vector<std::uint32_t> want{a, b, d, a, b, d, a, b, a, b, a, b};
  EXPECT_EQ(order, want);
}

TEST(SmuxSession, ControlFramesGoBeforeQueuedDataButAfterTheFrameInProgress) {
  SmuxSession c(client_config(true), t0());
  const auto a = *c.open_stream(t0());
  ASSERT_FALSE(c.write(a, pattern(10, 100'000), t0()));
  Bytes out;
  c.poll_output(out, 8 + 8 + 100, t0());  // SYN, header and 100 bytes of the first frame
  const auto b = *c.open_stream(t0());
  c.on_timer(t0() + 10s);  // NOP due
  const Bytes rest = drain_output(c, t0() + 10s);
  // The first frame's remaining 32668 bytes, then SYN b and the NOP, then data.
  const Bytes want_after = cat({frame(SmuxCmd::syn, b), frame(SmuxCmd::nop, 0)});
  ASSERT_GT(rest.size(), wire::kSmuxMaxFrameData - 100 + want_after.size());
  EXPECT_TRUE(std::equal(want_after.begin(), want_after.end(), rest.begin() + (wire::kSmuxMaxFrameData - 100)));
}

// ------------------------------------------------------- send back-pressure

TEST(SmuxSession, WouldBlockThenWritable) {
  SessionConfig cfg = client_config();
  cfg.max_stream_send_buffer = 10'000;
  cfg.max_session_send_buffer = 15'000;
  SmuxSession c(cfg, t0());
  const auto a = *c.open_stream(t0()), b = *c.open_stream(t0());
  EXPECT_EQ(c.send_room(a), 10'000u);
  EXPECT_EQ(c.write(a, pattern(11, 10'001), t0()), make_error_code(Errc::write_too_large));
  ASSERT_FALSE(c.write(a, pattern(11, 9'000), t0()));
  EXPECT_EQ(c.send_room(a), 1'000u);
  EXPECT_EQ(c.write(a, pattern(12, 1'001), t0()), make_error_code(Errc::would_block));
  EXPECT_EQ(c.send_room(b), 6'000u) << "the session buffer limits b";
  EXPECT_EQ(c.write(b, pattern(13, 7'000), t0()), make_error_code(Errc::would_block));
  auto ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u) << "6000 free >= half of b's buffer: b's turn comes at once";
  EXPECT_EQ(as<StreamWritable>(ev[0]).id, b);
  EXPECT_EQ(c.send_room(b), 6'000u);

  Bytes out;
  c.poll_output(out, 16 + 8 + 2000, t0());  // SYNs + 2000 bytes of a: 7000 queued in all
  EXPECT_TRUE(drain_events(c).empty()) << "a has room for 3000 only";
  c.poll_output(out, 1999, t0());
  EXPECT_TRUE(drain_events(c).empty()) << "a: 5001 queued, room 4999 < 10000 / 2";
  c.poll_output(out, 1, t0());
  ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<StreamWritable>(ev[0]).id, a);
  EXPECT_GE(c.send_room(a), 5'000u);
  EXPECT_FALSE(c.write(b, pattern(13, 5'000), t0()));
  c.poll_output(out, 1 << 20, t0());
  EXPECT_TRUE(drain_events(c).empty()) << "one StreamWritable per would_block";
}

TEST(SmuxSession, StreamsWaitingForTheSessionsRoomTakeItInTurns) {
  SessionConfig cfg = client_config();
  cfg.max_stream_send_buffer = 10'000;
  cfg.max_session_send_buffer = 12'000;
  SmuxSession c(cfg, t0());
  const auto a = *c.open_stream(t0()), b = *c.open_stream(t0()), d = *c.open_stream(t0());
  ASSERT_FALSE(c.write(a, pattern(1, 10'000), t0()));
  EXPECT_EQ(c.write(b, pattern(2, 5'000), t0()), make_error_code(Errc::would_block));
  EXPECT_EQ(c.write(d, pattern(3, 5'000), t0()), make_error_code(Errc::would_block));
  EXPECT_TRUE(drain_events(c).empty());
  Bytes out;
  c.poll_output(out, 24 + 8 + 4'000, t0());  // SYNs + 4000 of a: 6000 queued, 6000 free
  // a has data at hand, but b and d blocked first: the freed room is theirs.
  EXPECT_EQ(c.send_room(a), 0u);
  EXPECT_EQ(c.write(a, pattern(4, 1'000), t0()), make_error_code(Errc::would_block));
  auto ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u) << "one turn: 6000 free holds one half buffer (5000)";
  EXPECT_EQ(as<StreamWritable>(ev[0]).id, b);
  ASSERT_FALSE(c.write(b, pattern(2, 5'000), t0()));
  c.poll_output(out, 5'000, t0());  // 6000 queued again
  ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<StreamWritable>(ev[0]).id, d) << "then d, which blocked before a";
  ASSERT_FALSE(c.write(d, pattern(3, 5'000), t0()));
  c.poll_output(out, 5'000, t0());
  ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<StreamWritable>(ev[0]).id, a) << "a's turn comes last";
  EXPECT_FALSE(c.write(a, pattern(4, 1'000), t0()));
  c.poll_output(out, 1 << 20, t0());
  EXPECT_TRUE(drain_events(c).empty());
  EXPECT_FALSE(c.write(b, pattern(5, 100), t0())) << "nobody waits: room is anyone's again";
}

TEST(SmuxSession, AStreamThatWritesAgainAfterBlockingGetsNoStaleTurn) {
  SessionConfig cfg = client_config();
  cfg.max_stream_send_buffer = 10'000;
  cfg.max_session_send_buffer = 100'000;
  SmuxSession c(cfg, t0());
  const auto x = *c.open_stream(t0()), y = *c.open_stream(t0());
  ASSERT_FALSE(c.write(x, pattern(1, 10'000), t0()));
  EXPECT_EQ(c.write(x, pattern(2, 1), t0()), make_error_code(Errc::would_block));  // own buffer full
  Bytes out;
  c.poll_output(out, 16 + 8 + 3'000, t0());  // 3000 out: room 3000 < half the buffer, no event yet
  EXPECT_TRUE(drain_events(c).empty());
  // x's reader finds room anyway (a safety wake-up) and writes what fits.
  ASSERT_FALSE(c.write(x, pattern(2, 3'000), t0()));
  c.poll_output(out, 1 << 20, t0());  // everything out
  EXPECT_TRUE(drain_events(c).empty()) << "x wrote since it blocked: no StreamWritable owed";
  EXPECT_EQ(c.send_room(y), 10'000u) << "and no turn held by x keeps y out";
  EXPECT_FALSE(c.write(y, pattern(3, 10'000), t0()));
}

// ---------------------------------------------------- receive back-pressure

TEST(SmuxSession, EmptyBucketHoldsFramesInOrderUntilConsumed) {
  SessionConfig cfg = server_config();
  cfg.max_receive_buffer = 1000;
  SmuxSession s(cfg, t0());
  const Bytes big = pattern(14, 1500);
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, std::span(big).first(600)),
                  frame(SmuxCmd::psh, 3, std::span(big).subspan(600, 600)),  // overshoots: 1200 > 1000
                  frame(SmuxCmd::psh, 3, std::span(big).subspan(1200)),      // held
                  frame(SmuxCmd::syn, 5),                                    // held (order)
                  frame(SmuxCmd::nop, 0),                                    // needs no order
                  frame(SmuxCmd::fin, 3)}),                                  // held
             t0());
  EXPECT_FALSE(s.wants_input());
  EXPECT_EQ(s.receive_buffered(), 1200u) << "smux checks the bucket before each frame";
  EXPECT_EQ(s.held_input_bytes(), 8 + 300 + 8 + 8u);
  auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 2u);  // Opened + one coalesced StreamData
  EXPECT_EQ(as<StreamData>(ev[1]).bytes, Bytes(big.begin(), big.begin() + 1200));

  s.consumed(3, 199, t0());  // 1001 buffered: still exhausted
  EXPECT_FALSE(s.wants_input());
  EXPECT_TRUE(drain_events(s).empty());
  s.consumed(3, 1, t0());  // 1000 buffered: bucket empty, not negative
  EXPECT_TRUE(drain_events(s).empty());
  s.consumed(3, 1, t0());  // one token: the next frame flows, and empties the bucket again
  EXPECT_FALSE(s.wants_input());
  EXPECT_EQ(s.held_input_bytes(), 16u);
  ev = drain_events(s);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<StreamData>(ev[0]).bytes, Bytes(big.begin() + 1200, big.end()));
  s.consumed(3, 1'000'000, t0());  // clamped to the 1299 unconsumed bytes
  EXPECT_EQ(s.receive_buffered(), 0u);
  EXPECT_TRUE(s.wants_input());
  EXPECT_EQ(s.held_input_bytes(), 0u);
  ev = drain_events(s);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(as<StreamOpened>(ev[0]).id, 5u);
  EXPECT_EQ(as<StreamFinished>(ev[1]).id, 3u);
}

TEST(SmuxSession, ClosingAStreamReturnsItsTokensAndResumesOthers) {
  SessionConfig cfg = server_config();
  cfg.max_receive_buffer = 100;
  SmuxSession s(cfg, t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::syn, 5), frame(SmuxCmd::psh, 3, pattern(15, 100)),
                  frame(SmuxCmd::psh, 5, "waiting")}),
             t0());
  EXPECT_FALSE(s.wants_input());
  EXPECT_EQ(data_of(drain_events(s), 5), Bytes{});
  ASSERT_FALSE(s.close_stream(3, t0()));  // never consumed: its 100 tokens come back
  EXPECT_TRUE(s.wants_input());
  EXPECT_EQ(text_of(data_of(drain_events(s), 5)), "waiting");
}

TEST(SmuxSession, FeedingTooMuchWhileExhaustedKillsTheSession) {
  SessionConfig cfg = server_config();
  cfg.max_receive_buffer = 10;
  cfg.max_input_backlog = 0;  // raised to one largest frame
  SmuxSession s(cfg, t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "0123456789")}), t0());
  ASSERT_FALSE(s.wants_input());
  const Bytes big = pattern(16, wire::kSmuxMaxLength);
  s.on_bytes(frame(SmuxCmd::psh, 3, big), t0());  // exactly the backlog: kept
  EXPECT_FALSE(s.dead());
  s.on_bytes(frame(SmuxCmd::psh, 3, "x"), t0());
  ASSERT_TRUE(s.dead());
  EXPECT_EQ(s.error(), make_error_code(Errc::input_overflow));
  EXPECT_EQ(s.held_input_bytes(), 0u) << "memory released";
}

// ---------------------------------------------------------------- keep-alive

TEST(SmuxSession, KeepAliveSendsNopEvery10sAndDiesAfter30sOfSilence) {
  SmuxSession c(client_config(true), t0());
  EXPECT_EQ(c.next_deadline(), t0() + 10s);
  EXPECT_FALSE(c.has_output());
  c.on_timer(t0() + 9999ms);
  EXPECT_FALSE(c.has_output());
  c.on_timer(t0() + 10s);
  EXPECT_EQ(drain_output(c, t0() + 10s), frame(SmuxCmd::nop, 0));
  EXPECT_EQ(c.next_deadline(), t0() + 20s);
  c.on_timer(t0() + 20s);
  EXPECT_EQ(drain_output(c, t0() + 20s), frame(SmuxCmd::nop, 0));
  EXPECT_EQ(c.next_deadline(), t0() + 30s);
  c.on_timer(t0() + 29999ms);
  EXPECT_FALSE(c.dead());
  c.on_timer(t0() + 30s);
  ASSERT_TRUE(c.dead());
  EXPECT_EQ(c.error(), make_error_code(Errc::keepalive_timeout));
  const auto ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<SessionDead>(ev[0]).error, make_error_code(Errc::keepalive_timeout));
  EXPECT_EQ(c.next_deadline(), std::nullopt);
  EXPECT_EQ(c.open_stream(t0() + 30s).error(), make_error_code(Errc::session_dead));
  EXPECT_EQ(c.stats().nops_out, 2u);
}

TEST(SmuxSession, AnyInputDuringThePeriodKeepsTheSessionAlive) {
  SmuxSession c(client_config(true), t0());
  c.on_timer(t0() + 10s);
  c.on_timer(t0() + 20s);
  c.on_bytes(frame(SmuxCmd::nop, 0), t0() + 25s);
  c.on_timer(t0() + 30s);
  EXPECT_FALSE(c.dead()) << "a NOP arrived during [0, 30 s]";
  EXPECT_EQ(c.next_deadline(), t0() + 40s);
  c.on_timer(t0() + 40s);
  c.on_timer(t0() + 50s);
  c.on_timer(t0() + 59s);
  EXPECT_FALSE(c.dead());
  c.on_timer(t0() + 60s);
  EXPECT_TRUE(c.dead()) << "nothing during [30 s, 60 s]";
}

TEST(SmuxSession, LateTimerSendsOneNopAndChecksOnce) {
  SmuxSession c(client_config(true), t0());
  c.on_bytes(frame(SmuxCmd::nop, 0), t0() + 1s);
  c.on_timer(t0() + 35s);  // three NOP periods and one check missed
  EXPECT_FALSE(c.dead());
  EXPECT_EQ(drain_output(c, t0() + 35s), frame(SmuxCmd::nop, 0));
  EXPECT_EQ(c.next_deadline(), t0() + 40s);
  c.on_timer(t0() + 60s);
  EXPECT_TRUE(c.dead());
}

TEST(SmuxSession, KeepAliveDoesNotKillWhileTheReceiveBufferIsFull) {
  SessionConfig cfg = server_config(true);
  cfg.max_receive_buffer = 10;
  SmuxSession s(cfg, t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "0123456789")}), t0());
  ASSERT_FALSE(s.wants_input());
  for (int sec = 10; sec <= 300; sec += 10) s.on_timer(t0() + std::chrono::seconds(sec));
  EXPECT_FALSE(s.dead()) << "the silence is ours (06 §5.4)";
  s.consumed(3, 10, t0() + 300s);
  s.on_timer(t0() + 330s);
  EXPECT_TRUE(s.dead());
}

TEST(SmuxSession, KeepAliveOffMeansNoNopNoDeadlineNoDeath) {
  SmuxSession c(client_config(false), t0());
  EXPECT_EQ(c.next_deadline(), std::nullopt);
  c.on_timer(t0() + 24h);
  EXPECT_FALSE(c.dead());
  EXPECT_FALSE(c.has_output());
}

TEST(SmuxSession, KeepAlivePairStaysAliveWhenIdle) {
  SmuxSession c(client_config(true), t0());
  SmuxSession s(server_config(true), t0());
  for (auto now = t0(); now <= t0() + 10min; now += 500ms) {
    for (SmuxSession* m : {&c, &s})
      if (auto d = m->next_deadline(); d && *d <= now) m->on_timer(now);
    s.on_bytes(drain_output(c, now), now);
    c.on_bytes(drain_output(s, now), now);
  }
  EXPECT_FALSE(c.dead());
  EXPECT_FALSE(s.dead());
  EXPECT_EQ(c.stats().nops_out, 60u);
  EXPECT_EQ(s.stats().nops_in, 60u);
}

// ---------------------------------------------------------- protocol errors

struct BadFrameCase {
  const char* name;
  Bytes bad;
  std::error_code want;
};

TEST(SmuxSession, ProtocolErrorsKillTheSessionAfterEarlierFramesAreDelivered) {
  const BadFrameCase cases[] = {
      {"bad version", frame(SmuxCmd::psh, 3, "x", 2), make_error_code(wire::Errc::smux_bad_version)},
      {"bad command", frame(static_cast<SmuxCmd>(7), 3), make_error_code(wire::Errc::smux_bad_command)},
      {"UPD in v1", frame(SmuxCmd::upd, 3, pattern(0, 8)), make_error_code(wire::Errc::smux_bad_command)},
      {"SYN with data", frame(SmuxCmd::syn, 9, "x"), make_error_code(wire::Errc::smux_bad_length)},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    for (std::size_t split : {0u, 3u, 9u, 15u}) {  // the bad header split across calls too
      SmuxSession s(server_config(true), t0());
      const Bytes in = cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "ok"), tc.bad, frame(SmuxCmd::syn, 5)});
      const std::size_t at = 18 + split;
      s.on_bytes(std::span(in).first(at), t0());
      s.on_bytes(std::span(in).subspan(at), t0());
      ASSERT_TRUE(s.dead());
      EXPECT_EQ(s.error(), tc.want);
      const auto ev = drain_events(s);
      ASSERT_EQ(ev.size(), 3u);
      EXPECT_EQ(text_of(as<StreamData>(ev[1]).bytes), "ok");
      EXPECT_EQ(as<SessionDead>(ev[2]).error, tc.want);
      EXPECT_EQ(s.write(3, bytes_of("x"), t0()), make_error_code(Errc::session_dead));
      EXPECT_FALSE(s.has_output());
      EXPECT_EQ(s.next_deadline(), std::nullopt);
      s.on_bytes(frame(SmuxCmd::syn, 7), t0());
      EXPECT_TRUE(drain_events(s).empty()) << "nothing after SessionDead";
    }
  }
}

TEST(SmuxSession, ErrorMessagesSayWhatHappened) {
  EXPECT_EQ(std::string(mux_category().name()), "ssmc.mux");
  for (int e = 0; e <= static_cast<int>(Errc::session_closed); ++e) {
    EXPECT_NE(make_error_code(static_cast<Errc>(e)).message(), "unknown mux error");
  }
  EXPECT_NE(make_error_code(Errc::keepalive_timeout).message().find("30 s"), std::string::npos);
}

TEST(SmuxSession, CloseSessionIsLocalAndSilent) {
  SmuxSession c(client_config(true), t0());
  const auto id = *c.open_stream(t0());
  ASSERT_FALSE(c.write(id, bytes_of("pending"), t0()));
  c.close_session(t0());
  EXPECT_FALSE(c.has_output()) << "smux Session.Close sends nothing";
  EXPECT_EQ(c.queued_send_bytes(), 0u);
  const auto ev = drain_events(c);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<SessionDead>(ev[0]).error, make_error_code(Errc::session_closed));
}

// ------------------------------------------------------------ unknown streams

// 06 §5.4: PSH for an unknown or closed stream is read and discarded; FIN and
// UPD for one are ignored; the session lives on.
TEST(SmuxSession, FramesForUnknownStreamsAreDiscarded) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(cat({frame(SmuxCmd::psh, 99, pattern(17, 5000)), frame(SmuxCmd::fin, 99), frame(SmuxCmd::psh, 3, ""),
                  frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "")}),  // empty PSH: ignored
             t0());
  EXPECT_FALSE(s.dead());
  const auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<StreamOpened>(ev[0]).id, 3u);
  EXPECT_EQ(s.stats().data_bytes_discarded, 5000u);
  EXPECT_EQ(s.receive_buffered(), 0u);
  EXPECT_EQ(s.write(99, bytes_of("x"), t0()), make_error_code(Errc::unknown_stream));
  EXPECT_EQ(s.close_stream(99, t0()), make_error_code(Errc::unknown_stream));
  s.consumed(99, 10, t0());  // ignored
  EXPECT_TRUE(drain_output(s, t0()).empty()) << "smux does not answer unknown streams";
}

TEST(SmuxSession, DuplicateSynIsIgnored) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(
      cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "a"), frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, "b")}),
      t0());
  const auto ev = drain_events(s);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(text_of(as<StreamData>(ev[1]).bytes), "ab");
}

TEST(SmuxSession, SynBeyondMaxStreamsIsRefusedWithFin) {
  SessionConfig cfg = server_config();
  cfg.max_streams = 2;
  SmuxSession s(cfg, t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::syn, 5), frame(SmuxCmd::syn, 7), frame(SmuxCmd::psh, 7, "x")}),
             t0());
  EXPECT_EQ(drain_events(s).size(), 2u);
  EXPECT_EQ(s.stats().streams_refused, 1u);
  EXPECT_EQ(drain_output(s, t0()), frame(SmuxCmd::fin, 7));
  EXPECT_EQ(s.open_stream(t0()).error(), make_error_code(Errc::too_many_streams));
  ASSERT_FALSE(s.close_stream(3, t0()));
  EXPECT_TRUE(s.open_stream(t0()));
}

TEST(SmuxSession, RecycledBuffersAreReused) {
  SmuxSession s(server_config(), t0());
  s.on_bytes(cat({frame(SmuxCmd::syn, 3), frame(SmuxCmd::psh, 3, pattern(18, 4000))}), t0());
  auto ev = drain_events(s);
  auto& bytes = std::get<StreamData>(ev[1]).bytes;
  const std::uint8_t* storage = bytes.data();
  s.consumed(3, bytes.size(), t0());
  s.recycle(std::move(bytes));
  s.on_bytes(frame(SmuxCmd::psh, 3, pattern(19, 3000)), t0());
  ev = drain_events(s);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<StreamData>(ev[0]).bytes.data(), storage);
  EXPECT_EQ(std::get<StreamData>(ev[0]).bytes, pattern(19, 3000));
}

TEST(SmuxSession, ConfigIsNormalised) {
  SessionConfig cfg;
  cfg.version = 3;
  EXPECT_THROW((SmuxSession{cfg, t0()}), std::invalid_argument);
  cfg.version = 1;
  cfg.max_frame_data = 1'000'000;
  cfg.max_stream_send_buffer = 100;
  cfg.max_session_send_buffer = 10;
  SmuxSession s(cfg, t0());
  EXPECT_EQ(s.config().max_frame_data, wire::kSmuxMaxLength);
  EXPECT_EQ(s.config().max_session_send_buffer, 100u);
}

// ---------------------------------------------------------------- version 2

SessionConfig v2(Role role) {
  SessionConfig c;
  c.role = role;
  c.version = wire::kSmuxVersion2;
  c.keep_alive = false;
  c.max_stream_send_buffer = 4 << 20;
  c.max_session_send_buffer = 4 << 20;
  c.max_receive_buffer = 8 << 20;
  return c;
}

Bytes upd_frame(std::uint32_t id, std::uint32_t consumed, std::uint32_t window) {
  Bytes out;
  wire::append_smux_window_update(out, id, {consumed, window});
  return out;
}

TEST(SmuxSessionV2, WriterStopsAtThePeerWindowAndUpdReopensIt) {
  SmuxSession c(v2(Role::client), t0());
  SmuxSession s(v2(Role::server), t0());
  const auto id = *c.open_stream(t0());
  const Bytes data = pattern(20, 1 << 20);
  ASSERT_FALSE(c.write(id, data, t0()));
  const auto first = parse_frames(drain_output(c, t0()), 2);
  std::size_t sent = 0;
  for (const auto& f : first) {
    EXPECT_EQ(f.header.version, 2);
    if (f.header.cmd == SmuxCmd::psh) sent += f.data.size();
  }
  EXPECT_EQ(sent, wire::kSmuxInitialPeerWindow) << "06 §5.6: initial peer window";
  EXPECT_FALSE(c.has_output());

  // Receiver: the first read announces its window right away.
  Bytes wire_bytes;
  for (const auto& f : first) wire::append_smux_frame(wire_bytes, f.header.cmd, f.header.stream_id, f.data, 2);
  s.on_bytes(wire_bytes, t0());
  drain_events(s);
  s.consumed(id, 100, t0());
  auto upd = parse_frames(drain_output(s, t0()), 2);
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(upd[0].header, (wire::SmuxFrameHeader{2, SmuxCmd::upd, 8, id}));
  EXPECT_EQ(*wire::decode_smux_window_update(upd[0].data), (wire::SmuxWindowUpdate{100, wire::kSmuxMaxStreamBuffer}));
  s.consumed(id, 32767, t0());  // 32767 < 65536 / 2 since the last UPD
  EXPECT_FALSE(s.has_output());
  s.consumed(id, 1, t0());
  upd = parse_frames(drain_output(s, t0()), 2);
  ASSERT_EQ(upd.size(), 1u);
  EXPECT_EQ(wire::decode_smux_window_update(upd[0].data)->consumed, 100 + 32768u);

  // Writer: window = 65536 − (262144 − 32868) < 0: still closed.
  c.on_bytes(frame(SmuxCmd::upd, id, upd[0].data, 2), t0());
  EXPECT_FALSE(c.has_output());
  // The reader consumed everything: window 65536 opens exactly 65536 bytes.
  c.on_bytes(upd_frame(id, wire::kSmuxInitialPeerWindow, 65536), t0());
  std::size_t more = 0;
  for (const auto& f : parse_frames(drain_output(c, t0()), 2)) more += f.data.size();
  EXPECT_EQ(more, 65536u);
}

TEST(SmuxSessionV2, BulkTransferCompletesWithWindowUpdates) {
  SmuxSession c(v2(Role::client), t0());
  SmuxSession s(v2(Role::server), t0());
  const auto id = *c.open_stream(t0());
  const Bytes data = pattern(21, 3 << 20);
  ASSERT_FALSE(c.write(id, data, t0()));
  ASSERT_FALSE(c.close_stream(id, t0()));
  Bytes got;
  bool fin = false;
  for (int round = 0; round < 10'000 && !fin; ++round) {
    s.on_bytes(drain_output(c, t0(), 5000), t0());
    for (auto& e : drain_events(s)) {
      if (auto* d = std::get_if<StreamData>(&e)) {
        got.insert(got.end(), d->bytes.begin(), d->bytes.end());
        s.consumed(id, d->bytes.size(), t0());
      }
      if (std::holds_alternative<StreamFinished>(e)) fin = true;
    }
    // In flight never exceeds the window the receiver allows.
    EXPECT_LE(c.stats().data_bytes_sent - got.size(), wire::kSmuxInitialPeerWindow);
    c.on_bytes(drain_output(s, t0()), t0());
  }
  ASSERT_TRUE(fin);
  EXPECT_EQ(got, data);
  EXPECT_GT(s.stats().upds_out, 10u);
  EXPECT_EQ(c.stats().upds_in, s.stats().upds_out);
}

}  // namespace
}  // namespace ssmc::mux
