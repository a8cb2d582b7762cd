// Replays the smux bytes of the golden port-forwarding transcript
// (portforward-mux-4KB.jsonl: official session-manager-plugin smux client ⇄
// amazon-ssm-agent smux server, keep-alive off on both sides) through our
// engine in both roles:
// * server role: fed the official client's Output payloads, it must yield
//   the stream the agent accepted and the request bytes; doing what the agent
//   did (write the 4096 bytes, close) must produce the agent's payloads byte
//   for byte, in its 1024-byte chunks;
// * client role: doing what the official client did (open, write, close) must
//   produce the client's payloads byte for byte, and the agent's payloads
//   must yield the 4096 bytes and the FIN.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "mux/smux_session.hpp"
#include "mux_test_support.hpp"
#include "support/transcript.hpp"
#include "wire/agent_message.hpp"

namespace ssmc::mux {
namespace {

using namespace test;
using wire::SmuxCmd;

constexpr const char* kMuxTranscript = "portforward-mux-4KB.jsonl";

/// One Output payload of the smux stream, in record order; retransmissions
/// (same sequence number) are dropped after checking they repeat the bytes.
struct Msg {
  bool from_client = false;
  std::int64_t seq = 0;
  Bytes payload;
  TimePoint at;
};

std::vector<Msg> mux_messages() {
  const auto t = ssmc::test::load_transcript(ssmc::test::transcripts_dir() / kMuxTranscript);
  std::vector<Msg> out;
  std::map<std::pair<bool, std::int64_t>, Bytes> seen;
  std::map<bool, std::int64_t> last_seq{{true, -1}, {false, -1}};
  const std::int64_t start = t.frames.empty() ? 0 : t.frames.front().t_ns;
  for (const auto& r : t.frames) {
    if (r.ws_type != "binary") continue;
    auto m = wire::decode(r.bytes);
    EXPECT_TRUE(m) << m.error().message();
    if (!m || m->header.payload_type != wire::PayloadType::output) continue;
    const bool from_client = r.dir == "client->agent" && m->header.type == wire::MessageType::input_stream_data;
    const bool from_agent = r.dir == "agent->client" && m->header.type == wire::MessageType::output_stream_data;
    if (!from_client && !from_agent) continue;
    Bytes payload(m->payload.begin(), m->payload.end());
    const auto key = std::make_pair(from_client, m->header.sequence_number);
    if (auto it = seen.find(key); it != seen.end()) {
      EXPECT_EQ(it->second, payload) << "retransmission with different bytes";
      continue;
    }
    EXPECT_GT(key.second, last_seq[from_client]) << "Output payloads arrive in sequence order";
    last_seq[from_client] = key.second;
    seen.emplace(key, payload);
    out.push_back({from_client, key.second, std::move(payload), t0() + std::chrono::nanoseconds(r.t_ns - start)});
  }
  return out;
}

/// The whole smux stream of one direction.
Bytes stream_of(const std::vector<Msg>& msgs, bool from_client) {
  Bytes out;
  for (const auto& m : msgs)
    if (m.from_client == from_client) out.insert(out.end(), m.payload.begin(), m.payload.end());
  return out;
}

/// The PSH data of stream 3 in one direction.
Bytes data_in(const Bytes& stream) {
  Bytes out;
  for (const auto& f : parse_frames(stream))
    if (f.header.cmd == SmuxCmd::psh) out.insert(out.end(), f.data.begin(), f.data.end());
  return out;
}

SessionConfig ssm_config(Role role) {
  SessionConfig c;
  c.role = role;
  // 06 §4.4: agent 3.3.1142.0 > 3.1.1511.0 and client 1.2.677.0 > 1.2.331.0:
  // both sides disabled keep-alive in this session (transcript README).
  c.keep_alive = false;
  return c;
}

TEST(SmuxTranscript, TheTranscriptHasTheExpectedShape) {
  const auto msgs = mux_messages();
  std::size_t client = 0, agent = 0;
  for (const auto& m : msgs) (m.from_client ? client : agent)++;
  EXPECT_EQ(client, 3u) << "SYN, PSH \"4096\\n\", FIN: one message each";
  EXPECT_EQ(agent, 5u) << "4112 bytes in 1024-byte reads";
}

TEST(SmuxTranscript, ServerRoleAcceptsTheClientsStreamAndAnswersLikeTheAgent) {
  const auto msgs = mux_messages();
  const Bytes agent_stream = stream_of(msgs, false);
  const Bytes agent_data = data_in(agent_stream);
  ASSERT_EQ(agent_data.size(), 4096u);

  SmuxSession server(ssm_config(Role::server), msgs.front().at);
  std::vector<Event> events;
  std::vector<Bytes> our_payloads;
  bool answered = false;
  std::size_t agent_index = 0;
  for (const auto& m : msgs) {
    if (m.from_client) {
      server.on_bytes(m.payload, m.at);
      for (auto& e : drain_events(server)) events.push_back(std::move(e));
      continue;
    }
    // The agent sent this payload: by now it had the request and answered
    // (destination data, then Close when the destination closed).
    if (!answered) {
      ASSERT_FALSE(server.write(3, agent_data, m.at));
      ASSERT_FALSE(server.close_stream(3, m.at));
      while (server.has_output()) {
        Bytes chunk;
        server.poll_output(chunk, 1024, m.at);  // the agent's pipe reads 1024 bytes (06 §4.2)
        our_payloads.push_back(std::move(chunk));
      }
      answered = true;
    }
    ASSERT_LT(agent_index, our_payloads.size());
    EXPECT_EQ(our_payloads[agent_index], m.payload) << "agent payload " << agent_index;
    ++agent_index;
  }
  EXPECT_EQ(agent_index, our_payloads.size());

  // Events: the SYN and the request; the client's FIN came after the agent
  // closed the stream, so smux (and we) ignore it.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<StreamOpened>(events[0]).id, 3u);
  EXPECT_EQ(std::get<StreamData>(events[1]).id, 3u);
  EXPECT_EQ(text_of(std::get<StreamData>(events[1]).bytes), "4096\n");
  EXPECT_EQ(server.stream_count(), 0u);
  EXPECT_FALSE(server.dead());
  EXPECT_EQ(server.stats().data_bytes_discarded, 0u);
}

TEST(SmuxTranscript, ClientRoleReproducesTheClientsBytesAndReceivesTheDownload) {
  const auto msgs = mux_messages();
  const Bytes agent_data = data_in(stream_of(msgs, false));

  SmuxSession client(ssm_config(Role::client), msgs.front().at);
  Bytes received;
  bool finished = false;
  std::uint32_t id = 0;
  for (const auto& m : msgs) {
    if (!m.from_client) {
      client.on_bytes(m.payload, m.at);
      for (auto& e : drain_events(client)) {
        if (auto* d = std::get_if<StreamData>(&e)) {
          ASSERT_EQ(d->id, id);
          received.insert(received.end(), d->bytes.begin(), d->bytes.end());
          client.consumed(id, d->bytes.size(), m.at);
        } else if (auto* f = std::get_if<StreamFinished>(&e)) {
          ASSERT_EQ(f->id, id);
          finished = true;
        } else {
          ADD_FAILURE() << "unexpected event " << e.index();
        }
      }
      continue;
    }
    // The official client sent this payload: do what it did, then compare.
    for (const auto& f : parse_frames(m.payload)) {
      switch (f.header.cmd) {
        case SmuxCmd::syn: {  // a local connection was accepted (06 §4.1 step 6)
          auto opened = client.open_stream(m.at);
          ASSERT_TRUE(opened);
          id = *opened;
          EXPECT_EQ(id, f.header.stream_id);
          break;
        }
        case SmuxCmd::psh:
          ASSERT_FALSE(client.write(id, f.data, m.at));
          break;
        case SmuxCmd::fin:  // the download ended: the local side closed
          EXPECT_TRUE(finished) << "the official client closed after the agent's FIN";
          ASSERT_FALSE(client.close_stream(id, m.at));
          break;
        default:
          FAIL() << "unexpected frame from the client";
      }
    }
    Bytes ours;
    client.poll_output(ours, 1024, m.at);
    EXPECT_EQ(ours, m.payload) << "client payload seq " << m.seq;
    EXPECT_FALSE(client.has_output());
  }
  EXPECT_EQ(id, wire::kSmuxFirstClientStreamId);
  EXPECT_TRUE(finished);
  EXPECT_EQ(received, agent_data);
  EXPECT_EQ(client.stream_count(), 0u);
  EXPECT_EQ(client.receive_buffered(), 0u);
}

TEST(SmuxTranscript, BothDirectionsReplayIdenticallyUnderRandomSplits) {
  const auto msgs = mux_messages();
  const Bytes client_stream = stream_of(msgs, true);
  const Bytes agent_stream = stream_of(msgs, false);
  std::mt19937_64 gen(77);
  for (int round = 0; round < 300; ++round) {
    const std::size_t max_chunk = std::size_t{1} << (gen() % 12);
    SmuxSession server(ssm_config(Role::server), t0());
    SmuxSession client(ssm_config(Role::client), t0());
    ASSERT_EQ(*client.open_stream(t0()), 3u);
    for (auto [mux, stream] : {std::pair{&server, &client_stream}, std::pair{&client, &agent_stream}}) {
      for (std::size_t at = 0; at < stream->size();) {
        const std::size_t n = std::min<std::size_t>(1 + gen() % max_chunk, stream->size() - at);
        mux->on_bytes(std::span(*stream).subspan(at, n), t0());
        at += n;
      }
    }
    const auto sev = drain_events(server);
    ASSERT_EQ(sev.size(), 3u) << "round " << round;
    EXPECT_EQ(std::get<StreamOpened>(sev[0]).id, 3u);
    EXPECT_EQ(text_of(std::get<StreamData>(sev[1]).bytes), "4096\n");
    EXPECT_EQ(std::get<StreamFinished>(sev[2]).id, 3u);
    const auto cev = drain_events(client);
    Bytes got;
    for (std::size_t i = 0; i + 1 < cev.size(); ++i) {
      const auto& d = std::get<StreamData>(cev[i]);
      got.insert(got.end(), d.bytes.begin(), d.bytes.end());
    }
    ASSERT_FALSE(cev.empty());
    EXPECT_EQ(std::get<StreamFinished>(cev.back()).id, 3u);
    EXPECT_EQ(got, data_in(agent_stream));
    EXPECT_EQ(cev.size(), 2u) << "one PSH frame: delivered once, whatever the split";
  }
}

}  // namespace
}  // namespace ssmc::mux
