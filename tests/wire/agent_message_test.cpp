// AgentMessage codec: spec examples (02 §9), every frame of every golden
// transcript, and property tests (round trip, truncation, corruption).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "crypto/random.hpp"
#include "crypto/sha256.hpp"
#include "support/transcript.hpp"
#include "wire/agent_message.hpp"

namespace ssmc::wire {
namespace {

using test::from_hex;

Uuid uuid(std::string_view s) { return *Uuid::parse(s); }

// 02 §9.1: input_stream_data carrying "ls\n".
TEST(AgentMessageSpec, InputStreamDataExampleEncodesByteForByte) {
  const auto expected = from_hex(
      "00000074696e7075745f73747265616d5f64617461202020202020202020202020202020000000010000018bcfe5680000000000"
      "0000000000000000000000009a523e8c7f2b9a10d3b0d6a01f7e4c1be9fe7e88e89d532379960402db8f9458194dae772aa5fd"
      "a5a12806c22215f0ff00000001000000036c730a");
  MessageHeader h;
  h.type = MessageType::input_stream_data;
  h.created_date = 1700000000000;
  h.sequence_number = 0;
  h.flags = 0;
  h.message_id = uuid("d3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a10");
  h.payload_type = PayloadType::output;
  EXPECT_EQ(encode(h, as_bytes("ls\n")), expected);

  auto m = decode(expected);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->header.type, MessageType::input_stream_data);
  EXPECT_EQ(m->type_name, "input_stream_data");
  EXPECT_EQ(m->header.message_id.to_string(), "d3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a10");
  EXPECT_EQ(as_text(m->payload), "ls\n");
  EXPECT_EQ(m->payload_length, 3u);
}

// 02 §9.2: the acknowledge example, including its exact JSON.
TEST(AgentMessageSpec, AcknowledgeExampleEncodesByteForByte) {
  const std::string payload =
      R"({"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"0f8e2c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b","AcknowledgedMessageSequenceNumber":5,"IsSequentialMessage":true})";
  ASSERT_EQ(payload.size(), 176u);
  EXPECT_EQ(crypto::to_hex(crypto::sha256(payload)),
            "baeeed094df699105f4f6bc08b02d5a44e5bc20be50f91de18ec413f662ac179");
  MessageHeader h;
  h.type = MessageType::acknowledge;
  h.created_date = 1700000000123;
  h.flags = kFlagsAck;
  h.message_id = uuid("7c9e6679-7425-40de-944b-e07fc1f90ae7");
  const auto frame = encode(h, as_bytes(payload));
  ASSERT_EQ(frame.size(), 296u);
  EXPECT_EQ(crypto::to_hex(std::span(frame).subspan(0, 120)),
            "00000074"                                                          // HeaderLength
            "61636b6e6f776c65646765202020202020202020202020202020202020202020"  // acknowledge + 21 spaces
            "00000001"                                                          // SchemaVersion
            "0000018bcfe5687b"                                                  // CreatedDate
            "0000000000000000"                                                  // SequenceNumber
            "0000000000000003"                                                  // Flags
            "944be07fc1f90ae77c9e6679742540de"                                  // MessageId, halves swapped
            "baeeed094df699105f4f6bc08b02d5a44e5bc20be50f91de18ec413f662ac179"  // PayloadDigest
            "00000000"                                                          // PayloadType
            "000000b0");                                                        // PayloadLength
}

// 02 §9.3: TerminateSession flag.
TEST(AgentMessageSpec, FlagExampleEncodesByteForByte) {
  const auto expected = from_hex(
      "00000074696e7075745f73747265616d5f64617461202020202020202020202020202020000000010000018bcfe569c8"
      "0000000000000007000000000000000088 3f0016d3cca4271b4e28ba2fa141d2"
      "433ebf5bc03dffa38536673207a21281612cef5faa9bc7a4d5b9be2fdb12cf1a0000000a0000000400000002");
  MessageHeader h;
  h.type = MessageType::input_stream_data;
  h.created_date = 1700000000456;
  h.sequence_number = 7;
  h.message_id = uuid("1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  h.payload_type = PayloadType::flag;
  const std::uint8_t flag[] = {0, 0, 0, 2};
  EXPECT_EQ(encode(h, flag), expected);
}

// 02 §9.4: agent's first output_stream_data (SYN flag).
TEST(AgentMessageSpec, OutputSynExampleDecodes) {
  const auto frame = from_hex(
      "000000746f75747075745f73747265616d5f646174612020202020202020202020202020000000010000018bcfe56be8"
      "00000000000000000000000000000001 9a0c0305e82c33013f2504e04f8941d3"
      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824000000010000000568656c6c6f");
  auto m = decode(frame);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->header.type, MessageType::output_stream_data);
  EXPECT_EQ(m->header.flags, kFlagSyn);
  EXPECT_EQ(m->header.created_date, 1700000001000u);
  EXPECT_EQ(m->header.message_id.to_string(), "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  EXPECT_EQ(as_text(m->payload), "hello");
  EXPECT_EQ(encode(m->header, m->payload), frame);
}

// 02 §9.5: channel_closed with HeaderLength 112, NUL padding, no PayloadType.
TEST(AgentMessageSpec, ShortHeaderChannelClosedIsAccepted) {
  const std::string json =
      R"({"MessageId":"5a1b2c3d-0000-4000-8000-000000000001","CreatedDate":"2023-11-14T22:13:20.000Z","DestinationId":"i-0123456789abcdef0","SessionId":"alice-0a1b2c3d4e5f67890","MessageType":"channel_closed","SchemaVersion":1,"Output":""})";
  std::vector<std::uint8_t> f(116 + json.size(), 0);
  f[3] = 112;
  std::memcpy(f.data() + 4, "channel_closed", 14);  // rest of the 32 bytes stay NUL
  f[39] = 1;
  f[47] = 0x7b;  // CreatedDate non-zero
  f[63] = 3;
  const auto digest = crypto::sha256(json);
  std::memcpy(f.data() + 80, digest.data(), 32);
  f[112] = static_cast<std::uint8_t>(json.size() >> 24);
  f[113] = static_cast<std::uint8_t>(json.size() >> 16);
  f[114] = static_cast<std::uint8_t>(json.size() >> 8);
  f[115] = static_cast<std::uint8_t>(json.size());
  std::memcpy(f.data() + 116, json.data(), json.size());

  auto m = decode(f);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->header.type, MessageType::channel_closed);
  EXPECT_EQ(m->header_length, 112u);
  EXPECT_EQ(m->header.payload_type, PayloadType::none);
  EXPECT_EQ(as_text(m->payload), json);
}

TEST(AgentMessageSpec, MessageTypeTrimsNulsAndWhiteSpaceOnBothEnds) {
  MessageHeader h{.type = MessageType::acknowledge, .created_date = 1};
  auto f = encode(h, as_bytes("{}"));
  // Left-padded with NULs, like the bertrandmartel JS client.
  std::memset(f.data() + 4, 0, 32);
  std::memcpy(f.data() + 4 + 21, "acknowledge", 11);
  auto m = decode(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.type, MessageType::acknowledge);
}

TEST(AgentMessageSpec, UnknownTypeDecodesAsUnknownAndPublicationSkipsChecks) {
  MessageHeader h{.type = MessageType::start_publication, .created_date = 0};
  auto f = encode(h, {});
  auto m = decode(f);
  ASSERT_TRUE(m) << "start_publication with CreatedDate 0 must pass (02 §6.4 rule 7)";
  std::memcpy(f.data() + 4, "bogus_type_x", 12);
  f[43] = 1;
  auto u = decode(f);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->header.type, MessageType::unknown);
  EXPECT_EQ(u->type_name.substr(0, 12), "bogus_type_x");
}

TEST(AgentMessageSpec, ZeroCreatedDateIsRejectedForOtherTypes) {
  MessageHeader h{.type = MessageType::output_stream_data, .created_date = 0};
  EXPECT_EQ(decode(encode(h, as_bytes("x"))).error(), make_error_code(Errc::zero_created_date));
}

TEST(AgentMessageSpec, OversizedPayloadIsRejected) {
  MessageHeader h{.type = MessageType::output_stream_data, .created_date = 1};
  std::vector<std::uint8_t> big(4096, 'a');
  auto f = encode(h, big);
  EXPECT_EQ(decode(f, {.max_payload = 4095}).error(), make_error_code(Errc::payload_too_large));
  EXPECT_TRUE(decode(f, {.max_payload = 4096}));
}

// ---------------------------------------------------------------- transcripts

std::string json_str(const boost::json::object& o, const char* k) { return std::string(o.at(k).as_string()); }
std::int64_t json_int(const boost::json::object& o, const char* k) { return o.at(k).to_number<std::int64_t>(); }

TEST(AgentMessageTranscripts, EveryBinaryFrameDecodesVerifiesAndReencodesIdentically) {
  std::size_t frames = 0;
  for (const auto& file : test::transcript_files()) {
    const auto t = test::load_transcript(file);
    for (const auto& r : t.frames) {
      if (r.ws_type != "binary") continue;
      SCOPED_TRACE(t.name + " record " + std::to_string(r.seq));
      auto m = decode(r.bytes);
      ASSERT_TRUE(m) << m.error().message();
      const auto& d = r.decoded.as_object();
      EXPECT_EQ(m->header_length, json_int(d, "headerLength"));
      EXPECT_EQ(m->type_name, json_str(d, "messageType"));
      EXPECT_NE(m->header.type, MessageType::unknown);
      EXPECT_EQ(m->header.schema_version, json_int(d, "schemaVersion"));
      EXPECT_EQ(static_cast<std::int64_t>(m->header.created_date), json_int(d, "createdDate"));
      EXPECT_EQ(m->header.sequence_number, json_int(d, "sequenceNumber"));
      EXPECT_EQ(static_cast<std::int64_t>(m->header.flags), json_int(d, "flags"));
      EXPECT_EQ(m->header.message_id.to_string(), json_str(d, "messageId"));
      EXPECT_EQ(crypto::to_hex(m->payload_digest), json_str(d, "payloadDigest"));
      EXPECT_TRUE(d.at("digestOk").as_bool());
      EXPECT_EQ(static_cast<std::int64_t>(m->header.payload_type), json_int(d, "payloadType"));
      EXPECT_EQ(m->payload.size(), static_cast<std::size_t>(json_int(d, "payloadLength")));
      EXPECT_EQ(encode(m->header, m->payload), r.bytes);
      ++frames;
    }
  }
  EXPECT_GT(frames, 100u);
}

// ------------------------------------------------------------------ properties

MessageHeader random_header(std::mt19937_64& gen, crypto::RandomSource& rng) {
  static constexpr MessageType kTypes[] = {MessageType::input_stream_data, MessageType::output_stream_data,
                                           MessageType::acknowledge, MessageType::channel_closed,
                                           MessageType::agent_session_state};
  MessageHeader h;
  h.type = kTypes[gen() % std::size(kTypes)];
  h.schema_version = static_cast<std::uint32_t>(gen());
  h.created_date = gen() | 1;  // never 0
  h.sequence_number = static_cast<std::int64_t>(gen());
  h.flags = gen();
  h.message_id = Uuid::random_v4(rng);
  h.payload_type = static_cast<PayloadType>(gen() % 16);
  return h;
}

std::vector<std::uint8_t> random_payload(std::mt19937_64& gen, std::size_t max) {
  std::vector<std::uint8_t> p(gen() % (max + 1));
  for (auto& b : p) b = static_cast<std::uint8_t>(gen());
  return p;
}

TEST(AgentMessageProperty, RandomMessagesRoundTrip) {
  std::mt19937_64 gen(20261122);
  crypto::DeterministicRandom rng(1);
  for (int i = 0; i < 2000; ++i) {
    const auto h = random_header(gen, rng);
    const auto p = random_payload(gen, 2048);
    const auto f = encode(h, p);
    auto m = decode(f);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->header.type, h.type);
    EXPECT_EQ(m->header.schema_version, h.schema_version);
    EXPECT_EQ(m->header.created_date, h.created_date);
    EXPECT_EQ(m->header.sequence_number, h.sequence_number);
    EXPECT_EQ(m->header.flags, h.flags);
    EXPECT_EQ(m->header.message_id, h.message_id);
    EXPECT_EQ(m->header.payload_type, h.payload_type);
    ASSERT_TRUE(std::equal(p.begin(), p.end(), m->payload.begin(), m->payload.end()));
    EXPECT_EQ(encode(m->header, m->payload), f);
  }
}

TEST(AgentMessageProperty, EveryTruncationIsRejectedWithTheRightCode) {
  std::mt19937_64 gen(7);
  crypto::DeterministicRandom rng(7);
  for (int i = 0; i < 20; ++i) {
    auto h = random_header(gen, rng);
    const auto p = random_payload(gen, 300);
    const auto f = encode(h, p);
    for (std::size_t len = 0; len < f.size(); ++len) {
      auto m = decode(std::span(f).first(len));
      ASSERT_FALSE(m) << "truncated to " << len;
      const Errc want = len < kMinFrameSize ? Errc::short_frame
                        : len < kPayloadOffset ? Errc::bad_header_length
                                               : Errc::length_mismatch;
      EXPECT_EQ(m.error(), make_error_code(want)) << "truncated to " << len;
    }
  }
}

// A single corrupted byte never goes unnoticed: the frame is rejected with
// the code of the field it hit, or it decodes with exactly that field changed.
TEST(AgentMessageProperty, EverySingleByteCorruptionIsRejectedOrVisible) {
  std::mt19937_64 gen(99);
  crypto::DeterministicRandom rng(99);
  for (int i = 0; i < 10; ++i) {
    auto h = random_header(gen, rng);
    h.type = MessageType::output_stream_data;
    const auto p = random_payload(gen, 64);
    const auto f = encode(h, p);
    for (std::size_t pos = 0; pos < f.size(); ++pos) {
      for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
        auto g = f;
        g[pos] ^= x;
        SCOPED_TRACE("byte " + std::to_string(pos) + " ^ " + std::to_string(x));
        auto m = decode(g);
        if (pos < 4) {
          EXPECT_FALSE(m);  // HeaderLength
        } else if (pos < 36) {
          if (m) EXPECT_NE(m->type_name, "output_stream_data");
          else EXPECT_EQ(m.error(), make_error_code(Errc::empty_message_type));
        } else if (pos < 40) {
          ASSERT_TRUE(m);
          EXPECT_NE(m->header.schema_version, h.schema_version);
        } else if (pos < 48) {
          if (m) EXPECT_NE(m->header.created_date, h.created_date);
          else EXPECT_EQ(m.error(), make_error_code(Errc::zero_created_date));
        } else if (pos < 56) {
          ASSERT_TRUE(m);
          EXPECT_NE(m->header.sequence_number, h.sequence_number);
        } else if (pos < 64) {
          ASSERT_TRUE(m);
          EXPECT_NE(m->header.flags, h.flags);
        } else if (pos < 80) {
          ASSERT_TRUE(m);
          EXPECT_NE(m->header.message_id, h.message_id);
        } else if (pos < 112) {
          if (p.empty()) { ASSERT_TRUE(m); EXPECT_NE(m->payload_digest, crypto::sha256(p)); }
          else EXPECT_EQ(m.error(), make_error_code(Errc::digest_mismatch));
        } else if (pos < 116) {
          ASSERT_TRUE(m);
          EXPECT_NE(m->header.payload_type, h.payload_type);
        } else if (pos < 120) {
          EXPECT_EQ(m.error(), make_error_code(Errc::length_mismatch));
        } else {
          EXPECT_EQ(m.error(), make_error_code(Errc::digest_mismatch));
        }
      }
    }
  }
}

TEST(Uuid, ParsesAndPrintsCanonicalLowerCase) {
  auto u = Uuid::parse("D3B0D6A0-1F7E-4C1B-9A52-3E8C7F2B9A10");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->to_string(), "d3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a10");
  EXPECT_FALSE(Uuid::parse("d3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a1"));
  EXPECT_FALSE(Uuid::parse("d3b0d6a0x1f7e-4c1b-9a52-3e8c7f2b9a10"));
  EXPECT_FALSE(Uuid::parse("g3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a10"));
  crypto::DeterministicRandom rng(5);
  auto r = Uuid::random_v4(rng);
  EXPECT_EQ(r.to_string()[14], '4');
  EXPECT_EQ(Uuid::parse(r.to_string()), r);
}

TEST(Uuid, RejectsANonHexCharacterAtEveryDigitPosition) {
  const std::string good = "0123abcd-ef45-6789-ABCD-ef0123456789";
  ASSERT_TRUE(Uuid::parse(good));
  EXPECT_EQ(Uuid::parse(good)->bytes, (std::array<std::uint8_t, 16>{0x01, 0x23, 0xab, 0xcd, 0xef, 0x45, 0x67, 0x89, 0xab,
                                                                  0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89}));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const char bad : {'g', 'G', ' ', '/', ':', '@', '`', '\x80', '\xff', '\0', '-'}) {
      std::string t = good;
      if (good[i] == '-' && bad == '-') continue;
      t[i] = bad;
      EXPECT_FALSE(Uuid::parse(t)) << "position " << i << " char " << int(static_cast<unsigned char>(bad));
    }
  }
}

}  // namespace
}  // namespace ssmc::wire
