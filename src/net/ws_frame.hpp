// RFC 6455 §5.2 framing of one whole (unfragmented) text or binary message,
// sans I/O. net::WebSocket writes its data messages with it straight into
// the coalescing buffer, and reads whole binary messages already buffered
// with parse_ws_frame_head; Beast reads everything else (control frames,
// fragments, text) and writes the control frames (ping, pong, close).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace ssmc::net {

/// RFC 6455 §5.2 opcodes of data frames.
inline constexpr std::uint8_t kWsOpcodeText = 0x1, kWsOpcodeBinary = 0x2;
/// A client masks every frame it sends with a fresh 4-byte key (§5.3).
using WsMaskKey = std::array<std::uint8_t, 4>;

/// Bytes of the frame that carries `payload_size` bytes.
std::size_t ws_frame_size(std::size_t payload_size, bool masked);

/// Writes the frame (FIN set, no extensions) into `out`, which holds exactly
/// ws_frame_size(payload.size(), mask_key != nullptr) bytes; with a key, the
/// payload is masked while it is copied.
void write_ws_frame(std::span<std::uint8_t> out, bool binary, std::span<const std::uint8_t> payload,
                    const WsMaskKey* mask_key);

/// The header of one frame (§5.2), as read off the wire.
struct WsFrameHead {
  bool fin = false;
  std::uint8_t rsv = 0;  ///< RSV1-3 bits (0 without extensions)
  std::uint8_t opcode = 0;
  bool masked = false;
  WsMaskKey key{};
  std::size_t header_size = 0;  ///< 2 to 14 bytes
  std::uint64_t payload_size = 0;
  /// Header and payload.
  std::uint64_t frame_size() const { return header_size + payload_size; }
};

/// Parses the frame header at the front of `bytes`; nullopt while it is
/// incomplete. Validates nothing (the caller decides what it accepts).
std::optional<WsFrameHead> parse_ws_frame_head(std::span<const std::uint8_t> bytes);

/// XORs `data` with `key` repeated (masks and unmasks, §5.3), in place.
void mask_ws_payload(std::span<std::uint8_t> data, const WsMaskKey& key);

}  // namespace ssmc::net
