#include "wire/errors.hpp"

#include <string>

namespace ssmc::wire {
namespace {

class WireCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "ssmc.wire"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok: return "ok";
      case Errc::short_frame: return "frame shorter than an AgentMessage header";
      case Errc::bad_header_length: return "invalid AgentMessage HeaderLength";
      case Errc::length_mismatch: return "PayloadLength does not match the frame size";
      case Errc::digest_mismatch: return "payload SHA-256 digest mismatch";
      case Errc::empty_message_type: return "empty MessageType";
      case Errc::zero_created_date: return "CreatedDate is zero";
      case Errc::unknown_message_type: return "unknown MessageType";
      case Errc::payload_too_large: return "payload larger than the configured limit";
      case Errc::bad_json: return "malformed JSON payload";
      case Errc::bad_payload_size: return "payload has the wrong size";
      case Errc::message_type_too_long: return "MessageType longer than 32 bytes";
      case Errc::smux_bad_version: return "smux frame has an unexpected version";
      case Errc::smux_bad_command: return "smux frame has an unknown command";
      case Errc::smux_bad_length: return "smux control frame has an invalid length";
    }
    return "unknown wire error";
  }
};

}  // namespace

const std::error_category& wire_category() noexcept {
  static const WireCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), wire_category()}; }

}  // namespace ssmc::wire
