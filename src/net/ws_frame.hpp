// RFC 6455 §5.2 framing of one whole (unfragmented) text or binary message,
// sans I/O. net::WebSocket writes its data messages with it straight into
// the coalescing buffer; Beast still reads every frame and writes the control
// frames (ping, pong, close).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

}  // namespace ssmc::net
