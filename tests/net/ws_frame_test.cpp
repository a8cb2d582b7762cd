// net::write_ws_frame against the examples of RFC 6455 §5.7, and masking of
// payloads of every length (the eight-bytes-at-a-time loop and its tail).
#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace ssmc::net {
namespace {

std::vector<std::uint8_t> frame(bool binary, std::span<const std::uint8_t> payload, const WsMaskKey* key) {
  std::vector<std::uint8_t> out(ws_frame_size(payload.size(), key != nullptr));
  write_ws_frame(out, binary, payload, key);
  return out;
}

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(WsFrame, Rfc6455Examples) {
  // "A single-frame unmasked text message"
  EXPECT_EQ(frame(false, bytes("Hello"), nullptr),
            (std::vector<std::uint8_t>{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  // "A single-frame masked text message"
  const WsMaskKey key{0x37, 0xfa, 0x21, 0x3d};
  EXPECT_EQ(frame(false, bytes("Hello"), &key),
            (std::vector<std::uint8_t>{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  // "256 bytes binary message in a single unmasked frame": 16-bit length.
  const std::vector<std::uint8_t> b256(256, 0xab);
  auto f = frame(true, b256, nullptr);
  ASSERT_EQ(f.size(), 4u + 256u);
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin(), f.begin() + 4), (std::vector<std::uint8_t>{0x82, 0x7e, 0x01, 0x00}));
  EXPECT_TRUE(std::equal(b256.begin(), b256.end(), f.begin() + 4));
  // "64KiB binary message in a single unmasked frame": 64-bit length.
  const std::vector<std::uint8_t> b64k(65536, 0x5c);
  f = frame(true, b64k, nullptr);
  ASSERT_EQ(f.size(), 10u + 65536u);
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin(), f.begin() + 10),
            (std::vector<std::uint8_t>{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
  // Edges of the 7-bit and 16-bit length forms.
  EXPECT_EQ(frame(true, std::vector<std::uint8_t>(125), nullptr)[1], 125);
  EXPECT_EQ(frame(true, std::vector<std::uint8_t>(126), nullptr)[1], 126);
  EXPECT_EQ(frame(true, std::vector<std::uint8_t>(65535), nullptr)[1], 126);
  EXPECT_EQ(frame(true, std::vector<std::uint8_t>(65536), nullptr)[1], 127);
  EXPECT_EQ(frame(true, {}, nullptr), (std::vector<std::uint8_t>{0x82, 0x00}));
}

TEST(WsFrame, MaskingIsTheKeyRepeatedOverEveryPayloadLength) {
  const WsMaskKey key{0x01, 0x80, 0xfe, 0x33};
  for (std::size_t n = 0; n < 300; ++n) {
    std::vector<std::uint8_t> payload(n);
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<std::uint8_t>(i * 31 + 7);
    const auto f = frame(true, payload, &key);
    const std::size_t head = ws_frame_size(n, true) - n;
    ASSERT_EQ(f[1] & 0x80, 0x80) << "mask bit";
    ASSERT_TRUE(std::equal(key.begin(), key.end(), f.begin() + static_cast<long>(head) - 4)) << n;
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(f[head + i], payload[i] ^ key[i % 4]) << "length " << n << " byte " << i;
  }
}

TEST(WsFrame, HeadParsesWhatWriteProducesAtEveryLengthForm) {
  const WsMaskKey key{0xde, 0xad, 0xbe, 0xef};
  for (const std::size_t n : {0u, 1u, 125u, 126u, 127u, 0xffffu, 0x10000u, 0x10001u}) {
    for (const WsMaskKey* k : {static_cast<const WsMaskKey*>(nullptr), &key}) {
      const std::vector<std::uint8_t> payload(n, 0x5a);
      const auto f = frame(true, payload, k);
      const auto h = parse_ws_frame_head(f);
      ASSERT_TRUE(h) << n;
      EXPECT_TRUE(h->fin);
      EXPECT_EQ(h->rsv, 0);
      EXPECT_EQ(h->opcode, kWsOpcodeBinary);
      EXPECT_EQ(h->masked, k != nullptr);
      EXPECT_EQ(h->payload_size, n);
      EXPECT_EQ(h->frame_size(), f.size());
      if (k) {
        EXPECT_EQ(h->key, key);
      }
      // Every proper prefix of the header is incomplete.
      for (std::size_t cut = 0; cut < h->header_size; ++cut)
        EXPECT_FALSE(parse_ws_frame_head(std::span(f).first(cut))) << n << " cut at " << cut;
      // Unmasking the payload in place gives it back.
      std::vector<std::uint8_t> body(f.begin() + static_cast<std::ptrdiff_t>(h->header_size), f.end());
      if (k) mask_ws_payload(body, h->key);
      EXPECT_EQ(body, payload) << n;
    }
  }
}

TEST(WsFrame, HeadReportsFlagsAsSent) {
  // RFC 6455 §5.7: "A single-frame unmasked text message" split in two
  // fragments: 0x01 (no FIN, text), then 0x80 (FIN, continuation); a ping
  // with RSV1 set for good measure.
  const std::vector<std::uint8_t> first{0x01, 0x03, 'H', 'e', 'l'};
  auto h = parse_ws_frame_head(first);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->fin);
  EXPECT_EQ(h->opcode, 0x1);
  const std::vector<std::uint8_t> ping{0xc9, 0x00};
  h = parse_ws_frame_head(ping);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->fin);
  EXPECT_EQ(h->rsv, 0x4);
  EXPECT_EQ(h->opcode, 0x9);
  EXPECT_EQ(h->frame_size(), 2u);
}

}  // namespace
}  // namespace ssmc::net
