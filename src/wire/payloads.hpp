// Typed payloads of AgentMessages (spec 02 §2, 03 §4/§8/§10/§11, 04, 05).
// Writers produce exactly the bytes of Go's encoding/json with the official
// struct field order; readers are tolerant like Go's Unmarshal: unknown
// fields are ignored, keys match case-insensitively (the last match wins) and
// an absent or null field reads as the zero value. Like Go, a known field of
// the wrong JSON type (a string for a number, a float for an integer, ...)
// rejects the whole payload with Errc::bad_json.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "wire/agent_message.hpp"

namespace ssmc::wire {

/// `acknowledge` payload (03 §4).
struct Acknowledge {
  std::string message_type;  ///< AcknowledgedMessageType
  std::string message_id;    ///< AcknowledgedMessageId (canonical UUID text)
  std::int64_t sequence_number = 0;
  bool is_sequential = true;
};
/// Writes the ack JSON without intermediate allocations beyond `out`.
void write_acknowledge(std::string& out, std::string_view acked_type, const Uuid& acked_id, std::int64_t seq);
std::string to_json(const Acknowledge& a);
/// Errors: bad_json (not an object, AcknowledgedMessageSequenceNumber missing,
/// or a field of the wrong type).
Result<Acknowledge> parse_acknowledge(std::span<const std::uint8_t> payload);
/// Fast path: only the sequence number (the one field used on receipt, 03 §5.2).
Result<std::int64_t> parse_acknowledged_sequence(std::span<const std::uint8_t> payload);

/// `channel_closed` payload (03 §8).
struct ChannelClosed {
  std::string message_id;
  std::string created_date;
  std::string destination_id;
  std::string session_id;
  std::string message_type = "channel_closed";
  std::int64_t schema_version = 1;
  std::string output;
};
std::string to_json(const ChannelClosed& c);
Result<ChannelClosed> parse_channel_closed(std::span<const std::uint8_t> payload);

/// `agent_session_state` payload (03 §11).
struct AgentSessionState {
  std::int64_t schema_version = 1;
  std::string session_state;  ///< "Connected" | "Terminating"
  std::string session_id;
};
std::string to_json(const AgentSessionState& s);
Result<AgentSessionState> parse_agent_session_state(std::span<const std::uint8_t> payload);

/// Size payload (PayloadType 3): terminal columns and rows (05).
struct TerminalSize {
  std::uint32_t cols = 0;
  std::uint32_t rows = 0;
  friend bool operator==(const TerminalSize&, const TerminalSize&) = default;
};
std::string to_json(const TerminalSize& s);
Result<TerminalSize> parse_terminal_size(std::span<const std::uint8_t> payload);

/// Flag payload values (PayloadType 10, 03 §10).
enum class FlagValue : std::uint32_t {
  disconnect_to_port = 1,
  terminate_session = 2,
  connect_to_port_error = 3,
};
/// 4-byte big-endian encoding.
std::array<std::uint8_t, 4> encode_flag(FlagValue f);
/// Errors: bad_payload_size when the payload is not exactly 4 bytes.
Result<FlagValue> parse_flag(std::span<const std::uint8_t> payload);

/// Session types of the SessionType handshake action (04 §3).
inline constexpr std::string_view kSessionStandardStream = "Standard_Stream";
inline constexpr std::string_view kSessionInteractiveCommands = "InteractiveCommands";
inline constexpr std::string_view kSessionNonInteractiveCommands = "NonInteractiveCommands";
inline constexpr std::string_view kSessionPort = "Port";
inline constexpr std::string_view kActionSessionType = "SessionType";
inline constexpr std::string_view kActionKmsEncryption = "KMSEncryption";

/// One requested client action of a HandshakeRequest.
struct RequestedAction {
  std::string action_type;
  boost::json::value parameters;  ///< ActionParameters, kept as JSON
};

/// HandshakeRequest payload (PayloadType 5, 04 §3).
struct HandshakeRequest {
  std::string agent_version;
  std::vector<RequestedAction> actions;
};
std::string to_json(const HandshakeRequest& r);
Result<HandshakeRequest> parse_handshake_request(std::span<const std::uint8_t> payload);

/// Parameters of the SessionType action.
struct SessionTypeParams {
  std::string session_type;
  boost::json::value properties;  ///< `null` for shells, an object for Port
};
Result<SessionTypeParams> parse_session_type_params(const boost::json::value& parameters);

/// Parameters of the KMSEncryption action.
struct KmsEncryptionParams {
  std::string kms_key_id;
  std::string challenge;  ///< base64 of 16 random bytes; empty on old agents
};
Result<KmsEncryptionParams> parse_kms_encryption_params(const boost::json::value& parameters);

/// ActionStatus values (04 §4).
enum class ActionStatus : std::int64_t { success = 1, failed = 2, unsupported = 3 };

struct ProcessedAction {
  std::string action_type;
  std::int64_t action_status = 0;
  boost::json::value action_result;  ///< null unless the action returns data
  std::string error;
};

/// HandshakeResponse payload (PayloadType 6, 04 §4).
struct HandshakeResponse {
  std::string client_version;
  std::vector<ProcessedAction> actions;
  std::vector<std::string> errors;  ///< written as `null` when empty
};
std::string to_json(const HandshakeResponse& r);
Result<HandshakeResponse> parse_handshake_response(std::span<const std::uint8_t> payload);

/// ActionResult of a successful KMSEncryption action.
struct KmsEncryptionResult {
  std::string kms_ciphertext_key;  ///< base64 CiphertextBlob
  std::optional<bool> challenge_acknowledgement;
};
boost::json::value to_json_value(const KmsEncryptionResult& r);
Result<KmsEncryptionResult> parse_kms_encryption_result(const boost::json::value& v);

/// HandshakeComplete payload (PayloadType 7, 04 §8).
struct HandshakeComplete {
  std::int64_t handshake_time_to_complete_ns = 0;
  std::string customer_message;
};
std::string to_json(const HandshakeComplete& c);
Result<HandshakeComplete> parse_handshake_complete(std::span<const std::uint8_t> payload);

/// EncChallengeRequest / EncChallengeResponse payload (PayloadTypes 8/9, 04 §7).
struct EncryptionChallenge {
  std::string challenge;  ///< base64
};
std::string to_json(const EncryptionChallenge& c);
Result<EncryptionChallenge> parse_encryption_challenge(std::span<const std::uint8_t> payload);

/// The text frame sent first on a data-channel WebSocket (02 §2).
struct OpenDataChannel {
  std::string message_schema_version = "1.0";
  std::string request_id;
  std::string token_value;
  std::string client_id;
  std::string client_version;       ///< client leg; omitted when empty
  std::string client_instance_id;   ///< agent leg only; omitted when empty
};
std::string to_json(const OpenDataChannel& o);
/// Errors: bad_json when not an object or TokenValue is missing.
Result<OpenDataChannel> parse_open_data_channel(std::string_view text);

/// ExitCode payload (PayloadType 12): ASCII `EXIT_CODE: <n>` (05).
std::optional<int> parse_exit_code(std::span<const std::uint8_t> payload);
std::string format_exit_code(int code);

}  // namespace ssmc::wire
