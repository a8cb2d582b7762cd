// Fuzz target: arbitrary frame sequences fed to a data-channel engine never
// crash it or break its invariants (bounded buffers, monotonic sequence
// numbers, acks only for what arrived).
//
// Input: byte 0 selects the role and handshake mode; then records of
// [u16 BE length][frame bytes][u8 time step in ms; 0xff: transport lost,
// 0xfe: transport ready (resend everything unacknowledged)].
// Mode bits: 1 agent role; 2 agent starts a handshake (else none); 4 honour
// pause; 8 the handshake asks for KMS encryption; 16 toggle receive
// readiness; 32 fix up each frame's PayloadLength and PayloadDigest (so
// mutated payloads get past the digest check and reach the handshake and
// payload parsers); 64 also encrypt, once encryption is on, what the peer
// would encrypt with the data key the harness gave (stream payloads, the
// client's EncChallengeRequest, the agent's expected EncChallengeResponse),
// so the encrypted paths are reachable; 128 KMS answers come from the input
// (one byte per request: an error, a key of the wrong size, or the key).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "channel/data_channel.hpp"
#include "crypto/aes_gcm.hpp"
#include "crypto/base64.hpp"
#include "crypto/sha256.hpp"
#include "wire/payloads.hpp"

using namespace ssmc;
using namespace ssmc::channel;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::uint8_t kModeAgent = 1;
constexpr std::uint8_t kModeHandshake = 2;
constexpr std::uint8_t kModePause = 4;
constexpr std::uint8_t kModeKms = 8;
constexpr std::uint8_t kModeReceiveReady = 16;
constexpr std::uint8_t kModeFixDigest = 32;
constexpr std::uint8_t kModeSeal = 64;
constexpr std::uint8_t kModeKmsFromInput = 128;

// Time steps with a meaning: the WebSocket broke / a new one is open.
constexpr std::uint8_t kStepTransportLost = 0xff;
constexpr std::uint8_t kStepTransportReady = 0xfe;

constexpr std::uint8_t kKeyByte = 7;  // the data key the harness hands out: 64 x 0x07

const crypto::AesKey& data_key_half() {
  static const crypto::AesKey key = [] {
    crypto::AesKey k;
    k.fill(kKeyByte);
    return k;
  }();
  return key;
}

std::uint32_t read_u32(const std::vector<std::uint8_t>& f, std::size_t at) {
  return std::uint32_t{f[at]} << 24 | std::uint32_t{f[at + 1]} << 16 | std::uint32_t{f[at + 2]} << 8 | f[at + 3];
}

void write_u32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plain) {
  return crypto::gcm_seal(data_key_half(), crypto::GcmNonce{}, plain);
}

std::vector<std::uint8_t> challenge_json(std::span<const std::uint8_t> plain) {
  const std::string json = wire::to_json(wire::EncryptionChallenge{crypto::base64_encode(seal(plain))});
  return {json.begin(), json.end()};
}

struct Harness {
  std::uint8_t mode;
  Role role;
  std::optional<std::vector<std::uint8_t>> agent_challenge;  // what the agent engine sent, decrypted

  // Rewrites a frame in the canonical layout (HeaderLength 116) as the peer
  // would have written it; other layouts are fed unchanged.
  void prepare(std::vector<std::uint8_t>& f, const DataChannel& e) const {
    if (!(mode & (kModeFixDigest | kModeSeal))) return;
    if (f.size() < wire::kPayloadOffset || read_u32(f, wire::offset::header_length) != wire::kHeaderLength) return;
    if ((mode & kModeSeal) && e.encrypted()) {
      const auto type = static_cast<wire::PayloadType>(read_u32(f, wire::offset::payload_type));
      const std::span<const std::uint8_t> payload(f.data() + wire::kPayloadOffset, f.size() - wire::kPayloadOffset);
      std::optional<std::vector<std::uint8_t>> replaced;
      const bool sealed_type = role == Role::client ? (type == wire::PayloadType::output ||
                                                       type == wire::PayloadType::std_err ||
                                                       type == wire::PayloadType::exit_code)
                                                    : type == wire::PayloadType::output;
      if (sealed_type) {
        replaced = seal(payload);
      } else if (role == Role::client && type == wire::PayloadType::enc_challenge_request) {
        replaced = challenge_json(payload);
      } else if (role == Role::agent && type == wire::PayloadType::enc_challenge_response && agent_challenge) {
        replaced = challenge_json(*agent_challenge);
      }
      if (replaced) {
        f.resize(wire::kPayloadOffset);
        f.insert(f.end(), replaced->begin(), replaced->end());
      }
    }
    const std::span<const std::uint8_t> payload(f.data() + wire::kPayloadOffset, f.size() - wire::kPayloadOffset);
    write_u32(f, wire::offset::payload_length, static_cast<std::uint32_t>(payload.size()));
    const auto digest = crypto::sha256(payload);
    std::copy(digest.begin(), digest.end(), f.begin() + wire::offset::payload_digest);
  }

  // Watches what the engine sends: the agent's EncChallengeRequest.
  void sent(std::span<const std::uint8_t> frame) {
    if (!(mode & kModeSeal) || role != Role::agent) return;
    auto m = wire::decode(frame);
    check(m.has_value());  // the engine writes valid frames
    if (m->header.payload_type != wire::PayloadType::enc_challenge_request) return;
    auto c = wire::parse_encryption_challenge(m->payload);
    check(c.has_value());
    auto blob = crypto::base64_decode(c->challenge);
    check(blob.has_value());
    auto plain = crypto::gcm_open(data_key_half(), *blob);
    if (plain) agent_challenge = std::move(*plain);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  Config cfg;
  cfg.role = (mode & kModeAgent) ? Role::agent : Role::client;
  cfg.send_window_messages = 16;
  cfg.reorder_messages = 8;
  cfg.reorder_bytes = 64 * 1024;
  cfg.receive_buffer_bytes = 16 * 1024;
  cfg.honor_pause = (mode & kModePause) != 0;
  cfg.session_id = "s-0123";
  cfg.target_id = "i-0123";
  crypto::DeterministicRandom rng(mode);
  TimePoint now{};
  DataChannel e(cfg, rng, now);
  Harness h{mode, cfg.role, std::nullopt};
  if (cfg.role == Role::agent) {
    if (mode & kModeHandshake) {
      HandshakeSpec spec;
      if (mode & kModeKms) spec.kms_key_id = "k";
      if (mode & kModeReceiveReady) {  // a port session
        spec.session_type = std::string(wire::kSessionPort);
        spec.properties = boost::json::object{{"portNumber", "22"}, {"type", "LocalPortForwarding"}};
      }
      check(!e.start_handshake(spec, now));
    } else {
      e.start_without_handshake();
    }
  }
  std::int64_t last_expected = 0;
  std::int64_t last_next_seq = e.next_outgoing_sequence();
  std::size_t pos = 1;
  std::vector<std::uint8_t> frame;
  while (pos + 2 <= size) {
    const std::size_t len = (std::size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    const std::size_t n = std::min(len, size - pos);
    frame.assign(data + pos, data + pos + n);
    h.prepare(frame, e);
    e.on_frame(frame, now);
    pos += n;
    if (pos < size) {
      const std::uint8_t step = data[pos++];
      if (step == kStepTransportLost) {
        e.on_transport_lost();
      } else if (step == kStepTransportReady) {
        e.on_transport_ready(now);
      } else {
        now += std::chrono::milliseconds(step);
      }
    }
    if (mode & kModeReceiveReady) e.set_receive_ready((pos & 1) != 0, now);
    while (auto ev = e.poll_event()) {
      if (std::holds_alternative<KmsRequest>(*ev)) {
        KmsResult r;
        r.plaintext.assign(kDataKeySize, kKeyByte);
        r.ciphertext_blob.assign(8, 1);
        if ((mode & kModeKmsFromInput) && pos < size) {
          const std::uint8_t k = data[pos++];
          if (k < 16) {
            e.on_kms_result(std::make_error_code(std::errc::permission_denied), now);
            continue;
          }
          if (k < 48) r.plaintext.resize(k - 16);
        }
        e.on_kms_result(r, now);
      }
    }
    // The application keeps sending when it may.
    const std::uint8_t byte = 'x';
    (void)e.send(wire::PayloadType::output, {&byte, 1}, now);
    while (auto out = e.poll_output(now)) {
      check(e.transport_up());  // nothing is written while the transport is down
      h.sent(*out);
    }
    if (auto d = e.next_deadline(); d && *d <= now) e.on_timer(now);
    check(e.unacked_messages() <= cfg.send_window_messages);
    check(e.reorder_buffer_messages() <= cfg.reorder_messages + 1);
    check(e.reorder_buffer_bytes() <= cfg.reorder_bytes + wire::encoded_size(wire::kDefaultMaxPayload));
    check(e.expected_incoming_sequence() >= last_expected);
    last_expected = e.expected_incoming_sequence();
    check(e.next_outgoing_sequence() >= last_next_seq);
    last_next_seq = e.next_outgoing_sequence();
  }
  return 0;
}
