// smux frame codec (spec 06 §5): the multiplexing layer carried inside the
// Output payloads of a port-forwarding session. Sans-I/O: bytes in, frames
// out; the session engine (src/mux) owns streams, windows and keep-alive.
//
// Frame layout (integers LITTLE-endian, unlike AgentMessage):
//   0 Version(1) | 1 Cmd(1) | 2 Length(2) | 4 StreamID(4) | 8 Data(Length)
// Frame boundaries are unrelated to data-channel message boundaries (06 §4):
// a frame may span several Output payloads and one payload may hold several.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "util/result.hpp"
#include "wire/errors.hpp"

namespace ssmc::wire {

/// Size of the frame header (06 §5.1).
inline constexpr std::size_t kSmuxHeaderSize = 8;
/// Protocol version used by SSM on both sides (06 §5.1, §5.5).
inline constexpr std::uint8_t kSmuxVersion1 = 1;
/// Version with per-stream flow control (UPD); not used by SSM (06 §5.6).
inline constexpr std::uint8_t kSmuxVersion2 = 2;
/// Largest Length the 16-bit field can carry (06 §5.1).
inline constexpr std::size_t kSmuxMaxLength = 65535;
/// MaxFrameSize: a writer splits its data into PSH frames of at most this many bytes (06 §5.4, §5.5).
inline constexpr std::size_t kSmuxMaxFrameData = 32768;
/// First stream id a client opens; then 5, 7, ... (06 §5.3).
inline constexpr std::uint32_t kSmuxFirstClientStreamId = 3;
/// KeepAliveInterval: NOP period when keep-alive is enabled (06 §5.4, §5.5).
inline constexpr std::chrono::seconds kSmuxKeepAliveInterval{10};
/// KeepAliveTimeout: the session dies if no frame arrived during one period (06 §5.4, §5.5).
inline constexpr std::chrono::seconds kSmuxKeepAliveTimeout{30};
/// MaxReceiveBuffer: session-wide receive token bucket, bytes (06 §5.4, §5.5).
inline constexpr std::size_t kSmuxMaxReceiveBuffer = 4 * 1024 * 1024;
/// MaxStreamBuffer: the window a v2 reader advertises in UPD (06 §5.5, §5.6).
inline constexpr std::uint32_t kSmuxMaxStreamBuffer = 65536;
/// Initial peer window of a v2 stream before the first UPD (06 §5.6).
inline constexpr std::uint32_t kSmuxInitialPeerWindow = 262144;
/// Data size of a UPD frame: consumed(4) ‖ window(4) (06 §5.6).
inline constexpr std::size_t kSmuxUpdSize = 8;

/// Frame commands (06 §5.2). Any byte may appear on the wire; values other
/// than these are rejected by the parser.
enum class SmuxCmd : std::uint8_t {
  syn = 0,  ///< open StreamID; Length 0
  fin = 1,  ///< sender closed StreamID; Length 0
  psh = 2,  ///< data for StreamID
  nop = 3,  ///< keep-alive, StreamID 0; Length 0
  upd = 4,  ///< version 2 only: window update; Length 8
};

struct SmuxFrameHeader {
  std::uint8_t version = kSmuxVersion1;
  SmuxCmd cmd = SmuxCmd::nop;
  std::uint16_t length = 0;  ///< bytes of data after the header
  std::uint32_t stream_id = 0;

  friend bool operator==(const SmuxFrameHeader&, const SmuxFrameHeader&) = default;
};

/// A parsed frame. `data` (exactly header.length bytes) borrows either the
/// caller's fed bytes or the parser's buffer; see SmuxParser for how long.
struct SmuxFrame {
  SmuxFrameHeader header;
  std::span<const std::uint8_t> data;
};

/// Window update of a v2 UPD frame (06 §5.6).
struct SmuxWindowUpdate {
  std::uint32_t consumed = 0;  ///< total bytes the reader consumed (modular)
  std::uint32_t window = 0;    ///< the reader's buffer size

  friend bool operator==(const SmuxWindowUpdate&, const SmuxWindowUpdate&) = default;
};

/// Size of a frame carrying `data_size` bytes.
constexpr std::size_t smux_frame_size(std::size_t data_size) { return kSmuxHeaderSize + data_size; }

/// Writes the 8 header bytes. No validation: writes exactly what it is given.
void encode_smux_header(const SmuxFrameHeader& header, std::span<std::uint8_t, kSmuxHeaderSize> out) noexcept;

/// Reads the 8 header bytes. No validation (see check_smux_header); `cmd`
/// may hold a value outside SmuxCmd.
SmuxFrameHeader decode_smux_header(std::span<const std::uint8_t, kSmuxHeaderSize> in) noexcept;

/// Validates a header for a session of `version` (06 §5.4), in the order the
/// reference reader checks: smux_bad_version when header.version differs;
/// smux_bad_command for an unknown Cmd, or UPD when `version` is not 2;
/// smux_bad_length for SYN/FIN/NOP with Length ≠ 0 or UPD with Length ≠ 8.
/// PSH may have any length, 0 included (the session ignores empty PSH).
std::error_code check_smux_header(const SmuxFrameHeader& header, std::uint8_t version) noexcept;

/// Appends one frame (header + data) to `out`. Writes exactly what it is
/// given — control frames with data included, so tests can build bad input.
/// Precondition: data.size() ≤ kSmuxMaxLength; a larger buffer is a
/// programming error and throws std::length_error (`out` unchanged). For
/// stream data use append_smux_data, which splits.
void append_smux_frame(std::vector<std::uint8_t>& out, SmuxCmd cmd, std::uint32_t stream_id,
                       std::span<const std::uint8_t> data = {}, std::uint8_t version = kSmuxVersion1);

/// Appends `data` for `stream_id` as PSH frames of at most `max_frame_data`
/// bytes (clamped to 1..kSmuxMaxLength), as an smux writer does (06 §5.4).
/// Empty `data` appends nothing. Grows `out` at most once.
void append_smux_data(std::vector<std::uint8_t>& out, std::uint32_t stream_id, std::span<const std::uint8_t> data,
                      std::size_t max_frame_data = kSmuxMaxFrameData, std::uint8_t version = kSmuxVersion1);

/// Writes a UPD payload: consumed and window as uint32 little-endian (06 §5.6).
void encode_smux_window_update(const SmuxWindowUpdate& update, std::span<std::uint8_t, kSmuxUpdSize> out) noexcept;

/// Reads a UPD payload. Errors: smux_bad_length when data.size() ≠ 8.
Result<SmuxWindowUpdate> decode_smux_window_update(std::span<const std::uint8_t> data) noexcept;

/// Appends a version-2 UPD frame for `stream_id`.
void append_smux_window_update(std::vector<std::uint8_t>& out, std::uint32_t stream_id, const SmuxWindowUpdate& update);

/// Incremental smux frame reader over a byte stream split at arbitrary points.
///
///   parser.feed(payload);
///   while (auto f = parser.next()) {          // Result<optional<SmuxFrame>>
///     if (!*f) break;                         // needs more bytes
///     handle((*f)->header, (*f)->data);
///   }
///   if (parser.failed()) kill_session(parser.error());
///
/// Lifetime and ownership:
/// * `feed` does not copy: the parser borrows the span, which must stay valid
///   and unchanged until next() has returned nullopt or an error. When
///   next() returns nullopt the parser has consumed every fed byte (copying an
///   incomplete trailing frame into its own buffer) and no longer refers to it.
/// * A returned frame's `data` is valid until the next call to feed() or
///   next(). It points into the fed bytes when the whole frame lies in one fed
///   span (zero copy), otherwise into the parser's buffer.
/// * Feeding before the previous input is drained is allowed but copies the
///   undrained bytes; drain with next() until nullopt to stay zero-copy.
///
/// Memory: the internal buffer holds at most one incomplete frame
/// (≤ 8 + 65535 bytes) plus any input fed before draining; its capacity is
/// kept for reuse.
///
/// Errors (from next(); 06 §5.4): smux_bad_version, smux_bad_command,
/// smux_bad_length, reported as soon as the 8 header bytes are available.
/// They are sticky: smux kills the session on a protocol error, so every
/// later next() returns the same error and feed() ignores its input. A
/// truncated stream is never an error: next() returns nullopt.
class SmuxParser {
 public:
  /// `version`: the session's configured version; frames with another
  /// version are rejected, and UPD is accepted only for version 2.
  explicit SmuxParser(std::uint8_t version = kSmuxVersion1) noexcept : version_(version) {}

  /// Supplies the next bytes of the stream (see the lifetime rules above).
  void feed(std::span<const std::uint8_t> bytes);

  /// The next complete frame, nullopt when more bytes are needed, or the
  /// (sticky) protocol error.
  Result<std::optional<SmuxFrame>> next();

  std::uint8_t version() const noexcept { return version_; }
  bool failed() const noexcept { return static_cast<bool>(error_); }
  std::error_code error() const noexcept { return error_; }
  /// True when no partial frame is held and all fed bytes are consumed: the
  /// stream so far ends exactly on a frame boundary.
  bool at_frame_boundary() const noexcept { return buffered_bytes() == 0 && input_.empty(); }
  /// Bytes copied into the internal buffer and not yet returned as frames.
  std::size_t buffered_bytes() const noexcept { return buf_.size() - buf_pos_; }

 private:
  void compact();
  /// Moves up to `want` bytes from input_ to buf_.
  void top_up(std::size_t want);

  std::uint8_t version_;
  std::error_code error_;
  std::span<const std::uint8_t> input_;  // fed, not yet consumed (borrowed)
  std::vector<std::uint8_t> buf_;        // bytes of incomplete frames (owned)
  std::size_t buf_pos_ = 0;              // start of the unreturned part of buf_
};

}  // namespace ssmc::wire
