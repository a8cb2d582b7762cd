// Fuzz target: arbitrary frame sequences fed to a data-channel engine never
// crash it or break its invariants (bounded buffers, monotonic sequence
// numbers, acks only for what arrived).
//
// Input: byte 0 selects the role and handshake mode; then records of
// [u16 BE length][frame bytes][u8 time step in ms].
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "channel/data_channel.hpp"

using namespace ssmc;
using namespace ssmc::channel;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  Config cfg;
  cfg.role = (mode & 1) ? Role::agent : Role::client;
  cfg.send_window_messages = 16;
  cfg.reorder_messages = 8;
  cfg.reorder_bytes = 64 * 1024;
  cfg.receive_buffer_bytes = 16 * 1024;
  cfg.honor_pause = (mode & 4) != 0;
  crypto::DeterministicRandom rng(mode);
  TimePoint now{};
  DataChannel e(cfg, rng, now);
  if (cfg.role == Role::agent) {
    if (mode & 2) {
      HandshakeSpec spec;
      if (mode & 8) spec.kms_key_id = "k";
      e.start_handshake(spec, now);
    } else {
      e.start_without_handshake();
    }
  }
  std::int64_t last_expected = 0;
  std::size_t pos = 1;
  while (pos + 2 <= size) {
    const std::size_t len = (std::size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    const std::size_t n = std::min(len, size - pos);
    e.on_frame({data + pos, n}, now);
    pos += n;
    if (pos < size) now += std::chrono::milliseconds(data[pos++]);
    if (mode & 16) e.set_receive_ready((pos & 1) != 0, now);
    while (auto ev = e.poll_event()) {
      if (auto* k = std::get_if<KmsRequest>(&*ev)) {
        KmsResult r;
        r.plaintext.assign(kDataKeySize, 7);
        r.ciphertext_blob.assign(8, 1);
        e.on_kms_result(r, now);
      }
    }
    // The application keeps sending when it may.
    const std::uint8_t byte = 'x';
    (void)e.send(wire::PayloadType::output, {&byte, 1}, now);
    while (e.poll_output(now)) {
    }
    if (auto d = e.next_deadline(); d && *d <= now) e.on_timer(now);
    check(e.unacked_messages() <= cfg.send_window_messages);
    check(e.reorder_buffer_messages() <= cfg.reorder_messages + 1);
    check(e.reorder_buffer_bytes() <= cfg.reorder_bytes + wire::encoded_size(wire::kDefaultMaxPayload));
    check(e.expected_incoming_sequence() >= last_expected);
    last_expected = e.expected_incoming_sequence();
  }
  return 0;
}
