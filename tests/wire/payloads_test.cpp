// Typed payload JSON (02 §2, 03 §4/§8/§10/§11, 04, 05): every payload of
// every golden transcript parses with the parser its message/payload type
// selects, its fields agree with the rest of the session, and whatever Go
// wrote re-serialises to the identical bytes. Then the reader tolerance and
// the Go escaping rules, one behaviour per test.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/transcript.hpp"
#include "wire/agent_message.hpp"
#include "wire/go_json.hpp"
#include "wire/payloads.hpp"

namespace ssmc::wire {
namespace {

namespace json = boost::json;

// ------------------------------------------------------------------ helpers

/// The transcripts, loaded once; DecodedMessage spans point into them.
const std::vector<test::Transcript>& transcripts() {
  static const std::vector<test::Transcript> all = [] {
    std::vector<test::Transcript> v;
    for (const auto& f : test::transcript_files()) v.push_back(test::load_transcript(f));
    return v;
  }();
  return all;
}

std::string session_of(const test::Transcript& t) {
  return std::string(t.records.front().as_object().at("session").as_string());
}

bool is_encrypted(const test::Transcript& t) { return t.name.find("kms") != std::string::npos; }

/// One decoded binary frame with where it came from.
struct Frame {
  const test::Transcript* transcript;
  const test::WsRecord* record;
  std::size_t index;  ///< position among the transcript's ws records
  DecodedMessage msg;
  std::string_view payload_text() const { return as_text(msg.payload); }
};

std::vector<Frame> binary_frames(const test::Transcript& t) {
  std::vector<Frame> out;
  for (std::size_t i = 0; i < t.frames.size(); ++i) {
    const auto& r = t.frames[i];
    if (r.ws_type != "binary") continue;
    auto m = decode(r.bytes);
    if (!m) throw std::runtime_error(t.name + ": undecodable frame " + std::to_string(r.seq));
    out.push_back(Frame{&t, &r, i, *m});
  }
  return out;
}

std::string where(const Frame& f) { return f.transcript->name + " record " + std::to_string(f.record->seq); }

bool is_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  for (char c : s) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '=') {
      ++pad;
    } else if (pad || !(alnum || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}
/// Number of bytes a padded standard base64 text decodes to.
std::size_t base64_decoded_size(std::string_view s) {
  std::size_t pad = 0;
  while (!s.empty() && s.back() == '=') ++pad, s.remove_suffix(1);
  return (s.size() + pad) / 4 * 3 - pad;
}

std::span<const std::uint8_t> bytes(std::string_view s) { return as_bytes(s); }

std::string opposite(const std::string& dir) {
  if (dir == "client->agent") return "agent->client";
  if (dir == "agent->client") return "client->agent";
  return {};
}

// Which parser a frame's payload belongs to; nullopt for raw stream bytes.
enum class Kind { acknowledge, channel_closed, agent_session_state, size, flag, handshake_request,
                  handshake_response, handshake_complete, challenge_request, challenge_response, exit_code };
std::optional<Kind> kind_of(const DecodedMessage& m) {
  switch (m.header.type) {
    case MessageType::acknowledge: return Kind::acknowledge;
    case MessageType::channel_closed: return Kind::channel_closed;
    case MessageType::agent_session_state: return Kind::agent_session_state;
    case MessageType::input_stream_data:
    case MessageType::output_stream_data: break;
    default: return std::nullopt;
  }
  switch (m.header.payload_type) {
    case PayloadType::size: return Kind::size;
    case PayloadType::flag: return Kind::flag;
    case PayloadType::handshake_request: return Kind::handshake_request;
    case PayloadType::handshake_response: return Kind::handshake_response;
    case PayloadType::handshake_complete: return Kind::handshake_complete;
    case PayloadType::enc_challenge_request: return Kind::challenge_request;
    case PayloadType::enc_challenge_response: return Kind::challenge_response;
    case PayloadType::exit_code: return Kind::exit_code;
    default: return std::nullopt;  // Output / StdErr: raw (possibly encrypted) bytes
  }
}

// ----------------------------------------------------- transcripts: coverage

// Every frame that carries a structured payload is accepted by its parser,
// and every structured kind the transcripts contain is exercised.
TEST(PayloadTranscripts, EveryStructuredPayloadIsAcceptedByItsParser) {
  std::map<Kind, std::size_t> seen;
  std::size_t raw = 0;
  for (const auto& t : transcripts()) {
    for (const auto& f : binary_frames(t)) {
      SCOPED_TRACE(where(f));
      const auto kind = kind_of(f.msg);
      if (!kind) {
        ++raw;
        EXPECT_TRUE(f.msg.header.payload_type == PayloadType::output ||
                    f.msg.header.payload_type == PayloadType::std_err)
            << "unexpected stream payload type " << static_cast<std::uint32_t>(f.msg.header.payload_type);
        continue;
      }
      ++seen[*kind];
      const auto p = f.msg.payload;
      bool ok = false;
      switch (*kind) {
        case Kind::acknowledge: ok = static_cast<bool>(parse_acknowledge(p)); break;
        case Kind::channel_closed: ok = static_cast<bool>(parse_channel_closed(p)); break;
        case Kind::agent_session_state: ok = static_cast<bool>(parse_agent_session_state(p)); break;
        case Kind::size: ok = static_cast<bool>(parse_terminal_size(p)); break;
        case Kind::flag: ok = static_cast<bool>(parse_flag(p)); break;
        case Kind::handshake_request: ok = static_cast<bool>(parse_handshake_request(p)); break;
        case Kind::handshake_response: ok = static_cast<bool>(parse_handshake_response(p)); break;
        case Kind::handshake_complete: ok = static_cast<bool>(parse_handshake_complete(p)); break;
        case Kind::challenge_request:
        case Kind::challenge_response: ok = static_cast<bool>(parse_encryption_challenge(p)); break;
        case Kind::exit_code: ok = is_encrypted(t) || parse_exit_code(p).has_value(); break;
      }
      EXPECT_TRUE(ok) << f.payload_text();
    }
  }
  EXPECT_GT(raw, 0u);
  for (Kind k : {Kind::acknowledge, Kind::channel_closed, Kind::agent_session_state, Kind::size, Kind::flag,
                 Kind::handshake_request, Kind::handshake_response, Kind::handshake_complete,
                 Kind::challenge_request, Kind::challenge_response})
    EXPECT_GT(seen[k], 0u) << "no transcript frame of kind " << static_cast<int>(k);
}

// ---------------------------------------------------- transcripts: per kind

// 03 §4: every ack names a message that was really sent the other way, with
// its type, id and sequence number; both ack writers reproduce Go's bytes.
TEST(PayloadTranscripts, AcknowledgementsReferToSentMessagesAndReserialiseIdentically) {
  std::size_t acks = 0;
  for (const auto& t : transcripts()) {
    const auto frames = binary_frames(t);
    std::map<std::string, const Frame*> by_id;  // MessageId text -> first frame carrying it
    for (const auto& f : frames)
      if (f.msg.header.type != MessageType::acknowledge) by_id.emplace(f.msg.header.message_id.to_string(), &f);
    std::string out;
    for (const auto& f : frames) {
      if (f.msg.header.type != MessageType::acknowledge) continue;
      SCOPED_TRACE(where(f));
      ++acks;
      EXPECT_EQ(f.msg.header.sequence_number, 0);
      EXPECT_EQ(f.msg.header.flags, kFlagsAck);
      EXPECT_EQ(f.msg.header.payload_type, PayloadType::none);
      auto a = parse_acknowledge(f.msg.payload);
      ASSERT_TRUE(a) << a.error().message();
      EXPECT_TRUE(a->is_sequential);
      const auto it = by_id.find(a->message_id);
      ASSERT_NE(it, by_id.end()) << "ack for a message not in the transcript: " << a->message_id;
      const Frame& acked = *it->second;
      EXPECT_EQ(acked.msg.type_name, a->message_type);
      EXPECT_EQ(acked.msg.header.sequence_number, a->sequence_number);
      EXPECT_EQ(acked.record->dir, opposite(f.record->dir)) << "acks travel back to the sender";
      EXPECT_LT(acked.index, f.index) << "ack recorded before the message it acknowledges";

      auto seq = parse_acknowledged_sequence(f.msg.payload);
      ASSERT_TRUE(seq);
      EXPECT_EQ(*seq, a->sequence_number);

      const auto id = Uuid::parse(a->message_id);
      ASSERT_TRUE(id);
      write_acknowledge(out, a->message_type, *id, a->sequence_number);
      EXPECT_EQ(out, f.payload_text());
      EXPECT_EQ(to_json(*a), f.payload_text());
    }
  }
  EXPECT_GT(acks, 50u);
}

// 03 §11 and §8: session state and channel_closed name this session.
TEST(PayloadTranscripts, SessionStateAndChannelClosedNameTheSessionAndReserialiseIdentically) {
  std::size_t states = 0;
  std::size_t closes = 0;
  for (const auto& t : transcripts()) {
    const std::string session = session_of(t);
    bool first_state = true;
    for (const auto& f : binary_frames(t)) {
      SCOPED_TRACE(where(f));
      if (f.msg.header.type == MessageType::agent_session_state) {
        ++states;
        EXPECT_EQ(f.record->dir, "agent->mgs");
        auto s = parse_agent_session_state(f.msg.payload);
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ(s->schema_version, 1);
        EXPECT_EQ(s->session_id, session);
        EXPECT_TRUE(s->session_state == "Connected" || s->session_state == "Terminating") << s->session_state;
        if (first_state) {
          EXPECT_EQ(s->session_state, "Connected") << "the agent announces Connected first";
        }
        first_state = false;
        EXPECT_EQ(to_json(*s), f.payload_text());
      } else if (f.msg.header.type == MessageType::channel_closed) {
        ++closes;
        auto c = parse_channel_closed(f.msg.payload);
        ASSERT_TRUE(c) << c.error().message();
        EXPECT_EQ(c->message_type, "channel_closed");
        EXPECT_EQ(c->schema_version, 1);
        EXPECT_EQ(c->session_id, session);
        EXPECT_TRUE(Uuid::parse(c->message_id)) << c->message_id;
        EXPECT_FALSE(c->created_date.empty());
        EXPECT_EQ(to_json(*c), f.payload_text());
      }
    }
  }
  EXPECT_GT(states, 0u);
  EXPECT_GT(closes, 0u);
}

// 05 / 03 §10: Size and Flag, the two structured client stream payloads.
TEST(PayloadTranscripts, SizeAndFlagPayloadsAreSensibleAndReserialiseIdentically) {
  std::size_t sizes = 0;
  std::multiset<std::uint32_t> flags;
  for (const auto& t : transcripts()) {
    for (const auto& f : binary_frames(t)) {
      SCOPED_TRACE(where(f));
      const auto kind = kind_of(f.msg);
      if (kind == Kind::size) {
        ++sizes;
        EXPECT_EQ(f.record->dir, "client->agent");
        auto s = parse_terminal_size(f.msg.payload);
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ(*s, (TerminalSize{120, 30})) << "the recording terminal was 120x30";
        EXPECT_EQ(to_json(*s), f.payload_text());
      } else if (kind == Kind::flag) {
        auto v = parse_flag(f.msg.payload);
        ASSERT_TRUE(v) << v.error().message();
        flags.insert(static_cast<std::uint32_t>(*v));
        EXPECT_EQ(f.record->dir, "client->agent");
        EXPECT_TRUE(*v == FlagValue::disconnect_to_port || *v == FlagValue::terminate_session);
        const auto enc = encode_flag(*v);
        EXPECT_TRUE(std::equal(enc.begin(), enc.end(), f.msg.payload.begin(), f.msg.payload.end()));
      }
    }
  }
  EXPECT_GT(sizes, 0u);
  // portforward-basic: DisconnectToPort then TerminateSession; portforward-mux: TerminateSession.
  EXPECT_GE(flags.count(static_cast<std::uint32_t>(FlagValue::disconnect_to_port)), 1u);
  EXPECT_GE(flags.count(static_cast<std::uint32_t>(FlagValue::terminate_session)), 2u);
}

// 04 §3, §4, §8: request, response and completion agree with each other.
TEST(PayloadTranscripts, HandshakeRequestResponseAndCompleteAgreeAndReserialiseIdentically) {
  std::size_t handshakes = 0;
  for (const auto& t : transcripts()) {
    SCOPED_TRACE(t.name);
    const Frame* req_frame = nullptr;
    const Frame* resp_frame = nullptr;
    const Frame* done_frame = nullptr;
    const auto frames = binary_frames(t);
    for (const auto& f : frames) {
      const auto kind = kind_of(f.msg);
      if (kind == Kind::handshake_request) req_frame = &f;
      if (kind == Kind::handshake_response) resp_frame = &f;
      if (kind == Kind::handshake_complete) done_frame = &f;
    }
    if (req_frame == nullptr) {
      EXPECT_EQ(resp_frame, nullptr);
      EXPECT_EQ(done_frame, nullptr);
      continue;
    }
    ++handshakes;
    ASSERT_NE(resp_frame, nullptr);
    ASSERT_NE(done_frame, nullptr);
    EXPECT_LT(req_frame->index, resp_frame->index);
    EXPECT_LT(resp_frame->index, done_frame->index);
    EXPECT_EQ(req_frame->record->dir, "agent->client");
    EXPECT_EQ(resp_frame->record->dir, "client->agent");
    EXPECT_EQ(done_frame->record->dir, "agent->client");

    auto req = parse_handshake_request(req_frame->msg.payload);
    ASSERT_TRUE(req) << req.error().message();
    EXPECT_EQ(req->agent_version, t.name == "portforward-basic-4KB" ? "3.0.161.0" : "3.3.1142.0");
    ASSERT_FALSE(req->actions.empty());
    EXPECT_EQ(req->actions.front().action_type, kActionSessionType) << "SessionType is always first";
    bool kms = false;
    for (const auto& a : req->actions) {
      if (a.action_type == kActionSessionType) {
        auto p = parse_session_type_params(a.parameters);
        ASSERT_TRUE(p) << p.error().message();
        if (p->session_type == kSessionPort) {
          ASSERT_TRUE(p->properties.is_object());
          const auto port = go_json::get_string(p->properties.get_object(), "portNumber");
          ASSERT_TRUE(port) << "Port sessions name the destination port";
          EXPECT_TRUE(*port == "9000" || *port == "9001") << *port;
        } else {
          EXPECT_TRUE(p->session_type == kSessionStandardStream || p->session_type == kSessionInteractiveCommands ||
                      p->session_type == kSessionNonInteractiveCommands)
              << p->session_type;
          EXPECT_TRUE(p->properties.is_null()) << "shell/command plugins send null Properties";
        }
      } else if (a.action_type == kActionKmsEncryption) {
        kms = true;
        auto p = parse_kms_encryption_params(a.parameters);
        ASSERT_TRUE(p) << p.error().message();
        EXPECT_FALSE(p->kms_key_id.empty());
        ASSERT_TRUE(is_base64(p->challenge)) << p->challenge;
        EXPECT_EQ(base64_decoded_size(p->challenge), 16u) << "04 §3: base64 of 16 random bytes";
      } else {
        ADD_FAILURE() << "unexpected action " << a.action_type;
      }
    }
    EXPECT_EQ(kms, is_encrypted(t));
    EXPECT_EQ(to_json(*req), req_frame->payload_text());

    auto resp = parse_handshake_response(resp_frame->msg.payload);
    ASSERT_TRUE(resp) << resp.error().message();
    EXPECT_EQ(resp->client_version, "1.2.677.0");
    EXPECT_TRUE(resp->errors.empty());
    ASSERT_EQ(resp->actions.size(), req->actions.size()) << "one processed action per requested action";
    for (std::size_t i = 0; i < resp->actions.size(); ++i) {
      const auto& a = resp->actions[i];
      EXPECT_EQ(a.action_type, req->actions[i].action_type) << "processed in request order";
      EXPECT_EQ(a.action_status, static_cast<std::int64_t>(ActionStatus::success));
      EXPECT_EQ(a.error, "");
      if (a.action_type == kActionKmsEncryption) {
        auto r = parse_kms_encryption_result(a.action_result);
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_TRUE(is_base64(r->kms_ciphertext_key));
        EXPECT_FALSE(r->challenge_acknowledgement) << "the official client does not bind the challenge (04 §9)";
        EXPECT_EQ(go_json::to_string(to_json_value(*r)), go_json::to_string(a.action_result));
      } else {
        EXPECT_TRUE(a.action_result.is_null());
      }
    }
    EXPECT_EQ(to_json(*resp), resp_frame->payload_text());

    auto done = parse_handshake_complete(done_frame->msg.payload);
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_GT(done->handshake_time_to_complete_ns, 0);
    EXPECT_EQ(done->customer_message, kms ? "This session is encrypted using AWS KMS." : "");
    EXPECT_EQ(to_json(*done), done_frame->payload_text());
  }
  EXPECT_GE(handshakes, 5u);
}

// 04 §7: the challenge is 64 random bytes sealed with AES-GCM (92 bytes).
TEST(PayloadTranscripts, EncryptionChallengesAreSealedBlobsAndReserialiseIdentically) {
  std::size_t requests = 0;
  std::size_t responses = 0;
  for (const auto& t : transcripts()) {
    for (const auto& f : binary_frames(t)) {
      const auto kind = kind_of(f.msg);
      if (kind != Kind::challenge_request && kind != Kind::challenge_response) continue;
      SCOPED_TRACE(where(f));
      (kind == Kind::challenge_request ? requests : responses)++;
      EXPECT_EQ(f.record->dir, kind == Kind::challenge_request ? "agent->client" : "client->agent");
      if (kind == Kind::challenge_response) {
        EXPECT_EQ(requests, responses) << "a response answers a request";
      }
      auto c = parse_encryption_challenge(f.msg.payload);
      ASSERT_TRUE(c) << c.error().message();
      ASSERT_TRUE(is_base64(c->challenge));
      EXPECT_EQ(base64_decoded_size(c->challenge), 12u + 64u + 16u) << "nonce + 64 bytes + tag";
      EXPECT_EQ(to_json(*c), f.payload_text());
    }
  }
  EXPECT_GT(requests, 0u);
  EXPECT_EQ(requests, responses);
}

// 02 §2: the first text frame of each leg, with the token the service issued.
TEST(PayloadTranscripts, OpenDataChannelCarriesTheIssuedTokenAndReserialisesIdentically) {
  std::size_t opens = 0;
  for (const auto& t : transcripts()) {
    std::string client_token;  // from the latest StartSession / ResumeSession
    std::string agent_token;   // from the latest CreateDataChannel
    std::set<std::string> client_ids;
    for (const auto& rec : t.records) {
      const auto& o = rec.as_object();
      if (o.at("kind") == "api") {
        const std::string op(o.at("op").as_string());
        if (op == "StartSession" || op == "ResumeSession") {
          client_token = std::string(json::parse(o.at("response").as_string()).at("TokenValue").as_string());
        } else if (op == "CreateDataChannel") {
          const std::string xml(o.at("response").as_string());
          const auto b = xml.find("<TokenValue>") + std::string_view("<TokenValue>").size();
          agent_token = xml.substr(b, xml.find("</TokenValue>") - b);
        }
        continue;
      }
      if (o.at("kind") != "ws" || o.at("ws_type") != "text") continue;
      const std::string dir(o.at("dir").as_string());
      SCOPED_TRACE(t.name + " record " + std::to_string(o.at("seq").to_number<std::int64_t>()));
      const auto raw = test::from_hex(o.at("hex").as_string());
      const std::string text(raw.begin(), raw.end());
      ++opens;
      auto m = parse_open_data_channel(text);
      ASSERT_TRUE(m) << m.error().message();
      EXPECT_EQ(m->message_schema_version, "1.0");
      EXPECT_TRUE(Uuid::parse(m->request_id)) << m->request_id;
      if (dir == "client->mgs") {
        EXPECT_EQ(m->token_value, client_token);
        EXPECT_TRUE(Uuid::parse(m->client_id)) << m->client_id;
        client_ids.insert(m->client_id);
        EXPECT_EQ(m->client_version, "1.2.677.0");
        EXPECT_EQ(m->client_instance_id, "");
      } else {
        ASSERT_EQ(dir, "agent->mgs");
        EXPECT_EQ(m->token_value, agent_token);
        EXPECT_EQ(m->client_instance_id, "i-0123456789abcdef0");
        EXPECT_EQ(m->client_id, "");
        EXPECT_EQ(m->client_version, "");
      }
      EXPECT_EQ(to_json(*m), text);
    }
    EXPECT_EQ(client_ids.size(), 1u) << t.name << ": ClientId is generated once per process";
  }
  EXPECT_GE(opens, 2 * transcripts().size());
}

// ------------------------------------------------- tolerance: Go semantics

TEST(PayloadTolerance, UnknownFieldsAreIgnored) {
  auto a = parse_acknowledge(bytes(
      R"({"Extra":{"nested":[1,2.5,"x",null]},"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b","AcknowledgedMessageSequenceNumber":5,"IsSequentialMessage":true,"Later":1e400})"));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->sequence_number, 5);
  EXPECT_EQ(a->message_type, "output_stream_data");
  auto s = parse_terminal_size(bytes(R"({"cols":80,"rows":24,"xpixel":"?"})"));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (TerminalSize{80, 24}));
  auto c = parse_handshake_complete(bytes(R"({"HandshakeTimeToComplete":5,"Foo":"bar","CustomerMessage":"hi"})"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->customer_message, "hi");
}

TEST(PayloadTolerance, KeysMatchCaseInsensitively) {
  auto a = parse_acknowledge(bytes(
      R"({"acknowledgedMessageType":"input_stream_data","ACKNOWLEDGEDMESSAGEID":"0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b","acknowledgedMessageSequenceNumber":9,"isSequentialMessage":true})"));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->message_type, "input_stream_data");
  EXPECT_EQ(a->message_id, "0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(a->sequence_number, 9);
  EXPECT_TRUE(a->is_sequential);
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(R"({"acknowledgedmessagesequencenumber":3})")), 3);
  EXPECT_EQ(*parse_terminal_size(bytes(R"({"Cols":1,"ROWS":2})")), (TerminalSize{1, 2}));
  auto r = parse_handshake_request(bytes(
      R"({"agentVersion":"3.3.1.0","requestedClientActions":[{"actionType":"SessionType","actionParameters":{"sessionType":"Port","properties":null}}]})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->agent_version, "3.3.1.0");
  ASSERT_EQ(r->actions.size(), 1u);
  auto p = parse_session_type_params(r->actions[0].parameters);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->session_type, "Port");
  auto o = parse_open_data_channel(R"({"tokenvalue":"tok","clientid":"c"})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->token_value, "tok");
  EXPECT_EQ(o->client_id, "c");
}

// Go assigns each matching key in document order: the last one wins, even
// when an earlier key matched exactly.
TEST(PayloadTolerance, LastMatchingKeyWinsLikeGo) {
  EXPECT_EQ(*parse_terminal_size(bytes(R"({"cols":1,"rows":2,"Cols":3})")), (TerminalSize{3, 2}));
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(
                R"({"AcknowledgedMessageSequenceNumber":1,"acknowledgedMessageSequenceNumber":7})")),
            7);
}

TEST(PayloadTolerance, AbsentAndNullFieldsReadAsZeroValues) {
  auto a = parse_acknowledge(bytes(R"({"AcknowledgedMessageSequenceNumber":4,"AcknowledgedMessageType":null})"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->message_type, "");
  EXPECT_EQ(a->message_id, "");
  EXPECT_FALSE(a->is_sequential);
  auto r = parse_handshake_response(bytes(R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":null,"Errors":null})"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->actions.empty());
  EXPECT_TRUE(r->errors.empty());
  auto c = parse_channel_closed(bytes(R"({"Output":"bye"})"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->output, "bye");
  EXPECT_EQ(c->session_id, "");
  EXPECT_EQ(c->schema_version, 0);
  auto k = parse_kms_encryption_params(json::parse(R"({"KMSKeyId":"alias/x"})"));
  ASSERT_TRUE(k) << "agents before 3.3.808.0 send no Challenge (04 §3)";
  EXPECT_EQ(k->challenge, "");
}

TEST(PayloadTolerance, NotAnObjectIsBadJson) {
  const auto bad = make_error_code(Errc::bad_json);
  for (std::string_view text : {"", "null", "[]", "\"x\"", "42", "{", R"({"cols":1,})", "{\"cols\":1}garbage"}) {
    SCOPED_TRACE(std::string(text));
    EXPECT_EQ(parse_acknowledge(bytes(text)).error(), bad);
    EXPECT_EQ(parse_acknowledged_sequence(bytes(text)).error(), bad);
    EXPECT_EQ(parse_channel_closed(bytes(text)).error(), bad);
    EXPECT_EQ(parse_agent_session_state(bytes(text)).error(), bad);
    EXPECT_EQ(parse_terminal_size(bytes(text)).error(), bad);
    EXPECT_EQ(parse_handshake_request(bytes(text)).error(), bad);
    EXPECT_EQ(parse_handshake_response(bytes(text)).error(), bad);
    EXPECT_EQ(parse_handshake_complete(bytes(text)).error(), bad);
    EXPECT_EQ(parse_encryption_challenge(bytes(text)).error(), bad);
    EXPECT_EQ(parse_open_data_channel(text).error(), bad);
  }
  // Invalid UTF-8 inside a string: rejected rather than passed on.
  EXPECT_EQ(parse_encryption_challenge(bytes("{\"Challenge\":\"\xff\"}")).error(), bad);
}

TEST(PayloadTolerance, MissingRequiredFieldsAreBadJson) {
  const auto bad = make_error_code(Errc::bad_json);
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageType":"output_stream_data"})")).error(), bad);
  EXPECT_EQ(parse_acknowledged_sequence(bytes(R"({})")).error(), bad);
  EXPECT_EQ(parse_acknowledged_sequence(bytes(R"({"AcknowledgedMessageSequenceNumber":null})")).error(), bad);
  EXPECT_EQ(parse_terminal_size(bytes(R"({"cols":80})")).error(), bad);
  EXPECT_EQ(parse_terminal_size(bytes(R"({"rows":24})")).error(), bad);
  EXPECT_EQ(parse_encryption_challenge(bytes(R"({})")).error(), bad);
  EXPECT_EQ(parse_open_data_channel(R"({"RequestId":"r","ClientId":"c"})").error(), bad);
  EXPECT_EQ(parse_session_type_params(json::parse(R"({"Properties":null})")).error(), bad);
  EXPECT_EQ(parse_session_type_params(json::value(nullptr)).error(), bad);
  EXPECT_EQ(parse_kms_encryption_params(json::parse(R"({"Challenge":"AAAA"})")).error(), bad);
  EXPECT_EQ(parse_kms_encryption_result(json::parse(R"({"KMSCipherTextHash":null})")).error(), bad);
  EXPECT_EQ(parse_kms_encryption_result(json::value(nullptr)).error(), bad);
}

// Go's Unmarshal fails the whole payload when a known field has another JSON
// type (UnmarshalTypeError); so do we.
TEST(PayloadTolerance, WrongTypesAreBadJson) {
  const auto bad = make_error_code(Errc::bad_json);
  const std::string id = R"("AcknowledgedMessageId":"0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b")";
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageSequenceNumber":"5"})")).error(), bad);
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageSequenceNumber":5.5})")).error(), bad);
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageSequenceNumber":1.0})")).error(), bad);
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageSequenceNumber":18446744073709551615})")).error(), bad);
  EXPECT_EQ(parse_acknowledge(bytes(R"({"AcknowledgedMessageType":5,"AcknowledgedMessageSequenceNumber":1})")).error(),
            bad);
  EXPECT_EQ(parse_acknowledge(bytes("{" + id + R"(,"AcknowledgedMessageSequenceNumber":1,"IsSequentialMessage":"true"})"))
                .error(),
            bad);
  EXPECT_EQ(parse_acknowledged_sequence(bytes(R"({"AcknowledgedMessageSequenceNumber":true})")).error(), bad);

  EXPECT_EQ(parse_terminal_size(bytes(R"({"cols":"80","rows":24})")).error(), bad);
  EXPECT_EQ(parse_terminal_size(bytes(R"({"cols":-1,"rows":24})")).error(), bad);
  EXPECT_EQ(parse_terminal_size(bytes(R"({"cols":4294967296,"rows":24})")).error(), bad);
  EXPECT_TRUE(parse_terminal_size(bytes(R"({"cols":4294967295,"rows":0})")));

  EXPECT_EQ(parse_agent_session_state(bytes(R"({"SchemaVersion":"1","SessionState":"Connected"})")).error(), bad);
  EXPECT_EQ(parse_channel_closed(bytes(R"({"Output":["x"]})")).error(), bad);
  EXPECT_EQ(parse_channel_closed(bytes(R"({"SchemaVersion":1.5})")).error(), bad);
  EXPECT_EQ(parse_handshake_complete(bytes(R"({"HandshakeTimeToComplete":"1s"})")).error(), bad);
  EXPECT_EQ(parse_handshake_complete(bytes(R"({"CustomerMessage":{}})")).error(), bad);
  EXPECT_EQ(parse_encryption_challenge(bytes(R"({"Challenge":42})")).error(), bad);
  EXPECT_EQ(parse_open_data_channel(R"({"TokenValue":7})").error(), bad);
  EXPECT_EQ(parse_open_data_channel(R"({"TokenValue":"t","ClientVersion":1})").error(), bad);

  EXPECT_EQ(parse_handshake_request(bytes(R"({"AgentVersion":3})")).error(), bad);
  EXPECT_EQ(parse_handshake_request(bytes(R"({"RequestedClientActions":{}})")).error(), bad);
  EXPECT_EQ(parse_handshake_request(bytes(R"({"RequestedClientActions":["SessionType"]})")).error(), bad);
  EXPECT_EQ(parse_handshake_request(bytes(R"({"RequestedClientActions":[{"ActionType":1}]})")).error(), bad);
  EXPECT_EQ(parse_handshake_request(bytes(R"({"RequestedClientActions":[{"ActionParameters":{"x":1e999}}]})")).error(),
            bad)
      << "Go cannot hold 1e999 in an interface{} (float64 range) and we could not write it back";
  EXPECT_EQ(parse_handshake_response(bytes(R"({"ProcessedClientActions":[{"ActionStatus":"1"}]})")).error(), bad);
  EXPECT_EQ(parse_handshake_response(bytes(R"({"ProcessedClientActions":[{"Error":false}]})")).error(), bad);
  EXPECT_EQ(parse_handshake_response(bytes(R"({"Errors":"boom"})")).error(), bad);
  EXPECT_EQ(parse_handshake_response(bytes(R"({"Errors":[1]})")).error(), bad);

  EXPECT_EQ(parse_session_type_params(json::parse(R"({"SessionType":1})")).error(), bad);
  EXPECT_EQ(parse_kms_encryption_params(json::parse(R"({"KMSKeyId":"k","Challenge":5})")).error(), bad);
  EXPECT_EQ(parse_kms_encryption_result(json::parse(R"({"KMSCipherTextKey":"AA==","ChallengeAcknowledgement":1})"))
                .error(),
            bad);
}

// The sequence-only fast path must not accept acks the full parser (and Go)
// reject: found by fuzz_payloads (invalid UTF-8 in AcknowledgedMessageType).
TEST(PayloadTolerance, AckFastPathAcceptsOnlyWhatTheFullParserAccepts) {
  const auto ack = [](std::string_view type, std::string_view id, std::string_view seq) {
    return std::string(R"({"AcknowledgedMessageType":")") + std::string(type) + R"(","AcknowledgedMessageId":")" +
           std::string(id) + R"(","AcknowledgedMessageSequenceNumber":)" + std::string(seq) +
           R"(,"IsSequentialMessage":true})";
  };
  const std::string_view id = "898ffed3-366c-44d1-8db5-da6d1efc6305";
  const auto bad = make_error_code(Errc::bad_json);
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(ack("output_stream_data", id, "12"))), 12);
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(ack("output_stream_data", id, "0"))), 0);
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(ack("output_stream_data", "898FFED3-366C-44D1-8DB5-DA6D1EFC6305", "-0"))), 0);
  EXPECT_EQ(*parse_acknowledged_sequence(bytes(ack("Output \\u0041", id, "3"))), 3) << "escapes: real parser";
  for (const std::string& text : {ack("output_stream_data\xff", id, "1"), ack("out\x01put", id, "1"),
                                  ack("output_stream_data", id, "007"), ack("output_stream_data", id, "-01"),
                                  ack("output_stream_data", id, "-"), ack("output_stream_data", id, "1.0")}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_acknowledge(bytes(text)));
    auto fast = parse_acknowledged_sequence(bytes(text));
    ASSERT_FALSE(fast) << "fast path read " << *fast;
    EXPECT_EQ(fast.error(), bad);
  }
}

// Go decodes `null` array elements to zero values; writing them back gives
// the zero value, so parse -> to_json -> parse is stable.
TEST(PayloadTolerance, NullArrayElementsBecomeZeroValues) {
  auto r = parse_handshake_response(bytes(R"({"ClientVersion":"v","ProcessedClientActions":[null],"Errors":[null,"e"]})"));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->actions.size(), 1u);
  EXPECT_EQ(r->actions[0].action_status, 0);
  EXPECT_EQ(r->errors, (std::vector<std::string>{"", "e"}));
  EXPECT_EQ(to_json(*r),
            R"({"ClientVersion":"v","ProcessedClientActions":[{"ActionType":"","ActionStatus":0,"ActionResult":null,"Error":""}],"Errors":["","e"]})");
}

TEST(PayloadFlag, WrongSizeIsBadPayloadSize) {
  const auto bad = make_error_code(Errc::bad_payload_size);
  const std::uint8_t five[] = {0, 0, 0, 0, 2};
  EXPECT_EQ(parse_flag({}).error(), bad);
  EXPECT_EQ(parse_flag(std::span(five, 3)).error(), bad);
  EXPECT_EQ(parse_flag(five).error(), bad);
  EXPECT_EQ(*parse_flag(std::span(five + 1, 4)), FlagValue::terminate_session);
  const auto enc = encode_flag(FlagValue::connect_to_port_error);
  EXPECT_EQ(enc, (std::array<std::uint8_t, 4>{0, 0, 0, 3}));  // 03 §10: uint32 big-endian
  EXPECT_EQ(*parse_flag(enc), FlagValue::connect_to_port_error);
}

TEST(PayloadExitCode, ParsesTheAgentTextAndFormatsItBack) {
  EXPECT_EQ(parse_exit_code(bytes("EXIT_CODE: 0")), 0);
  EXPECT_EQ(parse_exit_code(bytes("EXIT_CODE: 127\n")), 127);
  EXPECT_EQ(parse_exit_code(bytes("EXIT_CODE: -1")), -1) << "05 §4: killed by a signal";
  EXPECT_EQ(format_exit_code(-1), "EXIT_CODE: -1");
  EXPECT_EQ(parse_exit_code(bytes(format_exit_code(42))), 42);
  EXPECT_FALSE(parse_exit_code(bytes("EXIT_CODE: ")));
  EXPECT_FALSE(parse_exit_code(bytes("EXIT_CODE: 1x")));
  EXPECT_FALSE(parse_exit_code(bytes("exit_code: 1")));
  EXPECT_FALSE(parse_exit_code(bytes("EXIT_CODE: 99999999999")));
}

// ---------------------------------------------------- writers: Go's encoder

std::string go_string(std::string_view s) {
  std::string out;
  go_json::append_string(out, s);
  return out;
}

TEST(GoJsonEscaping, HtmlCharactersAndLineSeparatorsAreEscaped) {
  EXPECT_EQ(go_string("<a href=\"x\">&</a>"), R"("\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e")");
  EXPECT_EQ(go_string("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), R"("a\u2028b\u2029c")");
  // Neighbours of U+2028/2029 are written raw.
  EXPECT_EQ(go_string("\xe2\x80\xa7\xe2\x80\xaa"), "\"\xe2\x80\xa7\xe2\x80\xaa\"");
}

TEST(GoJsonEscaping, ControlCharactersUseGoForms) {
  EXPECT_EQ(go_string("\"\\\n\r\t"), R"("\"\\\n\r\t")");
  // Go 1.19 (the transcripts' encoder) writes \b and \f as \u0008 / \u000c.
  EXPECT_EQ(go_string(std::string_view("\x00\x01\b\f\x1f\x7f", 6)), "\"\\u0000\\u0001\\u0008\\u000c\\u001f\x7f\"");
  EXPECT_EQ(go_string("/'"), R"("/'")");
}

TEST(GoJsonEscaping, InvalidUtf8BecomesOneReplacementPerByte) {
  // Valid multi-byte text (and a literal U+FFFD) passes through unchanged.
  EXPECT_EQ(go_string("\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd"), "\"\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\"");
  EXPECT_EQ(go_string("a\xff" "b"), R"("a\ufffdb")");
  EXPECT_EQ(go_string("\xe2\x80"), R"("\ufffd\ufffd")") << "truncated sequence";
  EXPECT_EQ(go_string("\xc0\xaf"), R"("\ufffd\ufffd")") << "overlong";
  EXPECT_EQ(go_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")") << "UTF-16 surrogate";
  EXPECT_EQ(go_string("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")") << "beyond U+10FFFF";
  EXPECT_EQ(go_string("\x80<"), R"("\ufffd\u003c")");
}

TEST(GoJsonEscaping, ValuesUseGoNumberFormatsAndKeyEscaping) {
  const auto v = json::parse(R"({"b":[1.5e-7,1e21,1e20,123456.789,-0.0,0.5,-3,18446744073709551615],"<k>":true,"n":null})");
  EXPECT_EQ(go_json::to_string(v),
            R"({"b":[1.5e-7,1e+21,100000000000000000000,123456.789,-0,0.5,-3,18446744073709551615],"\u003ck\u003e":true,"n":null})");
}

TEST(GoJsonWriters, ToJsonEscapesUserTextLikeGo) {
  ChannelClosed c;
  c.output = "<b>session & \"done\"</b>\n";
  EXPECT_EQ(to_json(c),
            R"({"MessageId":"","CreatedDate":"","DestinationId":"","SessionId":"","MessageType":"channel_closed","SchemaVersion":1,"Output":"\u003cb\u003esession \u0026 \"done\"\u003c/b\u003e\n"})");
  auto back = parse_channel_closed(bytes(to_json(c)));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->output, c.output);
}

// 03 §4 / 02 §9.2: the allocation-free ack writer matches the spec bytes.
TEST(GoJsonWriters, WriteAcknowledgeMatchesTheSpecExample) {
  std::string out = "stale contents";
  write_acknowledge(out, "output_stream_data", *Uuid::parse("0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"), 5);
  EXPECT_EQ(out,
            R"({"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b","AcknowledgedMessageSequenceNumber":5,"IsSequentialMessage":true})");
}

// 04 §9: a challenge-binding client returns ChallengeAcknowledgement.
TEST(GoJsonWriters, KmsEncryptionResultRoundTripsChallengeAcknowledgement) {
  const KmsEncryptionResult r{"AQIDBAU=", true};
  EXPECT_EQ(go_json::to_string(to_json_value(r)),
            R"({"KMSCipherTextKey":"AQIDBAU=","KMSCipherTextHash":null,"ChallengeAcknowledgement":true})");
  auto back = parse_kms_encryption_result(to_json_value(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kms_ciphertext_key, "AQIDBAU=");
  EXPECT_EQ(back->challenge_acknowledgement, true);
}

}  // namespace
}  // namespace ssmc::wire
