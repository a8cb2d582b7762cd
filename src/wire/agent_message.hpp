// AgentMessage: the binary frame carried in every WebSocket binary message of
// a Session Manager data channel (spec 02 §6-§9).
//
// Layout (all integers big-endian):
//   0 HeaderLength(4) | 4 MessageType(32, space padded) | 36 SchemaVersion(4)
//   40 CreatedDate(8, ms) | 48 SequenceNumber(8) | 56 Flags(8)
//   64 MessageId(16, halves swapped) | 80 PayloadDigest(32, SHA-256)
//   112 PayloadType(4) | 116 PayloadLength(4) | 120 Payload
// The payload starts at HeaderLength + 4 and runs to the end of the frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "crypto/sha256.hpp"
#include "util/result.hpp"
#include "wire/errors.hpp"
#include "wire/uuid.hpp"

namespace ssmc::wire {

/// HeaderLength written by every official writer (02 §6.1).
inline constexpr std::uint32_t kHeaderLength = 116;
/// HeaderLength of frames without a PayloadType field (MGS channel_closed, 02 §6.4 rule 6).
inline constexpr std::uint32_t kShortHeaderLength = 112;
/// Offset of the payload in frames we write (HeaderLength + 4).
inline constexpr std::size_t kPayloadOffset = kHeaderLength + 4;
/// Smallest frame a parser accepts (02 §6.4 rule 1).
inline constexpr std::size_t kMinFrameSize = 116;
/// Width of the MessageType field.
inline constexpr std::size_t kMessageTypeSize = 32;
/// Default largest payload the decoder accepts. The official client sends at
/// most 1024-byte stream payloads; ssmc's fast mode up to 64 KiB. 1 MiB
/// leaves room and bounds memory per frame.
inline constexpr std::size_t kDefaultMaxPayload = 1024 * 1024;

/// Field offsets (02 §6.1).
namespace offset {
inline constexpr std::size_t header_length = 0;
inline constexpr std::size_t message_type = 4;
inline constexpr std::size_t schema_version = 36;
inline constexpr std::size_t created_date = 40;
inline constexpr std::size_t sequence_number = 48;
inline constexpr std::size_t flags = 56;
inline constexpr std::size_t message_id = 64;
inline constexpr std::size_t payload_digest = 80;
inline constexpr std::size_t payload_type = 112;
inline constexpr std::size_t payload_length = 116;
}  // namespace offset

/// MessageType catalogue (02 §7), plus the control-channel-only types a
/// parser must recognise. `unknown` is any other text.
enum class MessageType : std::uint8_t {
  unknown,
  input_stream_data,
  output_stream_data,
  acknowledge,
  channel_closed,
  start_publication,
  pause_publication,
  agent_session_state,
  interactive_shell,
  agent_task_reply,
  agent_task_complete,
  agent_task_acknowledge,
  agent_job,
  agent_job_ack,
  agent_job_reply,
  agent_job_reply_ack,
};

/// The exact wire text of a message type ("" for unknown).
std::string_view to_string(MessageType type) noexcept;
/// Looks up a (trimmed) wire text; `unknown` when not in the catalogue.
MessageType message_type_from_string(std::string_view text) noexcept;

/// PayloadType catalogue (02 §8). Any uint32 may appear on the wire.
enum class PayloadType : std::uint32_t {
  none = 0,
  output = 1,
  error = 2,
  size = 3,
  parameter = 4,
  handshake_request = 5,
  handshake_response = 6,
  handshake_complete = 7,
  enc_challenge_request = 8,
  enc_challenge_response = 9,
  flag = 10,
  std_err = 11,
  exit_code = 12,
};

/// Flags bits (02 §6.2). Receivers ignore them.
inline constexpr std::uint64_t kFlagSyn = 1;
inline constexpr std::uint64_t kFlagFin = 2;
/// Flags written on acknowledge and agent_session_state messages.
inline constexpr std::uint64_t kFlagsAck = kFlagSyn | kFlagFin;
/// SchemaVersion written by every writer.
inline constexpr std::uint32_t kSchemaVersion = 1;

/// The header fields a writer chooses.
struct MessageHeader {
  MessageType type = MessageType::unknown;
  std::uint32_t schema_version = kSchemaVersion;
  std::uint64_t created_date = 0;  ///< milliseconds since the Unix epoch
  std::int64_t sequence_number = 0;
  std::uint64_t flags = 0;
  Uuid message_id;
  PayloadType payload_type = PayloadType::none;
};

/// A decoded frame. `type_name` and `payload` point into the decoded buffer,
/// which must outlive this object.
struct DecodedMessage {
  MessageHeader header;
  std::string_view type_name;     ///< MessageType text, NULs and white space stripped
  std::uint32_t header_length = 0;
  crypto::Sha256Digest payload_digest{};
  std::uint32_t payload_length = 0;  ///< the field as read at offset HeaderLength
  std::span<const std::uint8_t> payload;
};

struct DecodeOptions {
  /// Larger payloads are rejected with Errc::payload_too_large.
  std::size_t max_payload = kDefaultMaxPayload;
  /// Check SHA-256(payload) against PayloadDigest when the payload is non-empty.
  bool verify_digest = true;
  /// Require PayloadLength (read at offset HeaderLength) to equal the number
  /// of payload bytes. The official parsers ignore this field; every frame
  /// in the golden transcripts satisfies it.
  bool check_payload_length = true;
};

/// Decodes and validates one frame (02 §6.4). Never throws, never reads out
/// of bounds, never allocates.
///
/// Errors: short_frame, bad_header_length, payload_too_large, length_mismatch,
/// empty_message_type, zero_created_date, digest_mismatch. start_publication
/// and pause_publication skip the CreatedDate and digest checks like the
/// official parser. An unknown MessageType is *not* an error here: the frame
/// decodes with `header.type == MessageType::unknown` (see `Errc::unknown_message_type`).
Result<DecodedMessage> decode(std::span<const std::uint8_t> frame, const DecodeOptions& options = {});

/// Size of a frame we write for a payload of `payload_size` bytes.
constexpr std::size_t encoded_size(std::size_t payload_size) { return kPayloadOffset + payload_size; }

/// Writes the header of a frame whose payload already sits at
/// `frame[kPayloadOffset..]` (the zero-copy path: read socket bytes straight
/// into the frame, then finish it here). Computes the digest.
/// Errors: message_type_too_long (unknown type), bad_payload_size when the
/// frame is shorter than kPayloadOffset.
std::error_code finish_frame(const MessageHeader& header, std::span<std::uint8_t> frame);

/// Encodes header + payload into `out` (resized to encoded_size).
std::error_code encode(const MessageHeader& header, std::span<const std::uint8_t> payload,
                       std::vector<std::uint8_t>& out);

/// Convenience: returns the encoded frame (throws std::invalid_argument for
/// an unknown MessageType, a programming error).
std::vector<std::uint8_t> encode(const MessageHeader& header, std::span<const std::uint8_t> payload);

/// Reads the sequence number / type of an already validated frame we wrote
/// (fast accessors for engines that keep encoded frames).
std::int64_t frame_sequence_number(std::span<const std::uint8_t> frame) noexcept;

/// Bytes of a string, for payloads built from text.
inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_text(std::span<const std::uint8_t> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace ssmc::wire
