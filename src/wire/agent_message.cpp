#include "wire/agent_message.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace ssmc::wire {
namespace {

struct TypeName {
  MessageType type;
  std::string_view text;
};

constexpr std::array<TypeName, 15> kTypeNames{{
    {MessageType::input_stream_data, "input_stream_data"},
    {MessageType::output_stream_data, "output_stream_data"},
    {MessageType::acknowledge, "acknowledge"},
    {MessageType::channel_closed, "channel_closed"},
    {MessageType::start_publication, "start_publication"},
    {MessageType::pause_publication, "pause_publication"},
    {MessageType::agent_session_state, "agent_session_state"},
    {MessageType::interactive_shell, "interactive_shell"},
    {MessageType::agent_task_reply, "agent_task_reply"},
    {MessageType::agent_task_complete, "agent_task_complete"},
    {MessageType::agent_task_acknowledge, "agent_task_acknowledge"},
    {MessageType::agent_job, "agent_job"},
    {MessageType::agent_job_ack, "agent_job_ack"},
    {MessageType::agent_job_reply, "agent_job_reply"},
    {MessageType::agent_job_reply_ack, "agent_job_reply_ack"},
}};

std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t get_u64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
}
void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  put_u32(p, static_cast<std::uint32_t>(v >> 32));
  put_u32(p + 4, static_cast<std::uint32_t>(v));
}

bool is_go_space(char c) noexcept {
  // strings.TrimSpace: ASCII white space (and Unicode spaces, never seen here).
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Go: strings.TrimSpace(strings.Trim(s, "\x00")).
std::string_view trim_type(std::string_view s) noexcept {
  while (!s.empty() && s.front() == '\0') s.remove_prefix(1);
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  while (!s.empty() && is_go_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_go_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view to_string(MessageType type) noexcept {
  for (const auto& n : kTypeNames)
    if (n.type == type) return n.text;
  return {};
}

MessageType message_type_from_string(std::string_view text) noexcept {
  for (const auto& n : kTypeNames)
    if (n.text == text) return n.type;
  return MessageType::unknown;
}

Result<DecodedMessage> decode(std::span<const std::uint8_t> frame, const DecodeOptions& options) {
  const std::size_t size = frame.size();
  if (size < kMinFrameSize) return make_error_code(Errc::short_frame);
  const std::uint8_t* b = frame.data();

  DecodedMessage m;
  m.header_length = get_u32(b + offset::header_length);
  if (m.header_length < kShortHeaderLength || std::size_t{m.header_length} + 4 > size)
    return make_error_code(Errc::bad_header_length);

  const std::size_t payload_start = std::size_t{m.header_length} + 4;
  m.payload = frame.subspan(payload_start);
  if (m.payload.size() > options.max_payload) return make_error_code(Errc::payload_too_large);
  m.payload_length = get_u32(b + m.header_length);
  if (options.check_payload_length && m.payload_length != m.payload.size())
    return make_error_code(Errc::length_mismatch);

  m.type_name = trim_type({reinterpret_cast<const char*>(b + offset::message_type), kMessageTypeSize});
  if (m.type_name.empty()) return make_error_code(Errc::empty_message_type);

  MessageHeader& h = m.header;
  h.type = message_type_from_string(m.type_name);
  h.schema_version = get_u32(b + offset::schema_version);
  h.created_date = get_u64(b + offset::created_date);
  h.sequence_number = static_cast<std::int64_t>(get_u64(b + offset::sequence_number));
  h.flags = get_u64(b + offset::flags);
  // Wire holds UUID bytes 8..15 first, then 0..7 (02 §6.3).
  std::memcpy(h.message_id.bytes.data(), b + offset::message_id + 8, 8);
  std::memcpy(h.message_id.bytes.data() + 8, b + offset::message_id, 8);
  std::memcpy(m.payload_digest.data(), b + offset::payload_digest, m.payload_digest.size());
  h.payload_type = m.header_length >= kHeaderLength ? static_cast<PayloadType>(get_u32(b + offset::payload_type))
                                                   : PayloadType::none;

  if (h.type == MessageType::start_publication || h.type == MessageType::pause_publication) return m;
  if (h.created_date == 0) return make_error_code(Errc::zero_created_date);
  if (options.verify_digest && !m.payload.empty() && crypto::sha256(m.payload) != m.payload_digest)
    return make_error_code(Errc::digest_mismatch);
  return m;
}

std::error_code finish_frame(const MessageHeader& header, std::span<std::uint8_t> frame) {
  if (frame.size() < kPayloadOffset) return make_error_code(Errc::bad_payload_size);
  const std::string_view name = to_string(header.type);
  if (name.empty()) return make_error_code(Errc::message_type_too_long);
  const std::size_t payload_size = frame.size() - kPayloadOffset;
  if (payload_size > UINT32_MAX) return make_error_code(Errc::payload_too_large);

  std::uint8_t* b = frame.data();
  put_u32(b + offset::header_length, kHeaderLength);
  std::memset(b + offset::message_type, ' ', kMessageTypeSize);
  std::memcpy(b + offset::message_type, name.data(), name.size());
  put_u32(b + offset::schema_version, header.schema_version);
  put_u64(b + offset::created_date, header.created_date);
  put_u64(b + offset::sequence_number, static_cast<std::uint64_t>(header.sequence_number));
  put_u64(b + offset::flags, header.flags);
  std::memcpy(b + offset::message_id, header.message_id.bytes.data() + 8, 8);
  std::memcpy(b + offset::message_id + 8, header.message_id.bytes.data(), 8);
  const auto digest = crypto::sha256(frame.subspan(kPayloadOffset));
  std::memcpy(b + offset::payload_digest, digest.data(), digest.size());
  put_u32(b + offset::payload_type, static_cast<std::uint32_t>(header.payload_type));
  put_u32(b + offset::payload_length, static_cast<std::uint32_t>(payload_size));
  return {};
}

std::error_code encode(const MessageHeader& header, std::span<const std::uint8_t> payload,
                       std::vector<std::uint8_t>& out) {
  out.resize(encoded_size(payload.size()));
  if (!payload.empty()) std::memcpy(out.data() + kPayloadOffset, payload.data(), payload.size());
  return finish_frame(header, out);
}

std::vector<std::uint8_t> encode(const MessageHeader& header, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  if (auto ec = encode(header, payload, out)) throw std::invalid_argument("AgentMessage encode: " + ec.message());
  return out;
}

std::int64_t frame_sequence_number(std::span<const std::uint8_t> frame) noexcept {
  if (frame.size() < offset::sequence_number + 8) return -1;
  return static_cast<std::int64_t>(get_u64(frame.data() + offset::sequence_number));
}

}  // namespace ssmc::wire
