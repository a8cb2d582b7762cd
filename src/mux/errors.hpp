// Error codes of the smux session engine (src/mux). Protocol errors found in
// the peer's byte stream are reported with the wire codes of the frame codec
// (wire::Errc::smux_bad_version / smux_bad_command / smux_bad_length).
#pragma once

#include <system_error>

namespace ssmc::mux {

/// Why a call into SmuxSession failed, or why the session died. Values, never
/// exceptions.
enum class Errc {
  ok = 0,
  /// The stream's or the session's send buffer is full: stop reading the
  /// source; a StreamWritable event follows when there is room again.
  would_block = 1,
  /// No such stream: never opened or accepted, or closed and forgotten.
  unknown_stream,
  /// close_stream() or shutdown_write() was already called for this stream.
  stream_closed,
  /// A single write larger than SessionConfig::max_stream_send_buffer: it can
  /// never be queued; split it (see SmuxSession::send_room).
  write_too_large,
  /// SessionConfig::max_streams streams are open.
  too_many_streams,
  /// The 32-bit stream id space is used up ("go away", 06 §5.3): open a new session.
  stream_ids_exhausted,
  /// The session is dead (see the SessionDead event for why).
  session_dead,
  /// Keep-alive: nothing arrived for a whole KeepAliveTimeout (06 §5.4).
  keepalive_timeout,
  /// More than SessionConfig::max_input_backlog bytes were fed while the
  /// receive buffer was full: the caller ignored wants_input().
  input_overflow,
  /// close_session() was called.
  session_closed,
};

const std::error_category& mux_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace ssmc::mux

template <>
struct std::is_error_code_enum<ssmc::mux::Errc> : std::true_type {};
