#include "wire/uuid.hpp"

namespace ssmc::wire {
namespace {

constexpr bool is_dash_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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
  Uuid u;
  std::size_t b = 0;
  for (std::size_t i = 0; i < kUuidTextLength; ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[b++] = static_cast<std::uint8_t>((hi << 4) | lo);
    ++i;
  }
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
