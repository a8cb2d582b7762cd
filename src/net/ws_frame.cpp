#include "net/ws_frame.hpp"

#include <cstring>

namespace ssmc::net {
namespace {
/// §5.2: a 7-bit length up to 125; 126 = 16-bit length follows; 127 = 64-bit.
constexpr std::size_t kMax7BitLength = 125, kMax16BitLength = 0xffff;
constexpr std::uint8_t kLength16 = 126, kLength64 = 127;
constexpr std::uint8_t kFin = 0x80, kMaskBit = 0x80;
constexpr std::size_t kMaskKeySize = 4;

std::size_t length_field_size(std::size_t n) { return n <= kMax7BitLength ? 0 : n <= kMax16BitLength ? 2 : 8; }

/// out[i] = in[i] ^ key[i % 4] (in place when out == in), eight bytes at a
/// time: the key repeats every four bytes.
void mask_into(std::uint8_t* out, const std::uint8_t* in, std::size_t n, const WsMaskKey& key) {
  std::uint8_t key8[8];
  for (std::size_t i = 0; i < 8; ++i) key8[i] = key[i % kMaskKeySize];
  std::uint64_t k = 0;
  std::memcpy(&k, key8, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, in + i, 8);
    v ^= k;
    std::memcpy(out + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = in[i] ^ key8[i % kMaskKeySize];
}
}  // namespace

std::size_t ws_frame_size(std::size_t payload_size, bool masked) {
  return 2 + length_field_size(payload_size) + (masked ? kMaskKeySize : 0) + payload_size;
}

void write_ws_frame(std::span<std::uint8_t> out, bool binary, std::span<const std::uint8_t> payload,
                    const WsMaskKey* mask_key) {
  const std::size_t n = payload.size();
  std::uint8_t* p = out.data();
  *p++ = kFin | (binary ? kWsOpcodeBinary : kWsOpcodeText);
  const std::uint8_t mask = mask_key ? kMaskBit : 0;
  if (n <= kMax7BitLength) {
    *p++ = mask | static_cast<std::uint8_t>(n);
  } else if (n <= kMax16BitLength) {
    *p++ = mask | kLength16;
    *p++ = static_cast<std::uint8_t>(n >> 8);
    *p++ = static_cast<std::uint8_t>(n);
  } else {
    *p++ = mask | kLength64;
    for (int shift = 56; shift >= 0; shift -= 8)
      *p++ = static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> shift);
  }
  if (!mask_key) {
    if (n > 0) std::memcpy(p, payload.data(), n);
    return;
  }
  std::memcpy(p, mask_key->data(), kMaskKeySize);
  mask_into(p + kMaskKeySize, payload.data(), n, *mask_key);
}

std::optional<WsFrameHead> parse_ws_frame_head(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2) return std::nullopt;
  WsFrameHead h;
  h.fin = (bytes[0] & kFin) != 0;
  h.rsv = static_cast<std::uint8_t>((bytes[0] >> 4) & 0x7);
  h.opcode = static_cast<std::uint8_t>(bytes[0] & 0x0f);
  h.masked = (bytes[1] & kMaskBit) != 0;
  const std::uint8_t len7 = bytes[1] & 0x7f;
  const std::size_t length_bytes = len7 == kLength16 ? 2 : len7 == kLength64 ? 8 : 0;
  h.header_size = 2 + length_bytes + (h.masked ? kMaskKeySize : 0);
  if (bytes.size() < h.header_size) return std::nullopt;
  if (length_bytes == 0) {
    h.payload_size = len7;
  } else {
    for (std::size_t i = 0; i < length_bytes; ++i) h.payload_size = h.payload_size << 8 | bytes[2 + i];
  }
  if (h.masked) std::memcpy(h.key.data(), bytes.data() + 2 + length_bytes, kMaskKeySize);
  return h;
}

void mask_ws_payload(std::span<std::uint8_t> data, const WsMaskKey& key) {
  mask_into(data.data(), data.data(), data.size(), key);
}

}  // namespace ssmc::net
