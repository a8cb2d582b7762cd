// libFuzzer target for the smux frame parser (src/wire/smux.hpp).
//
// The input is a raw smux byte stream (so the seeds are real streams). It is
// parsed twice — in one feed (zero-copy path) and in chunks whose sizes come
// from a generator seeded by the input's last byte (buffered path, sometimes
// feeding before draining) — and both parses must agree. Invariants: every
// frame's data is header.length bytes; re-encoding a frame gives exactly the
// input bytes it came from; an error happens at a frame boundary whose header
// fails check_smux_header with that code, and is sticky; without an error,
// the parser holds exactly the bytes after the last complete frame.
// The parser's version is 2 when the first byte is 2, else 1.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "wire/smux.hpp"

namespace {

using ssmc::wire::SmuxParser;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::size_t frames = 0;
  std::size_t consumed = 0;  // bytes of the complete frames returned
  std::error_code error;
};

// Returns every frame the parser has, checking it against input[consumed..].
void drain(SmuxParser& parser, std::span<const std::uint8_t> input, Outcome& out) {
  for (;;) {
    auto r = parser.next();
    if (!r) {
      check(parser.failed() && parser.error() == r.error());
      out.error = r.error();
      return;
    }
    if (!*r) return;
    const auto& f = **r;
    check(f.data.size() == f.header.length);
    check(!ssmc::wire::check_smux_header(f.header, parser.version()));
    std::vector<std::uint8_t> again;
    ssmc::wire::append_smux_frame(again, f.header.cmd, f.header.stream_id, f.data, f.header.version);
    check(again.size() == ssmc::wire::smux_frame_size(f.header.length));
    check(out.consumed + again.size() <= input.size());
    check(std::memcmp(again.data(), input.data() + out.consumed, again.size()) == 0);
    out.consumed += again.size();
    ++out.frames;
  }
}

void check_final(const SmuxParser& parser, std::span<const std::uint8_t> input, const Outcome& out) {
  if (out.error) {
    // The error comes from the header right after the last good frame.
    check(input.size() - out.consumed >= ssmc::wire::kSmuxHeaderSize);
    const auto h = ssmc::wire::decode_smux_header(input.subspan(out.consumed).first<ssmc::wire::kSmuxHeaderSize>());
    check(ssmc::wire::check_smux_header(h, parser.version()) == out.error);
  } else {
    check(parser.buffered_bytes() == input.size() - out.consumed);
    check(parser.at_frame_boundary() == (out.consumed == input.size()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::uint8_t version =
      size > 0 && data[0] == ssmc::wire::kSmuxVersion2 ? ssmc::wire::kSmuxVersion2 : ssmc::wire::kSmuxVersion1;

  // 1. One feed.
  SmuxParser whole(version);
  Outcome a;
  whole.feed(input);
  drain(whole, input, a);
  check_final(whole, input, a);
  if (a.error) {
    const std::uint8_t more[] = {1, 0, 0, 0, 3, 0, 0, 0};
    whole.feed(more);
    auto r = whole.next();
    check(!r && r.error() == a.error);  // sticky
  }

  // 2. Chunks from a xorshift generator seeded by the last byte; bit 0 of the
  //    seed also decides whether to sometimes feed twice before draining.
  const std::uint32_t seed = size > 0 ? data[size - 1] : 0;
  std::uint32_t state = 0x9e3779b9u ^ (seed * 0x01000193u);
  const std::uint32_t max_chunk = 1u << (seed % 13);
  const bool double_feed = (seed & 1) != 0;
  auto next_rand = [&] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  SmuxParser chunked(version);
  Outcome b;
  std::size_t at = 0;
  while (at < size && !b.error) {
    std::size_t n = 1 + next_rand() % max_chunk;
    if (n > size - at) n = size - at;
    chunked.feed(input.subspan(at, n));
    at += n;
    if (double_feed && at < size && next_rand() % 4 == 0) {
      std::size_t m = 1 + next_rand() % max_chunk;
      if (m > size - at) m = size - at;
      chunked.feed(input.subspan(at, m));
      at += m;
    }
    drain(chunked, input, b);
  }
  check_final(chunked, input, b);
  check(a.frames == b.frames && a.consumed == b.consumed && a.error == b.error);

  // 3. The writer: the input as stream data splits and parses back intact.
  if (size > 0) {
    std::vector<std::uint8_t> stream;
    const std::size_t frame_data = 1 + seed * 97;
    ssmc::wire::append_smux_data(stream, 3, input, frame_data, version);
    SmuxParser back(version);
    back.feed(stream);
    std::size_t got = 0;
    for (;;) {
      auto r = back.next();
      check(r.has_value());
      if (!*r) break;
      check((*r)->header.cmd == ssmc::wire::SmuxCmd::psh && (*r)->header.length <= frame_data);
      check(std::memcmp((*r)->data.data(), data + got, (*r)->data.size()) == 0);
      got += (*r)->data.size();
    }
    check(got == size && back.at_frame_boundary());
  }
  return 0;
}
