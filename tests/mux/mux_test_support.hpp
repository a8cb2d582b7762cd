// Helpers shared by the smux session tests: byte builders, output/event
// draining, a strict frame parser for what a session produced, and
// deterministic payload patterns.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mux/smux_session.hpp"
#include "wire/smux.hpp"

namespace ssmc::mux::test {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

/// An arbitrary virtual start time (tests never read a clock).
inline TimePoint t0() { return TimePoint{} + std::chrono::hours(1000); }

inline Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }
inline std::string text_of(std::span<const std::uint8_t> b) { return {b.begin(), b.end()}; }

/// One encoded frame.
inline Bytes frame(wire::SmuxCmd cmd, std::uint32_t sid, std::span<const std::uint8_t> data = {},
                   std::uint8_t version = wire::kSmuxVersion1) {
  Bytes out;
  wire::append_smux_frame(out, cmd, sid, data, version);
  return out;
}
inline Bytes frame(wire::SmuxCmd cmd, std::uint32_t sid, std::string_view data,
                   std::uint8_t version = wire::kSmuxVersion1) {
  return frame(cmd, sid, bytes_of(data), version);
}
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Everything the session has to send, polled in `chunk`-byte pieces.
inline Bytes drain_output(SmuxSession& s, TimePoint now, std::size_t chunk = std::size_t{1} << 20) {
  Bytes out;
  while (s.poll_output(out, chunk, now) > 0) {
  }
  return out;
}

inline std::vector<Event> drain_events(SmuxSession& s) {
  std::vector<Event> out;
  while (auto e = s.poll_event()) out.push_back(std::move(*e));
  return out;
}

struct OwnedFrame {
  wire::SmuxFrameHeader header;
  Bytes data;
  friend bool operator==(const OwnedFrame&, const OwnedFrame&) = default;
};

inline void PrintTo(const OwnedFrame& f, std::ostream* os) {
  *os << "{v" << int{f.header.version} << " cmd " << int{static_cast<std::uint8_t>(f.header.cmd)} << " sid "
      << f.header.stream_id << " len " << f.header.length << "}";
}

/// Parses bytes a session produced: they must be valid and end on a frame boundary.
inline std::vector<OwnedFrame> parse_frames(std::span<const std::uint8_t> bytes,
                                            std::uint8_t version = wire::kSmuxVersion1) {
  wire::SmuxParser parser(version);
  parser.feed(bytes);
  std::vector<OwnedFrame> out;
  for (;;) {
    auto r = parser.next();
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r || !*r) break;
    out.push_back({(*r)->header, Bytes((*r)->data.begin(), (*r)->data.end())});
  }
  EXPECT_TRUE(parser.at_frame_boundary());
  return out;
}

/// Deterministic pseudo-random bytes (splitmix64) identified by `seed`.
inline Bytes pattern(std::uint64_t seed, std::size_t n) {
  Bytes out(n);
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t i = 0; i < n; i += 8) {
    x += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<std::uint8_t>(z >> (8 * k));
  }
  return out;
}

}  // namespace ssmc::mux::test
