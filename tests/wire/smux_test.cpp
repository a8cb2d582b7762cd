// smux frame codec: spec examples (06 §5.7), the smux streams of the golden
// port-forwarding transcript, and property tests (round trip under any
// chunking, every kind of bad header, truncation).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <sstream>
#include <string>

#include "support/transcript.hpp"
#include "wire/agent_message.hpp"
#include "wire/smux.hpp"

namespace ssmc::wire {

// Readable failure messages for frame comparisons.
void PrintTo(const SmuxFrameHeader& h, std::ostream* os) {
  *os << "{v" << int{h.version} << " cmd " << int{static_cast<std::uint8_t>(h.cmd)} << " len " << h.length << " sid "
      << h.stream_id << "}";
}

namespace {

using test::from_hex;
using Bytes = std::vector<std::uint8_t>;

// A frame that owns its data, to compare parses made with different chunkings.
struct OwnedFrame {
  SmuxFrameHeader header;
  Bytes data;
  friend bool operator==(const OwnedFrame&, const OwnedFrame&) = default;
};

void PrintTo(const OwnedFrame& f, std::ostream* os) {
  PrintTo(f.header, os);
  *os << " + " << f.data.size() << " bytes";
}

struct ParseResult {
  std::vector<OwnedFrame> frames;
  std::error_code error;
  bool at_boundary = false;
};

// Drains the parser, checking the per-frame invariants every caller relies on.
void drain(SmuxParser& parser, ParseResult& out) {
  for (;;) {
    auto r = parser.next();
    if (!r) {
      out.error = r.error();
      return;
    }
    if (!*r) return;
    const SmuxFrame& f = **r;
    ASSERT_EQ(f.data.size(), f.header.length);
    out.frames.push_back({f.header, Bytes(f.data.begin(), f.data.end())});
  }
}

// Feeds `stream` in chunks of the sizes `next_chunk()` returns (≥ 1).
template <class NextChunk>
ParseResult parse_chunked(std::span<const std::uint8_t> stream, NextChunk next_chunk,
                          std::uint8_t version = kSmuxVersion1) {
  SmuxParser parser(version);
  ParseResult out;
  while (!stream.empty() && !out.error) {
    const auto piece = stream.first(std::min<std::size_t>(next_chunk(), stream.size()));
    stream = stream.subspan(piece.size());
    parser.feed(piece);
    drain(parser, out);
  }
  out.at_boundary = parser.at_frame_boundary();
  return out;
}

ParseResult parse_whole(std::span<const std::uint8_t> stream, std::uint8_t version = kSmuxVersion1) {
  return parse_chunked(
      stream, [&] { return stream.size(); }, version);
}

ParseResult parse_split_at(std::span<const std::uint8_t> stream, std::size_t split) {
  SmuxParser parser;
  ParseResult out;
  parser.feed(stream.first(split));
  drain(parser, out);
  parser.feed(stream.subspan(split));
  drain(parser, out);
  out.at_boundary = parser.at_frame_boundary();
  return out;
}

Bytes reencode(const std::vector<OwnedFrame>& frames) {
  Bytes out;
  for (const auto& f : frames) append_smux_frame(out, f.header.cmd, f.header.stream_id, f.data, f.header.version);
  return out;
}

Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::error_code err(Errc e) { return make_error_code(e); }

// ------------------------------------------------------------------- spec

struct SpecExample {
  const char* name;
  const char* hex;
  SmuxFrameHeader header;
  std::string_view data;
};

// 06 §5.7, in the order the vendored smux client wrote them.
const SpecExample kSpecExamples[] = {
    {"SYN 3", "0100000003000000", {1, SmuxCmd::syn, 0, 3}, ""},
    {"PSH 3 'GET /'", "0102050003000000474554202f", {1, SmuxCmd::psh, 5, 3}, "GET /"},
    {"FIN 3", "0101000003000000", {1, SmuxCmd::fin, 0, 3}, ""},
    {"SYN 5", "0100000005000000", {1, SmuxCmd::syn, 0, 5}, ""},
    {"NOP", "0103000000000000", {1, SmuxCmd::nop, 0, 0}, ""},
};

TEST(SmuxSpec, ExamplesEncodeByteForByteAndParseBack) {
  Bytes all;
  for (const auto& ex : kSpecExamples) {
    SCOPED_TRACE(ex.name);
    const auto expected = from_hex(ex.hex);
    Bytes encoded;
    append_smux_frame(encoded, ex.header.cmd, ex.header.stream_id, as_bytes(ex.data));
    EXPECT_EQ(encoded, expected);

    std::uint8_t header[kSmuxHeaderSize];
    encode_smux_header(ex.header, header);
    EXPECT_TRUE(std::equal(header, header + kSmuxHeaderSize, expected.begin()));
    EXPECT_EQ(decode_smux_header(std::span(expected).first<kSmuxHeaderSize>()), ex.header);

    const auto parsed = parse_whole(expected);
    EXPECT_FALSE(parsed.error);
    ASSERT_EQ(parsed.frames.size(), 1u);
    EXPECT_EQ(parsed.frames[0].header, ex.header);
    EXPECT_EQ(parsed.frames[0].data, bytes_of(ex.data));
    EXPECT_TRUE(parsed.at_boundary);
    all.insert(all.end(), expected.begin(), expected.end());
  }
  // The examples form one stream (one or more Output payloads).
  const auto parsed = parse_whole(all);
  ASSERT_EQ(parsed.frames.size(), std::size(kSpecExamples));
  for (std::size_t i = 0; i < parsed.frames.size(); ++i) EXPECT_EQ(parsed.frames[i].header, kSpecExamples[i].header);
  EXPECT_EQ(reencode(parsed.frames), all);
}

TEST(SmuxSpec, LengthAndStreamIdAreLittleEndian) {
  std::uint8_t out[kSmuxHeaderSize];
  encode_smux_header({1, SmuxCmd::psh, 0x1234, 0x01020304}, out);
  EXPECT_EQ(Bytes(out, out + kSmuxHeaderSize), from_hex("0102341204030201"));
}

TEST(SmuxSpec, ConstantsMatchTheReferenceConfig) {
  EXPECT_EQ(kSmuxHeaderSize, 8u);
  EXPECT_EQ(kSmuxMaxFrameData, 32768u);
  EXPECT_EQ(kSmuxMaxReceiveBuffer, 4194304u);
  EXPECT_EQ(kSmuxFirstClientStreamId, 3u);
  EXPECT_EQ(kSmuxKeepAliveInterval, std::chrono::seconds(10));
  EXPECT_EQ(kSmuxKeepAliveTimeout, std::chrono::seconds(30));
}

TEST(SmuxSpec, AppendDataSplitsIntoMaxFrameSizePshFrames) {
  Bytes data(2 * kSmuxMaxFrameData + 4464);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  Bytes out = from_hex("0100000003000000");  // appends after existing bytes
  append_smux_data(out, 3, data);
  ASSERT_EQ(out.size(), 8 + data.size() + 3 * kSmuxHeaderSize);
  const auto parsed = parse_whole(out);
  ASSERT_FALSE(parsed.error);
  ASSERT_EQ(parsed.frames.size(), 4u);
  EXPECT_EQ(parsed.frames[0].header.cmd, SmuxCmd::syn);
  Bytes joined;
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(parsed.frames[i].header.cmd, SmuxCmd::psh);
    EXPECT_EQ(parsed.frames[i].header.stream_id, 3u);
    EXPECT_EQ(parsed.frames[i].header.length, i < 3 ? kSmuxMaxFrameData : 4464u);
    joined.insert(joined.end(), parsed.frames[i].data.begin(), parsed.frames[i].data.end());
  }
  EXPECT_EQ(joined, data);

  Bytes none;
  append_smux_data(none, 3, {});
  EXPECT_TRUE(none.empty()) << "an empty write sends no frame";

  Bytes small;
  append_smux_data(small, 5, data, 1000);
  EXPECT_EQ(parse_whole(small).frames.size(), (data.size() + 999) / 1000);
}

TEST(SmuxSpec, AppendFrameRejectsDataLongerThanTheLengthField) {
  Bytes out{0xaa};
  const Bytes big(kSmuxMaxLength + 1);
  EXPECT_THROW(append_smux_frame(out, SmuxCmd::psh, 3, big), std::length_error);
  EXPECT_EQ(out, Bytes{0xaa});
  append_smux_frame(out, SmuxCmd::psh, 3, std::span(big).first(kSmuxMaxLength));
  EXPECT_EQ(out.size(), 1 + smux_frame_size(kSmuxMaxLength));
}

// 06 §5.6: UPD = consumed ‖ window, uint32 LE each; version 2 only.
TEST(SmuxSpec, WindowUpdateRoundTripsInVersion2AndIsRejectedInVersion1) {
  Bytes out;
  append_smux_window_update(out, 7, {.consumed = 0x11223344, .window = kSmuxMaxStreamBuffer});
  EXPECT_EQ(out, from_hex("0204080007000000"
                          "44332211"
                          "00000100"));

  const auto parsed = parse_whole(out, kSmuxVersion2);
  ASSERT_FALSE(parsed.error) << parsed.error.message();
  ASSERT_EQ(parsed.frames.size(), 1u);
  EXPECT_EQ(parsed.frames[0].header, (SmuxFrameHeader{2, SmuxCmd::upd, 8, 7}));
  auto upd = decode_smux_window_update(parsed.frames[0].data);
  ASSERT_TRUE(upd);
  EXPECT_EQ(*upd, (SmuxWindowUpdate{0x11223344, kSmuxMaxStreamBuffer}));
  EXPECT_EQ(decode_smux_window_update(std::span(parsed.frames[0].data).first(7)).error(), err(Errc::smux_bad_length));

  out[0] = kSmuxVersion1;
  EXPECT_EQ(parse_whole(out, kSmuxVersion1).error, err(Errc::smux_bad_command));
}

TEST(SmuxParser, EmptyPshIsAFrameAndNopMayCarryAnyStreamId) {
  Bytes s;
  append_smux_frame(s, SmuxCmd::psh, 3, {});
  append_smux_frame(s, SmuxCmd::nop, 9, {});
  const auto parsed = parse_whole(s);
  ASSERT_FALSE(parsed.error);
  ASSERT_EQ(parsed.frames.size(), 2u);
  EXPECT_EQ(parsed.frames[0].header, (SmuxFrameHeader{1, SmuxCmd::psh, 0, 3}));
  EXPECT_EQ(parsed.frames[1].header, (SmuxFrameHeader{1, SmuxCmd::nop, 0, 9}));
}

TEST(SmuxParser, CompleteFramesAreNotCopiedSplitOnesAre) {
  Bytes s;
  append_smux_frame(s, SmuxCmd::psh, 3, as_bytes("first"));
  append_smux_frame(s, SmuxCmd::psh, 3, as_bytes("second"));
  SmuxParser parser;
  parser.feed(std::span(s).first(s.size() - 2));  // second frame cut short
  auto f = parser.next();
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->data.data(), s.data() + 8) << "zero-copy: data points into the fed bytes";
  EXPECT_EQ(as_text((*f)->data), "first");
  auto more = parser.next();
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
  EXPECT_EQ(parser.buffered_bytes(), 8 + 6 - 2u);
  EXPECT_FALSE(parser.at_frame_boundary());

  // The caller may now reuse its buffer: the partial frame was copied.
  Bytes tail(s.end() - 2, s.end());
  std::fill(s.begin(), s.end(), std::uint8_t{0xee});
  parser.feed(tail);
  f = parser.next();
  ASSERT_TRUE(f && *f);
  EXPECT_EQ(as_text((*f)->data), "second");
  EXPECT_TRUE(parser.next().value() == std::nullopt);
  EXPECT_TRUE(parser.at_frame_boundary());
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(SmuxParser, FeedingBeforeDrainingKeepsOrder) {
  Bytes s;
  for (std::uint32_t sid = 3; sid < 13; sid += 2) append_smux_frame(s, SmuxCmd::syn, sid);
  append_smux_data(s, 3, Bytes(100, 'x'));
  SmuxParser parser;
  parser.feed(std::span(s).first(20));
  auto f = parser.next();  // take one frame, leave the rest undrained
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->header.stream_id, 3u);
  parser.feed(std::span(s).subspan(20, 30));
  parser.feed(std::span(s).subspan(50));
  ParseResult rest;
  drain(parser, rest);
  ASSERT_FALSE(rest.error);
  ASSERT_EQ(rest.frames.size(), 5u);
  EXPECT_EQ(rest.frames[0].header.stream_id, 5u);
  EXPECT_EQ(rest.frames[3].header.stream_id, 11u);
  EXPECT_EQ(rest.frames[4].data, Bytes(100, 'x'));
  EXPECT_TRUE(parser.at_frame_boundary());
}

TEST(SmuxParser, ErrorsAreStickyAndReportedAsSoonAsTheHeaderIsComplete) {
  Bytes s = from_hex(
      "0100000003000000"
      "07020500030000");  // SYN, then a bad-version header missing one byte
  SmuxParser parser;
  parser.feed(s);
  auto f = parser.next();
  ASSERT_TRUE(f && *f);
  EXPECT_TRUE(parser.next().value() == std::nullopt) << "7 header bytes: need more, not an error yet";
  const Bytes last{0x00};
  parser.feed(last);
  EXPECT_EQ(parser.next().error(), err(Errc::smux_bad_version));
  EXPECT_TRUE(parser.failed());
  EXPECT_EQ(parser.error(), err(Errc::smux_bad_version));
  const auto good = from_hex("0100000005000000");
  parser.feed(good);
  EXPECT_EQ(parser.next().error(), err(Errc::smux_bad_version)) << "smux kills the session";
}

TEST(SmuxParser, BufferHoldsAtMostOneFrame) {
  std::mt19937_64 gen(42);
  Bytes s;
  for (int i = 0; i < 40; ++i) {
    append_smux_frame(s, SmuxCmd::psh, 3, Bytes(gen() % (kSmuxMaxLength + 1), 'd'));
  }
  SmuxParser parser;
  std::size_t frames = 0;
  for (std::size_t at = 0; at < s.size();) {
    const std::size_t n = std::min<std::size_t>(1 + gen() % 5000, s.size() - at);
    parser.feed(std::span(s).subspan(at, n));
    at += n;
    while (auto f = parser.next().value()) ++frames;
    EXPECT_LT(parser.buffered_bytes(), smux_frame_size(kSmuxMaxLength));
  }
  EXPECT_EQ(frames, 40u);
  EXPECT_TRUE(parser.at_frame_boundary());
}

// ------------------------------------------------------------ transcripts

struct MuxStreams {
  Bytes client;  // client->agent input_stream_data Output payloads, in sequence order
  Bytes agent;   // agent->client output_stream_data Output payloads, in sequence order
};

// Concatenates each direction's Output payloads by sequence number; a
// retransmission (same sequence number) must repeat the same payload and is
// counted once.
MuxStreams load_mux_streams(const std::string& name) {
  const auto t = test::load_transcript(test::transcripts_dir() / name);
  std::map<std::int64_t, Bytes> client, agent;
  MuxStreams out;
  for (const auto& r : t.frames) {
    if (r.ws_type != "binary") continue;
    auto m = decode(r.bytes);
    EXPECT_TRUE(m) << m.error().message();
    if (!m || m->header.payload_type != PayloadType::output) continue;
    std::map<std::int64_t, Bytes>* dir = nullptr;
    if (r.dir == "client->agent" && m->header.type == MessageType::input_stream_data) dir = &client;
    if (r.dir == "agent->client" && m->header.type == MessageType::output_stream_data) dir = &agent;
    if (!dir) continue;
    const Bytes payload(m->payload.begin(), m->payload.end());
    auto [it, inserted] = dir->emplace(m->header.sequence_number, payload);
    if (!inserted) {
      EXPECT_EQ(it->second, payload) << "retransmission with different bytes, seq " << m->header.sequence_number;
    }
  }
  for (const auto& [seq, p] : client) out.client.insert(out.client.end(), p.begin(), p.end());
  for (const auto& [seq, p] : agent) out.agent.insert(out.agent.end(), p.begin(), p.end());
  return out;
}

constexpr const char* kMuxTranscript = "portforward-mux-4KB.jsonl";

TEST(SmuxTranscript, ClientStreamIsSynPshFinOnStream3) {
  const auto s = load_mux_streams(kMuxTranscript);
  const auto parsed = parse_whole(s.client);
  ASSERT_FALSE(parsed.error) << parsed.error.message();
  EXPECT_TRUE(parsed.at_boundary);
  const std::vector<OwnedFrame> expected{
      {{1, SmuxCmd::syn, 0, 3}, {}},
      {{1, SmuxCmd::psh, 5, 3}, bytes_of("4096\n")},
      {{1, SmuxCmd::fin, 0, 3}, {}},
  };
  EXPECT_EQ(parsed.frames, expected);
  EXPECT_EQ(reencode(parsed.frames), s.client);
}

// The agent (smux server) never sends SYN: it answers with data and FIN.
// Its 4112 bytes arrive as 1024-byte Output payloads, so its 4096-byte PSH
// frame spans five messages.
TEST(SmuxTranscript, AgentStreamDeliversExactly4096BytesThenFin) {
  const auto s = load_mux_streams(kMuxTranscript);
  EXPECT_EQ(s.agent.size(), 4112u);
  const auto parsed = parse_whole(s.agent);
  ASSERT_FALSE(parsed.error) << parsed.error.message();
  EXPECT_TRUE(parsed.at_boundary);
  ASSERT_FALSE(parsed.frames.empty());
  std::size_t psh_bytes = 0;
  for (const auto& f : parsed.frames) {
    EXPECT_EQ(f.header.version, kSmuxVersion1);
    EXPECT_EQ(f.header.stream_id, 3u);
    EXPECT_NE(f.header.cmd, SmuxCmd::syn);
    if (f.header.cmd == SmuxCmd::psh) psh_bytes += f.data.size();
  }
  EXPECT_EQ(psh_bytes, 4096u);
  EXPECT_EQ(parsed.frames.back().header, (SmuxFrameHeader{1, SmuxCmd::fin, 0, 3}));
  EXPECT_EQ(reencode(parsed.frames), s.agent);
}

TEST(SmuxTranscript, EverySplitPointAndRandomChunkingGiveTheSameFrames) {
  const auto s = load_mux_streams(kMuxTranscript);
  std::mt19937_64 gen(5);
  for (const Bytes* stream : {&s.client, &s.agent}) {
    const auto whole = parse_whole(*stream);
    ASSERT_FALSE(whole.error);
    for (std::size_t split = 0; split <= stream->size(); ++split) {
      const auto parsed = parse_split_at(*stream, split);
      ASSERT_FALSE(parsed.error) << "split at " << split;
      ASSERT_EQ(parsed.frames, whole.frames) << "split at " << split;
      ASSERT_TRUE(parsed.at_boundary);
    }
    for (int round = 0; round < 200; ++round) {
      const std::size_t max_chunk = std::size_t{1} << (gen() % 12);
      const auto parsed = parse_chunked(*stream, [&] { return 1 + gen() % max_chunk; });
      ASSERT_FALSE(parsed.error);
      ASSERT_EQ(parsed.frames, whole.frames) << "round " << round;
    }
    EXPECT_EQ(parse_chunked(*stream, [] { return 1; }).frames, whole.frames) << "one byte at a time";
  }
}

// ------------------------------------------------------------- properties

OwnedFrame random_valid_frame(std::mt19937_64& gen, std::uint8_t version) {
  OwnedFrame f;
  f.header.version = version;
  const int kinds = version == kSmuxVersion2 ? 5 : 4;
  f.header.cmd = static_cast<SmuxCmd>(gen() % kinds);
  f.header.stream_id = static_cast<std::uint32_t>(gen());
  std::size_t len = 0;
  if (f.header.cmd == SmuxCmd::psh) {
    // Mostly small frames, sometimes up to the 16-bit maximum.
    len = gen() % 8 == 0 ? gen() % (kSmuxMaxLength + 1) : gen() % 300;
  } else if (f.header.cmd == SmuxCmd::upd) {
    len = kSmuxUpdSize;
  }
  f.header.length = static_cast<std::uint16_t>(len);
  f.data.resize(len);
  for (auto& b : f.data) b = static_cast<std::uint8_t>(gen());
  return f;
}

TEST(SmuxProperty, RandomFrameSequencesRoundTripUnderRandomChunking) {
  std::mt19937_64 gen(20261122);
  for (int i = 0; i < 300; ++i) {
    const std::uint8_t version = i % 3 == 0 ? kSmuxVersion2 : kSmuxVersion1;
    std::vector<OwnedFrame> frames(gen() % 30);
    for (auto& f : frames) f = random_valid_frame(gen, version);
    const Bytes stream = reencode(frames);
    const std::size_t max_chunk = std::size_t{1} << (gen() % 17);
    const auto parsed = parse_chunked(
        stream, [&] { return 1 + gen() % max_chunk; }, version);
    ASSERT_FALSE(parsed.error) << parsed.error.message() << " iteration " << i;
    ASSERT_EQ(parsed.frames, frames) << "iteration " << i;
    EXPECT_TRUE(parsed.at_boundary);
  }
}

// Builds [valid frames..., bad header (+ `data_len` bytes)] and expects `want`
// from the bad header, whatever the chunking, with every valid frame before it delivered.
void expect_rejected(std::mt19937_64& gen, SmuxFrameHeader bad, std::uint8_t parser_version, Errc want) {
  std::vector<OwnedFrame> good(gen() % 4);
  for (auto& f : good) f = random_valid_frame(gen, parser_version);
  Bytes stream = reencode(good);
  const std::size_t at = stream.size();
  stream.resize(at + kSmuxHeaderSize + bad.length);
  encode_smux_header(bad, std::span(stream).subspan(at).first<kSmuxHeaderSize>());
  std::ostringstream what;
  PrintTo(bad, &what);
  SCOPED_TRACE(what.str() + " parser v" + std::to_string(parser_version));
  const std::size_t max_chunk = 1 + gen() % 64;
  const auto parsed = parse_chunked(
      stream, [&] { return 1 + gen() % max_chunk; }, parser_version);
  EXPECT_EQ(parsed.error, err(want));
  EXPECT_EQ(parsed.frames, good);
}

TEST(SmuxProperty, EveryWrongVersionIsRejected) {
  std::mt19937_64 gen(1);
  for (std::uint8_t parser_version : {kSmuxVersion1, kSmuxVersion2}) {
    for (int v = 0; v < 256; ++v) {
      if (v == parser_version) continue;
      // Checked before anything else, even with an otherwise bad header.
      expect_rejected(gen, {static_cast<std::uint8_t>(v), SmuxCmd::psh, 3, 3}, parser_version, Errc::smux_bad_version);
      expect_rejected(gen, {static_cast<std::uint8_t>(v), static_cast<SmuxCmd>(200), 3, 3}, parser_version,
                      Errc::smux_bad_version);
    }
  }
}

TEST(SmuxProperty, EveryUnknownCommandIsRejected) {
  std::mt19937_64 gen(2);
  for (int cmd = 4; cmd < 256; ++cmd) {
    const auto c = static_cast<SmuxCmd>(cmd);
    expect_rejected(gen, {1, c, 0, 3}, kSmuxVersion1, Errc::smux_bad_command);  // UPD included: v2 only
    expect_rejected(gen, {1, c, 8, 3}, kSmuxVersion1, Errc::smux_bad_command);
    if (cmd > 4) expect_rejected(gen, {2, c, 8, 3}, kSmuxVersion2, Errc::smux_bad_command);
  }
}

TEST(SmuxProperty, ControlFramesWithTheWrongLengthAreRejected) {
  std::mt19937_64 gen(3);
  for (std::uint8_t version : {kSmuxVersion1, kSmuxVersion2}) {
    for (SmuxCmd c : {SmuxCmd::syn, SmuxCmd::fin, SmuxCmd::nop}) {
      for (int len : {1, 2, 8, 255, 256, 4096, 65535}) {
        expect_rejected(gen, {version, c, static_cast<std::uint16_t>(len), 3}, version, Errc::smux_bad_length);
      }
    }
  }
  for (int len : {0, 1, 7, 9, 16, 65535}) {
    expect_rejected(gen, {2, SmuxCmd::upd, static_cast<std::uint16_t>(len), 3}, kSmuxVersion2, Errc::smux_bad_length);
  }
}

// A stream cut anywhere yields exactly the frames that are complete, then
// "need more" — never an error, never a partial frame.
TEST(SmuxProperty, TruncatedInputNeedsMoreAndNeverFails) {
  std::mt19937_64 gen(4);
  for (int i = 0; i < 30; ++i) {
    std::vector<OwnedFrame> frames(1 + gen() % 8);
    for (auto& f : frames) {
      f = random_valid_frame(gen, kSmuxVersion1);
      if (f.data.size() > 600) {  // keep the quadratic loop below cheap
        f.data.resize(600);
        f.header.length = 600;
      }
    }
    const Bytes stream = reencode(frames);
    std::vector<std::size_t> ends;  // where each frame ends
    for (std::size_t at = 0; const auto& f : frames) ends.push_back(at += smux_frame_size(f.data.size()));
    for (std::size_t len = 0; len <= stream.size(); ++len) {
      const auto cut = std::span(stream).first(len);
      const std::size_t complete = std::upper_bound(ends.begin(), ends.end(), len) - ends.begin();
      for (const auto& parsed : {parse_whole(cut), parse_chunked(cut, [&] { return 1 + gen() % 16; })}) {
        ASSERT_FALSE(parsed.error) << "cut at " << len;
        ASSERT_EQ(parsed.frames.size(), complete) << "cut at " << len;
        ASSERT_TRUE(std::equal(parsed.frames.begin(), parsed.frames.end(), frames.begin()));
        ASSERT_EQ(parsed.at_boundary, len == 0 || (complete > 0 && ends[complete - 1] == len)) << "cut at " << len;
      }
    }
  }
}

// Random bytes (mostly with a valid version byte) never crash the parser;
// every frame it returns re-encodes to the bytes it came from.
TEST(SmuxProperty, RandomBytesNeverCrashAndFramesMatchTheirInput) {
  std::mt19937_64 gen(6);
  for (int i = 0; i < 2000; ++i) {
    Bytes stream(gen() % 200);
    for (auto& b : stream) b = static_cast<std::uint8_t>(gen() % 6);  // small values hit real commands
    const auto parsed = parse_chunked(stream, [&] { return 1 + gen() % 20; });
    const Bytes again = reencode(parsed.frames);
    ASSERT_LE(again.size(), stream.size());
    ASSERT_TRUE(std::equal(again.begin(), again.end(), stream.begin()));
  }
}

}  // namespace
}  // namespace ssmc::wire
