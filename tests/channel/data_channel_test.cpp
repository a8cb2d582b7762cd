// Behaviour of the data-channel engine, one rule per test (spec 03, 04).
#include <gtest/gtest.h>

#include <cstring>

#include "channel/data_channel.hpp"
#include "sim/network_sim.hpp"

namespace ssmc::channel {
namespace {

using wire::MessageType;
using wire::PayloadType;

TimePoint T(int ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

std::vector<std::vector<std::uint8_t>> outputs(DataChannel& e, TimePoint now) {
  std::vector<std::vector<std::uint8_t>> out;
  while (auto f = e.poll_output(now)) out.emplace_back(f->begin(), f->end());
  return out;
}

std::vector<Event> events(DataChannel& e) {
  std::vector<Event> out;
  while (auto ev = e.poll_event()) out.push_back(std::move(*ev));
  return out;
}

wire::DecodedMessage dec(const std::vector<std::uint8_t>& f) { return wire::decode(f).value(); }

std::vector<std::uint8_t> agent_frame(std::int64_t seq, std::string_view text, PayloadType t = PayloadType::output) {
  crypto::DeterministicRandom rng(static_cast<std::uint64_t>(seq) + 100);
  wire::MessageHeader h{MessageType::output_stream_data, 1, 1'700'000'000'000, seq, 0, wire::Uuid::random_v4(rng), t};
  return wire::encode(h, wire::as_bytes(text));
}

std::vector<std::uint8_t> ack_for(const std::vector<std::uint8_t>& frame) {
  auto m = dec(frame);
  std::string json;
  wire::write_acknowledge(json, m.type_name, m.header.message_id, m.header.sequence_number);
  crypto::DeterministicRandom rng(7);
  wire::MessageHeader h{MessageType::acknowledge, 1, 1, 0, wire::kFlagsAck, wire::Uuid::random_v4(rng),
                        PayloadType::none};
  return wire::encode(h, wire::as_bytes(json));
}

std::int64_t acked_seq(const std::vector<std::uint8_t>& frame) {
  auto m = dec(frame);
  EXPECT_EQ(m.header.type, MessageType::acknowledge);
  return wire::parse_acknowledged_sequence(m.payload).value();
}

// A client whose session is running (first Output of a plain shell received).
struct RunningClient {
  crypto::DeterministicRandom rng{1};
  DataChannel e;
  explicit RunningClient(Config c = {}) : e(c, rng, T(0)) {
    e.on_frame(agent_frame(0, "$ "), T(0));
    outputs(e, T(0));
    events(e);
  }
};

TEST(DataChannel, ClientRefusesStreamDataBeforeTheSessionTypeIsKnown) {
  crypto::DeterministicRandom rng(1);
  DataChannel e({}, rng, T(0));
  const std::uint8_t b[] = {'x'};
  EXPECT_EQ(e.send(PayloadType::output, b, T(0)), make_error_code(Errc::not_ready));
  EXPECT_EQ(e.send(PayloadType::size, b, T(0)), make_error_code(Errc::not_ready));
}

TEST(DataChannel, FirstOutputWithoutHandshakeStartsAStandardStreamSession) {
  crypto::DeterministicRandom rng(1);
  DataChannel e({}, rng, T(0));
  e.on_frame(agent_frame(0, "$ "), T(0));
  auto ev = events(e);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<SessionStarted>(ev[0]).session_type, "Standard_Stream");
  EXPECT_EQ(std::get<DataReceived>(ev[1]).bytes, std::vector<std::uint8_t>({'$', ' '}));
  auto out = outputs(e, T(0));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(acked_seq(out[0]), 0);
  EXPECT_TRUE(e.running());
}

TEST(DataChannel, OneSequenceCounterForAllPayloadTypesAndTheNewlineQuirk) {
  RunningClient c;
  const std::uint8_t nl[] = {'\n'};
  const std::string size = wire::to_json(wire::TerminalSize{80, 24});
  ASSERT_FALSE(c.e.send(PayloadType::size, wire::as_bytes(size), T(1)));
  ASSERT_FALSE(c.e.send(PayloadType::output, nl, T(1)));
  auto out = outputs(c.e, T(1));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(dec(out[0]).header.sequence_number, 0);
  EXPECT_EQ(dec(out[0]).header.payload_type, PayloadType::size);
  EXPECT_EQ(dec(out[1]).header.sequence_number, 1);
  EXPECT_EQ(wire::as_text(dec(out[1]).payload), "\r");  // 05 §2.3
  EXPECT_EQ(dec(out[1]).header.flags, 0u);
}

TEST(DataChannel, EarlyMessagesAreAckedAtOnceAndDeliveredInOrder) {
  RunningClient c;
  c.e.on_frame(agent_frame(2, "c"), T(1));
  c.e.on_frame(agent_frame(3, "d"), T(1));
  auto out = outputs(c.e, T(1));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(acked_seq(out[0]), 2);
  EXPECT_EQ(acked_seq(out[1]), 3);
  EXPECT_TRUE(events(c.e).empty());  // nothing delivered past the gap
  c.e.on_frame(agent_frame(1, "b"), T(2));
  std::string got;
  for (auto& ev : events(c.e)) got += wire::as_text(std::get<DataReceived>(ev).bytes);
  EXPECT_EQ(got, "bcd");
  EXPECT_EQ(c.e.expected_incoming_sequence(), 4);
  EXPECT_EQ(c.e.reorder_buffer_messages(), 0u);
}

TEST(DataChannel, DuplicatesAreReAckedButNotDeliveredTwice) {
  RunningClient c;
  const auto f = agent_frame(1, "x");
  c.e.on_frame(f, T(1));
  c.e.on_frame(f, T(2));
  auto out = outputs(c.e, T(2));
  ASSERT_EQ(out.size(), 2u);  // the official client would not re-ack (03 §3.2)
  EXPECT_EQ(acked_seq(out[1]), 1);
  EXPECT_EQ(events(c.e).size(), 1u);
  EXPECT_EQ(c.e.stats().duplicates_received, 1u);
}

TEST(DataChannel, FullReorderBufferDropsWithoutAck) {
  Config cfg;
  cfg.reorder_messages = 2;
  RunningClient c(cfg);
  for (int s = 2; s <= 5; ++s) c.e.on_frame(agent_frame(s, "x"), T(1));
  auto out = outputs(c.e, T(1));
  ASSERT_EQ(out.size(), 2u);  // 2 and 3 stored and acked; 4 and 5 dropped unacked
  EXPECT_EQ(c.e.reorder_buffer_messages(), 2u);
}

TEST(DataChannel, SequenceNumbersFarOutsideTheWindow) {
  Config cfg;
  cfg.reorder_messages = 4;
  RunningClient c(cfg);  // expects 1 next
  // Far in the future (a hostile or corrupted number): dropped unacked, no slot taken.
  c.e.on_frame(agent_frame(INT64_MAX, "far"), T(1));
  c.e.on_frame(agent_frame(1 + 5, "just beyond"), T(1));
  EXPECT_TRUE(outputs(c.e, T(1)).empty());
  EXPECT_EQ(c.e.reorder_buffer_messages(), 0u);
  // The last sequence number the reorder buffer can hold is stored and acked.
  c.e.on_frame(agent_frame(1 + 4, "edge"), T(1));
  auto out = outputs(c.e, T(1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(acked_seq(out[0]), 5);
  EXPECT_EQ(c.e.reorder_buffer_messages(), 1u);
  // Old and negative numbers are duplicates: re-acked, never delivered.
  c.e.on_frame(agent_frame(-7, "old"), T(2));
  c.e.on_frame(agent_frame(0, "seen"), T(2));
  out = outputs(c.e, T(2));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(dec(out[0]).header.type, MessageType::acknowledge);
  EXPECT_EQ(acked_seq(out[1]), 0);
  EXPECT_EQ(c.e.stats().duplicates_received, 2u);
  EXPECT_TRUE(events(c.e).empty());
  // The stream goes on: 1..4 fill the gap and release the held 5.
  for (int s = 1; s <= 4; ++s) c.e.on_frame(agent_frame(s, std::to_string(s)), T(3));
  std::string got;
  for (auto& ev : events(c.e)) got += wire::as_text(std::get<DataReceived>(ev).bytes);
  EXPECT_EQ(got, "1234edge");
  EXPECT_EQ(c.e.expected_incoming_sequence(), 6);
  EXPECT_EQ(c.e.reorder_buffer_messages(), 0u);
}

TEST(DataChannel, ReceiverBackPressureLeavesDataUnackedUntilReady) {
  RunningClient c;
  c.e.set_receive_ready(false, T(1));
  c.e.on_frame(agent_frame(1, "held"), T(1));
  EXPECT_TRUE(outputs(c.e, T(1)).empty());  // not ready: no ack (03 §3.1)
  EXPECT_TRUE(events(c.e).empty());
  c.e.set_receive_ready(true, T(2));
  auto out = outputs(c.e, T(2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(acked_seq(out[0]), 1);
  auto ev = events(c.e);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(wire::as_text(std::get<DataReceived>(ev[0]).bytes), "held");
}

TEST(DataChannel, HeldMessagesResumeWhenTheApplicationDrainsEvents) {
  // Regression: a gap filled while the receive buffer was full left acked,
  // held messages stranded (found by the 10 MiB simulator benchmark).
  Config cfg;
  cfg.receive_buffer_bytes = 3;
  RunningClient c(cfg);
  for (int s = 2; s <= 9; ++s) c.e.on_frame(agent_frame(s, "x"), T(1));
  c.e.on_frame(agent_frame(1, "x"), T(2));
  std::size_t delivered = 0;
  while (auto ev = c.e.poll_event()) delivered += std::holds_alternative<DataReceived>(*ev);
  EXPECT_EQ(delivered, 9u);
  EXPECT_EQ(c.e.expected_incoming_sequence(), 10);
  EXPECT_EQ(c.e.reorder_buffer_messages(), 0u);
}

TEST(DataChannel, SendWindowAppliesBackPressureAndNeverEvicts) {
  Config cfg;
  cfg.send_window_messages = 3;
  RunningClient c(cfg);
  const std::uint8_t b[] = {'a'};
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(c.e.send(PayloadType::output, b, T(1)));
  EXPECT_EQ(c.e.send(PayloadType::output, b, T(1)), make_error_code(Errc::would_block));
  auto out = outputs(c.e, T(1));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(c.e.unacked_messages(), 3u);
  c.e.on_frame(ack_for(out[1]), T(5));  // acks may arrive for any entry
  auto ev = events(c.e);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Writable>(ev[0]));
  EXPECT_EQ(c.e.unacked_messages(), 2u);
  EXPECT_FALSE(c.e.send(PayloadType::output, b, T(6)));
}

TEST(DataChannel, SendWithWritesThePayloadInPlaceLikeSend) {
  RunningClient a, b;  // same seeds: the same message ids
  const std::string text = "hello, in place";
  ASSERT_FALSE(a.e.send(PayloadType::output, wire::as_bytes(text), T(1)));
  std::size_t offered = 0;
  auto fill = [&](std::span<std::uint8_t> room) {
    offered = room.size();
    std::memcpy(room.data(), text.data(), text.size());
    return text.size();
  };
  ASSERT_FALSE(b.e.send_with(PayloadType::output, 1024, fill, T(1)));
  EXPECT_EQ(offered, 1024u);
  const auto fa = outputs(a.e, T(1)), fb = outputs(b.e, T(1));
  ASSERT_EQ(fa.size(), 1u);
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(fa[0], fb[0]);  // byte for byte: header, digest, payload length
  EXPECT_EQ(b.e.unacked_messages(), 1u);
  // The newline quirk applies to in-place payloads too.
  auto newline = [](std::span<std::uint8_t> room) {
    room[0] = '\n';
    return std::size_t{1};
  };
  ASSERT_FALSE(b.e.send_with(PayloadType::output, 16, newline, T(2)));
  const auto nl = outputs(b.e, T(2));
  ASSERT_EQ(nl.size(), 1u);
  EXPECT_EQ(std::string(dec(nl[0]).payload.begin(), dec(nl[0]).payload.end()), "\r");
}

TEST(DataChannel, SendWithNothingWrittenSendsNothingAndAFullWindowNeverCallsTheFill) {
  Config cfg;
  cfg.send_window_messages = 1;
  RunningClient c(cfg);
  auto nothing = [](std::span<std::uint8_t>) { return std::size_t{0}; };
  EXPECT_FALSE(c.e.send_with(PayloadType::output, 1024, nothing, T(1)));
  EXPECT_TRUE(outputs(c.e, T(1)).empty());
  EXPECT_EQ(c.e.unacked_messages(), 0u);
  const std::uint8_t b[] = {'a'};
  ASSERT_FALSE(c.e.send(PayloadType::output, b, T(1)));
  bool called = false;
  auto fill = [&](std::span<std::uint8_t> room) {
    called = true;
    room[0] = 'x';
    return std::size_t{1};
  };
  EXPECT_EQ(c.e.send_with(PayloadType::output, 1024, fill, T(1)), make_error_code(Errc::would_block));
  EXPECT_FALSE(called);
  EXPECT_EQ(c.e.send_with(PayloadType::output, cfg.max_payload + 1, fill, T(1)),
            make_error_code(Errc::payload_too_large));
  EXPECT_FALSE(called);
}

TEST(DataChannel, EveryExpiredMessageIsResentWithinOneRto) {
  RunningClient c;
  const std::uint8_t b[] = {'a'};
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(c.e.send(PayloadType::output, b, T(0)));
  ASSERT_EQ(outputs(c.e, T(0)).size(), 100u);
  const auto deadline = c.e.next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline, T(0) + kInitialRto);
  c.e.on_timer(*deadline);
  auto resent = outputs(c.e, *deadline);
  ASSERT_EQ(resent.size(), 100u);  // all of them, not just the head
  for (std::size_t i = 0; i < resent.size(); ++i)
    EXPECT_EQ(dec(resent[i]).header.sequence_number, static_cast<std::int64_t>(i));
  EXPECT_EQ(c.e.stats().retransmissions, 100u);
}

TEST(DataChannel, RetransmissionsResendIdenticalBytes) {
  RunningClient c;
  const std::uint8_t b[] = {'q'};
  ASSERT_FALSE(c.e.send(PayloadType::output, b, T(0)));
  auto first = outputs(c.e, T(0));
  c.e.on_timer(T(0) + kInitialRto);
  auto again = outputs(c.e, T(0) + kInitialRto);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], first[0]);  // same MessageId and CreatedDate (02 §10)
}

TEST(DataChannel, RttEstimatorFollowsTheSpecExample) {
  RttEstimator r;
  r.sample(40ms);  // 03 §6 worked example
  EXPECT_EQ(r.rttvar(), 15ms);
  EXPECT_EQ(r.srtt(), Duration(92'500'000));
  EXPECT_EQ(r.rto(), Duration(152'500'000));
  for (int i = 0; i < 50; ++i) r.sample(5s);
  EXPECT_EQ(r.rto(), kMaxRto);
}

TEST(DataChannel, GivesUpWhenTheHeadIsUnackedTooLong) {
  Config cfg;
  cfg.give_up_after = 10s;
  RunningClient c(cfg);
  const std::uint8_t b[] = {'a'};
  ASSERT_FALSE(c.e.send(PayloadType::output, b, T(0)));
  outputs(c.e, T(0));
  bool timed_out = false;
  for (TimePoint t = T(0); t < T(11'000); t = *c.e.next_deadline()) {
    c.e.on_timer(t);
    outputs(c.e, t);
    for (auto& ev : events(c.e)) timed_out |= std::holds_alternative<ResendTimeout>(ev);
    if (timed_out) {
      EXPECT_GE(t, T(10'000));
      break;
    }
  }
  EXPECT_TRUE(timed_out);
}

TEST(DataChannel, TransportReplacementResendsEverythingUnackedImmediately) {
  RunningClient c;
  const std::uint8_t b[] = {'a'};
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(c.e.send(PayloadType::output, b, T(0)));
  auto first = outputs(c.e, T(0));
  c.e.on_frame(ack_for(first[0]), T(10));
  c.e.on_transport_lost();
  ASSERT_FALSE(c.e.send(PayloadType::output, b, T(20)));  // accepted while down: stored, sent later
  EXPECT_TRUE(outputs(c.e, T(20)).empty());
  c.e.on_transport_ready(T(30));
  auto out = outputs(c.e, T(30));
  ASSERT_EQ(out.size(), 5u);  // seq 1..4 resent, then 5 for the first time
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(dec(out[i]).header.sequence_number, static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(c.e.next_outgoing_sequence(), 6);
}

TEST(DataChannel, PacingHoldsStreamMessagesAndSaysWhenToWake) {
  Config cfg;
  cfg.max_messages_per_second = 100;  // burst of 10
  RunningClient c(cfg);
  const std::uint8_t b[] = {'a'};
  for (int i = 0; i < 30; ++i) ASSERT_FALSE(c.e.send(PayloadType::output, b, T(0)));
  EXPECT_EQ(outputs(c.e, T(0)).size(), 10u);
  auto wake = c.e.next_deadline();
  ASSERT_TRUE(wake);
  EXPECT_LE(*wake, T(11));
  EXPECT_GE(*wake, T(9));
  EXPECT_EQ(outputs(c.e, T(100)).size(), 10u);
}

TEST(DataChannel, AgentHonoursPausePublicationUntilStart) {
  Config cfg;
  cfg.role = Role::agent;
  cfg.honor_pause = true;
  crypto::DeterministicRandom rng(3);
  DataChannel a(cfg, rng, T(0));
  a.start_without_handshake();
  wire::MessageHeader h{MessageType::pause_publication, 1, 0, 0, 0, {}, PayloadType::none};
  a.on_frame(wire::encode(h, {}), T(0));
  const std::uint8_t b[] = {'a'};
  ASSERT_FALSE(a.send(PayloadType::output, b, T(1)));
  EXPECT_TRUE(outputs(a, T(1)).empty());
  h.type = MessageType::start_publication;
  a.on_frame(wire::encode(h, {}), T(2));
  auto out = outputs(a, T(2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(dec(out[0]).header.flags, wire::kFlagSyn);  // agent's seq 0 carries SYN
}

TEST(DataChannel, ChannelClosedBecomesAnEventAndClosesTheChannel) {
  RunningClient c;
  wire::ChannelClosed cc;
  cc.session_id = "s-1";
  cc.output = "idle timeout";
  const auto payload = wire::to_json(cc);
  wire::MessageHeader h{MessageType::channel_closed, 1, 5, 0, wire::kFlagsAck, {}, PayloadType::none};
  c.e.on_frame(wire::encode(h, wire::as_bytes(payload)), T(1));
  auto ev = events(c.e);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<ChannelClosedEvent>(ev[0]).payload.output, "idle timeout");
  EXPECT_TRUE(outputs(c.e, T(1)).empty());  // never acked (03 §8)
  const std::uint8_t b[] = {'a'};
  EXPECT_EQ(c.e.send(PayloadType::output, b, T(2)), make_error_code(Errc::closed));
}

TEST(DataChannel, MalformedAndUnknownFramesAreDroppedWithAReason) {
  RunningClient c;
  std::vector<std::uint8_t> junk(50, 0xab);
  c.e.on_frame(junk, T(1));
  auto f = agent_frame(1, "x");
  f.back() ^= 0xff;  // corrupt the payload: digest mismatch
  c.e.on_frame(f, T(1));
  auto ev = events(c.e);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<FrameDropped>(ev[0]).error, wire::make_error_code(wire::Errc::short_frame));
  EXPECT_EQ(std::get<FrameDropped>(ev[1]).error, wire::make_error_code(wire::Errc::digest_mismatch));
  EXPECT_TRUE(outputs(c.e, T(1)).empty());
}

// Full handshake between our two roles over a perfect link, with KMS.
TEST(DataChannel, KmsHandshakeEncryptsOutputButNotSizeOrFlag) {
  crypto::DeterministicRandom rc(1), ra(2);
  Config cc, ca;
  cc.session_id = ca.session_id = "s-1";
  cc.target_id = ca.target_id = "i-1";
  ca.role = Role::agent;
  DataChannel client(cc, rc, T(0)), agent(ca, ra, T(0));
  HandshakeSpec spec;
  spec.kms_key_id = "alias/k";
  ASSERT_FALSE(agent.start_handshake(spec, T(0)));
  std::vector<std::vector<std::uint8_t>> to_agent_log;
  for (int round = 0; round < 20; ++round) {
    for (auto& f : outputs(agent, T(round))) client.on_frame(f, T(round));
    for (auto& f : outputs(client, T(round))) {
      to_agent_log.push_back(f);
      agent.on_frame(f, T(round));
    }
    for (DataChannel* e : {&client, &agent})
      for (auto& ev : events(*e))
        if (auto* k = std::get_if<KmsRequest>(&ev)) {
          EXPECT_EQ(k->encryption_context.at(0).second, "s-1");
          EXPECT_EQ(k->encryption_context.at(1).second, "i-1");
          e->on_kms_result(sim::fake_kms(*k, 9), T(round));
        }
  }
  ASSERT_TRUE(client.running());
  ASSERT_TRUE(agent.running());
  EXPECT_TRUE(client.encrypted());
  const std::string secret = "top secret keystrokes";
  ASSERT_FALSE(client.send(PayloadType::output, wire::as_bytes(secret), T(30)));
  ASSERT_FALSE(client.send(PayloadType::size, wire::as_bytes(wire::to_json(wire::TerminalSize{1, 2})), T(30)));
  auto out = outputs(client, T(30));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(wire::as_text(dec(out[0]).payload).find("secret"), std::string::npos);
  EXPECT_EQ(dec(out[0]).payload.size(), secret.size() + crypto::kGcmOverhead);
  EXPECT_NE(wire::as_text(dec(out[1]).payload).find("cols"), std::string::npos);  // Size stays clear
  for (auto& f : out) agent.on_frame(f, T(31));
  std::string got;
  for (auto& ev : events(agent))
    if (auto* d = std::get_if<DataReceived>(&ev); d && d->type == PayloadType::output) got = wire::as_text(d->bytes);
  EXPECT_EQ(got, secret);
}

TEST(DataChannel, AgentDiscardsStreamDataBeforeHandshakeCompletes) {
  Config ca;
  ca.role = Role::agent;
  crypto::DeterministicRandom ra(2);
  DataChannel agent(ca, ra, T(0));
  ASSERT_FALSE(agent.start_handshake({}, T(0)));
  crypto::DeterministicRandom r(5);
  wire::MessageHeader h{MessageType::input_stream_data, 1, 9, 0, 0, wire::Uuid::random_v4(r), PayloadType::output};
  agent.on_frame(wire::encode(h, wire::as_bytes("early")), T(1));
  auto out = outputs(agent, T(1));
  ASSERT_EQ(out.size(), 2u);  // the ack of the discarded message (03 §3.3), then the HandshakeRequest
  EXPECT_EQ(acked_seq(out[0]), 0);
  EXPECT_EQ(dec(out[1]).header.payload_type, PayloadType::handshake_request);
  for (auto& ev : events(agent)) EXPECT_FALSE(std::holds_alternative<DataReceived>(ev));
}

TEST(DataChannel, UnknownHandshakeActionIsReportedUnsupported) {
  crypto::DeterministicRandom rng(1);
  DataChannel e({}, rng, T(0));
  const std::string req =
      R"({"AgentVersion":"9.9.9.9","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"80"}}},{"ActionType":"Teleport","ActionParameters":{}}]})";
  e.on_frame(agent_frame(0, req, PayloadType::handshake_request), T(0));
  auto out = outputs(e, T(0));
  ASSERT_EQ(out.size(), 2u);
  auto resp = wire::parse_handshake_response(dec(out[1]).payload).value();
  ASSERT_EQ(resp.actions.size(), 2u);
  EXPECT_EQ(resp.actions[0].action_status, 1);
  EXPECT_EQ(resp.actions[1].action_status, 3);  // the official client sends 0 with ActionResult 3 (04 §4)
  EXPECT_EQ(resp.errors, std::vector<std::string>{"Unsupported action Teleport"});
  EXPECT_EQ(e.agent_version(), "9.9.9.9");
}

}  // namespace
}  // namespace ssmc::channel
