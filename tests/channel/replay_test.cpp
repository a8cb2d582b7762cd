// Replays of the golden transcripts: the frames one official implementation
// sent are fed to our engine in the opposite role, and our engine must
// acknowledge what the official peer acknowledged and answer the handshake as
// the official client did.
#include <gtest/gtest.h>

#include <set>

#include "channel/data_channel.hpp"
#include "sim/network_sim.hpp"
#include "support/transcript.hpp"
#include "wire/go_json.hpp"
#include "wire/payloads.hpp"

namespace ssmc::channel {
namespace {

using wire::PayloadType;

TimePoint at(const test::WsRecord& r, std::int64_t t0) { return TimePoint{} + std::chrono::nanoseconds(r.t_ns - t0); }

// Sequence numbers acknowledged by the frames of direction `dir`.
std::set<std::int64_t> acked_by(const test::Transcript& t, std::string_view dir) {
  std::set<std::int64_t> out;
  for (const auto& r : t.frames) {
    if (r.dir != dir || r.ws_type != "binary") continue;
    auto m = wire::decode(r.bytes);
    if (m && m->header.type == wire::MessageType::acknowledge)
      out.insert(*wire::parse_acknowledged_sequence(m->payload));
  }
  return out;
}

std::set<std::int64_t> acked_in(const std::vector<std::vector<std::uint8_t>>& frames) {
  std::set<std::int64_t> out;
  for (const auto& f : frames) {
    auto m = wire::decode(f);
    if (m && m->header.type == wire::MessageType::acknowledge)
      out.insert(*wire::parse_acknowledged_sequence(m->payload));
  }
  return out;
}

std::optional<std::string> first_payload(const test::Transcript& t, std::string_view dir, PayloadType type) {
  for (const auto& r : t.frames) {
    if (r.dir != dir || r.ws_type != "binary") continue;
    auto m = wire::decode(r.bytes);
    if (m && m->header.payload_type == type) return std::string(wire::as_text(m->payload));
  }
  return std::nullopt;
}

struct Replay {
  std::vector<std::vector<std::uint8_t>> out;
  std::vector<Event> events;
};

void drain(DataChannel& e, TimePoint now, Replay& r, std::uint64_t seed) {
  for (int round = 0; round < 10; ++round) {
    bool progress = false;
    while (auto f = e.poll_output(now)) {
      r.out.emplace_back(f->begin(), f->end());
      progress = true;
    }
    while (auto ev = e.poll_event()) {
      if (auto* k = std::get_if<KmsRequest>(&*ev)) e.on_kms_result(sim::fake_kms(*k, seed), now);
      r.events.push_back(std::move(*ev));
      progress = true;
    }
    if (!progress) return;
  }
}

class ClientReplay : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(ClientReplay, AcksWhatTheOfficialClientAckedAndAnswersTheHandshakeAlike) {
  const auto t = test::load_transcript(GetParam());
  crypto::DeterministicRandom rng(1);
  Config cfg;
  cfg.role = Role::client;
  cfg.session_id = "s";
  cfg.target_id = "i-0123456789abcdef0";
  const std::int64_t t0 = t.frames.front().t_ns;
  DataChannel client(cfg, rng, TimePoint{});
  Replay r;
  for (const auto& f : t.frames) {
    if (f.ws_type != "binary" || (f.dir != "agent->client" && f.dir != "mgs->client")) continue;
    client.on_frame(f.bytes, at(f, t0));
    drain(client, at(f, t0), r, 1);
  }

  const bool kms = t.name.find("kms") != std::string::npos;
  std::set<std::int64_t> official = acked_by(t, "client->agent");
  if (kms) {
    // Our fake KMS cannot know moto's data key, so the agent's challenge does
    // not decrypt: the client must drop it unacknowledged (04 §7, 03 §3.1)
    // and still ack the later (early) messages on arrival.
    EXPECT_TRUE(official.erase(1));
    bool dropped = false;
    for (const auto& e : r.events)
      if (auto* d = std::get_if<FrameDropped>(&e)) dropped |= d->detail.find("challenge") != std::string::npos;
    EXPECT_TRUE(dropped);
  }
  EXPECT_EQ(acked_in(r.out), official);

  // The HandshakeResponse matches the official one (ClientVersion aside; the
  // KMS ciphertext blob comes from our fake KMS).
  auto official_resp = first_payload(t, "client->agent", PayloadType::handshake_response);
  std::optional<std::string> ours;
  for (const auto& f : r.out) {
    auto m = wire::decode(f);
    if (m && m->header.payload_type == PayloadType::handshake_response) ours = std::string(wire::as_text(m->payload));
  }
  ASSERT_EQ(official_resp.has_value(), ours.has_value());
  if (official_resp) {
    auto a = *wire::parse_handshake_response(wire::as_bytes(*official_resp));
    auto b = *wire::parse_handshake_response(wire::as_bytes(*ours));
    EXPECT_EQ(b.client_version, kClientVersion);
    ASSERT_EQ(a.actions.size(), b.actions.size());
    for (std::size_t i = 0; i < a.actions.size(); ++i) {
      EXPECT_EQ(a.actions[i].action_type, b.actions[i].action_type);
      EXPECT_EQ(a.actions[i].action_status, b.actions[i].action_status);
      EXPECT_EQ(a.actions[i].error, b.actions[i].error);
      EXPECT_EQ(a.actions[i].action_result.is_null(), b.actions[i].action_result.is_null());
    }
    EXPECT_EQ(a.errors, b.errors);
    if (!kms) {  // without KMS the bytes are identical but for the version string
      std::string expected = *official_resp;
      expected.replace(expected.find(a.client_version), a.client_version.size(), kClientVersion);
      EXPECT_EQ(*ours, expected);
    }
  }
  // Every session ends with channel_closed surfaced as an event.
  bool closed = false;
  for (const auto& e : r.events) closed |= std::holds_alternative<ChannelClosedEvent>(e);
  EXPECT_TRUE(closed);
  // Our client's own stream messages use one counter starting at 0.
  std::int64_t expected_seq = 0;
  for (const auto& f : r.out) {
    auto m = wire::decode(f);
    if (m && m->header.type == wire::MessageType::input_stream_data) {
      EXPECT_EQ(m->header.sequence_number, expected_seq++);
    }
  }
}

class AgentReplay : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(AgentReplay, AcceptsTheOfficialClientsFramesAndAcksLikeTheOfficialAgent) {
  const auto t = test::load_transcript(GetParam());
  crypto::DeterministicRandom rng(2);
  Config cfg;
  cfg.role = Role::agent;
  cfg.send_window_messages = kAgentBufferCapacity;
  cfg.reorder_messages = kAgentBufferCapacity;
  const std::int64_t t0 = t.frames.front().t_ns;
  DataChannel agent(cfg, rng, TimePoint{});
  Replay r;

  // Put the agent in the state the real agent was in: with or without a handshake.
  auto request = first_payload(t, "agent->client", PayloadType::handshake_request);
  const bool kms = request && request->find("KMSEncryption") != std::string::npos;
  if (request) {
    auto req = *wire::parse_handshake_request(wire::as_bytes(*request));
    auto st = *wire::parse_session_type_params(req.actions.at(0).parameters);
    HandshakeSpec spec{req.agent_version, st.session_type, st.properties, std::nullopt};
    if (kms) spec.kms_key_id = wire::parse_kms_encryption_params(req.actions.at(1).parameters)->kms_key_id;
    ASSERT_FALSE(agent.start_handshake(spec, TimePoint{}));
  } else {
    agent.start_without_handshake();
  }
  drain(agent, TimePoint{}, r, 2);

  std::string delivered;
  for (const auto& f : t.frames) {
    if (f.ws_type != "binary" || f.dir != "client->agent") continue;
    agent.on_frame(f.bytes, at(f, t0));
    drain(agent, at(f, t0), r, 2);
  }
  for (const auto& e : r.events)
    if (auto* d = std::get_if<DataReceived>(&e); d && d->type == PayloadType::output)
      delivered.append(d->bytes.begin(), d->bytes.end());

  std::set<std::int64_t> official = acked_by(t, "agent->client");
  if (kms) {
    // The real client's KMS key blob came from moto; our fake KMS "decrypts"
    // it to another key, so the real challenge response cannot verify and the
    // handshake fails there: everything up to it is still acked alike.
    bool failed = false;
    for (const auto& e : r.events) failed |= std::holds_alternative<HandshakeFailed>(e);
    EXPECT_TRUE(failed);
  } else {
    for (const auto& e : r.events) EXPECT_FALSE(std::holds_alternative<HandshakeFailed>(e));
  }
  // The official agent acks after processing; on the TerminateSession flag it
  // tears the session down first, so that last ack never went out
  // (portforward-basic-4KB). Ours acks it: that is the only difference allowed.
  const auto ours = acked_in(r.out);
  for (auto seq : official) EXPECT_TRUE(ours.count(seq)) << "official agent acked seq " << seq << ", we did not";
  for (auto seq : ours) {
    if (official.count(seq)) continue;
    bool is_terminate_flag = false;
    for (const auto& f : t.frames) {
      if (f.dir != "client->agent" || f.ws_type != "binary") continue;
      auto m = wire::decode(f.bytes);
      if (m && m->header.type == wire::MessageType::input_stream_data && m->header.sequence_number == seq)
        is_terminate_flag = m->header.payload_type == PayloadType::flag &&
                            wire::parse_flag(m->payload).value() == wire::FlagValue::terminate_session;
    }
    EXPECT_TRUE(is_terminate_flag) << "we acked seq " << seq << " which the official agent did not";
  }

  // Output the client sent reached the agent application exactly once, in
  // order (handshake sessions: only what followed HandshakeComplete).
  if (!kms) {
    std::string sent;
    std::set<std::int64_t> seen;
    for (const auto& f : t.frames) {
      if (f.ws_type != "binary" || f.dir != "client->agent") continue;
      auto m = wire::decode(f.bytes);
      if (!m || m->header.type != wire::MessageType::input_stream_data) continue;
      if (!seen.insert(m->header.sequence_number).second) continue;
      if (m->header.payload_type == PayloadType::output) sent.append(wire::as_text(m->payload));
    }
    EXPECT_EQ(delivered, sent);
  }
}

std::string param_name(const ::testing::TestParamInfo<std::filesystem::path>& p) {
  std::string n = p.param.stem().string();
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Transcripts, ClientReplay, ::testing::ValuesIn(test::transcript_files()), param_name);
INSTANTIATE_TEST_SUITE_P(Transcripts, AgentReplay, ::testing::ValuesIn(test::transcript_files()), param_name);

}  // namespace
}  // namespace ssmc::channel
