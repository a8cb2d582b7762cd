// libFuzzer target: AgentMessage decode (02 §6.4) and re-encode (02 §6.5).
//
// Properties, for any input:
//  * decode never crashes, never reads out of bounds (ASan), and a frame the
//    strict decoder accepts is accepted by the lax one with the same fields;
//  * a decoded frame satisfies the layout invariants (payload = bytes from
//    HeaderLength + 4 to the end, trimmed non-empty MessageType, ...);
//  * re-encoding header + payload gives a frame that decodes strictly to the
//    same fields, and a frame already in canonical form re-encodes to the
//    identical bytes; finish_frame (zero-copy path) agrees with encode.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "crypto/sha256.hpp"
#include "wire/agent_message.hpp"

namespace {

using namespace ssmc::wire;

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

constexpr DecodeOptions kStrict{.max_payload = std::numeric_limits<std::size_t>::max()};
constexpr DecodeOptions kLax{.max_payload = std::numeric_limits<std::size_t>::max(),
                             .verify_digest = false,
                             .check_payload_length = false};

// Go: strings.TrimSpace(strings.Trim(s, "\x00")). White space goes last, so
// a NUL behind a space survives, but the result never starts or ends with
// ASCII white space.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool same_header(const MessageHeader& a, const MessageHeader& b) {
  return a.type == b.type && a.schema_version == b.schema_version && a.created_date == b.created_date &&
         a.sequence_number == b.sequence_number && a.flags == b.flags && a.message_id == b.message_id &&
         a.payload_type == b.payload_type;
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void check_layout(std::span<const std::uint8_t> in, const DecodedMessage& m) {
  FUZZ_CHECK(in.size() >= kMinFrameSize);
  FUZZ_CHECK(m.header_length >= kShortHeaderLength);
  FUZZ_CHECK(std::size_t{m.header_length} + 4 <= in.size());
  FUZZ_CHECK(m.payload.data() == in.data() + m.header_length + 4);
  FUZZ_CHECK(m.payload.size() == in.size() - m.header_length - 4);
  FUZZ_CHECK(!m.type_name.empty() && m.type_name.size() <= kMessageTypeSize);
  FUZZ_CHECK(!is_space(m.type_name.front()) && !is_space(m.type_name.back()));
  const auto* field = reinterpret_cast<const char*>(in.data() + offset::message_type);
  FUZZ_CHECK(m.type_name.data() >= field && m.type_name.data() + m.type_name.size() <= field + kMessageTypeSize);
  FUZZ_CHECK(m.header.type == message_type_from_string(m.type_name));
  if (m.header_length < kHeaderLength) FUZZ_CHECK(m.header.payload_type == PayloadType::none);
  FUZZ_CHECK(frame_sequence_number(in) == m.header.sequence_number);
}

void check_reencode(std::span<const std::uint8_t> in, const DecodedMessage& m) {
  std::vector<std::uint8_t> out;
  const auto ec = encode(m.header, m.payload, out);
  if (m.header.type == MessageType::unknown) {  // only catalogue types can be written
    FUZZ_CHECK(ec == make_error_code(Errc::message_type_too_long));
    return;
  }
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(out.size() == encoded_size(m.payload.size()));

  auto d = decode(out, kStrict);
  FUZZ_CHECK(d.has_value());
  FUZZ_CHECK(same_header(d->header, m.header));
  FUZZ_CHECK(d->header_length == kHeaderLength);
  FUZZ_CHECK(d->type_name == to_string(m.header.type));
  FUZZ_CHECK(d->payload_length == m.payload.size());
  FUZZ_CHECK(d->payload_digest == ssmc::crypto::sha256(m.payload));
  FUZZ_CHECK(same_bytes(d->payload, m.payload));

  // The zero-copy path: payload already in place, header written after.
  std::vector<std::uint8_t> zc(encoded_size(m.payload.size()));
  if (!m.payload.empty()) std::memcpy(zc.data() + kPayloadOffset, m.payload.data(), m.payload.size());
  FUZZ_CHECK(!finish_frame(m.header, zc));
  FUZZ_CHECK(zc == out);

  // A frame in canonical form (what every official writer produces) comes
  // back byte for byte.
  const bool canonical = m.header_length == kHeaderLength && m.payload_length == m.payload.size() &&
                         m.payload_digest == d->payload_digest &&
                         std::memcmp(in.data() + offset::message_type, out.data() + offset::message_type,
                                     kMessageTypeSize) == 0;
  if (canonical) FUZZ_CHECK(same_bytes(in, out));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  const auto strict = decode(in, kStrict);
  const auto lax = decode(in, kLax);
  (void)decode(in);  // default options (1 MiB limit) must not misbehave either

  if (strict) {
    FUZZ_CHECK(lax.has_value());
    FUZZ_CHECK(same_header(strict->header, lax->header));
    FUZZ_CHECK(same_bytes(strict->payload, lax->payload));
    check_layout(in, *strict);
  }
  if (lax) {
    check_layout(in, *lax);
    check_reencode(in, *lax);
  } else {
    // The lax decoder only rejects structural problems.
    const auto e = lax.error();
    FUZZ_CHECK(e == make_error_code(Errc::short_frame) || e == make_error_code(Errc::bad_header_length) ||
               e == make_error_code(Errc::empty_message_type) || e == make_error_code(Errc::zero_created_date));
    FUZZ_CHECK(!strict);
  }
  return 0;
}
