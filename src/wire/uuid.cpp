#include "wire/uuid.hpp"

#include <array>
#include <cstdint>

namespace ssmc::wire {
namespace {

constexpr bool is_dash_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

/// Hex digit values, -1 for anything else: one load per character (every
/// acknowledgement parses a UUID, issue #8).
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();
/// Where each byte's two digits start in the 8-4-4-4-12 text form.
constexpr std::array<std::uint8_t, 16> kBytePositions = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

}  // namespace

void Uuid::write_to(char* out) const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::size_t b = 0;
  for (std::size_t i = 0; i < kUuidTextLength; ++i) {
    if (is_dash_position(i)) {
      out[i] = '-';
      continue;
    }
    out[i] = kDigits[bytes[b] >> 4];
    out[++i] = kDigits[bytes[b] & 0x0f];
    ++b;
  }
}

std::string Uuid::to_string() const {
  std::string s(kUuidTextLength, '\0');
  write_to(s.data());
  return s;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != kUuidTextLength) return std::nullopt;
  if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  Uuid u;
  int bad = 0;
  for (std::size_t b = 0; b < kBytePositions.size(); ++b) {
    const int hi = kHexValue[static_cast<unsigned char>(text[kBytePositions[b]])];
    const int lo = kHexValue[static_cast<unsigned char>(text[kBytePositions[b] + 1])];
    bad |= hi | lo;  // negative if either is not a hex digit
    u.bytes[b] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  if (bad < 0) return std::nullopt;
  return u;
}

Uuid Uuid::random_v4(crypto::RandomSource& rng) {
  Uuid u;
  rng.fill(u.bytes);
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0f) | 0x40);  // version 4
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

}  // namespace ssmc::wire
