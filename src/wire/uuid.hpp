// A 16-byte UUID in canonical (RFC 4122 text) byte order. The half swap of
// the AgentMessage MessageId exists only inside the codec (agent_message.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/random.hpp"

namespace ssmc::wire {

struct Uuid {
  /// Bytes in canonical order: bytes[0] is the first byte of the text form.
  std::array<std::uint8_t, 16> bytes{};

  /// Canonical lower-case hyphenated text, `8-4-4-4-12` hex digits.
  std::string to_string() const;
  /// Writes the 36-character text into `out` (no allocation).
  void write_to(char* out) const;

  /// Parses the hyphenated form (either case). Returns nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view text);
  /// A random version-4 UUID.
  static Uuid random_v4(crypto::RandomSource& rng);

  friend bool operator==(const Uuid&, const Uuid&) = default;
};

/// Length of the canonical text form.
inline constexpr std::size_t kUuidTextLength = 36;

}  // namespace ssmc::wire
