// Error codes of the wire codecs (AgentMessage, payload JSON, smux).
#pragma once

#include <system_error>

namespace ssmc::wire {

/// Why a frame or payload was rejected. Every code is a value: the codec
/// never throws on malformed input.
enum class Errc {
  ok = 0,
  /// Frame shorter than the minimum AgentMessage header (116 bytes).
  short_frame,
  /// HeaderLength is 0, smaller than 112, or points past the end of the frame.
  bad_header_length,
  /// PayloadLength (read at offset HeaderLength) differs from the number of
  /// bytes after it.
  length_mismatch,
  /// SHA-256 of the payload differs from PayloadDigest.
  digest_mismatch,
  /// MessageType is empty after stripping NULs and white space.
  empty_message_type,
  /// CreatedDate is 0 (rejected by both official parsers).
  zero_created_date,
  /// MessageType is not in the catalogue (02 §7). Not fatal: the frame is
  /// decoded and the caller decides (the official client ignores it).
  unknown_message_type,
  /// Payload exceeds the configured limit (DecodeOptions::max_payload).
  payload_too_large,
  /// A JSON payload does not parse, or a required field is missing or has
  /// the wrong type.
  bad_json,
  /// A fixed-size binary payload (Flag) has the wrong length.
  bad_payload_size,
  /// MessageType longer than 32 bytes (encoder).
  message_type_too_long,
  /// smux: frame version differs from the session's version.
  smux_bad_version,
  /// smux: command byte is not SYN/FIN/PSH/NOP (or UPD for version 2).
  smux_bad_command,
  /// smux: SYN/FIN/NOP with a non-zero length, or UPD with a length other than 8.
  smux_bad_length,
};

const std::error_category& wire_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace ssmc::wire

template <>
struct std::is_error_code_enum<ssmc::wire::Errc> : std::true_type {};
