// libFuzzer target for the smux session engine (src/mux/smux_session.hpp).
//
// Byte 0 chooses the mode and the configuration, bytes 1-5 the buffer sizes
// (small, to reach the limits); the rest is a program of operations.
//
// Mode "single" (bit 3 of byte 0 clear): one session of either role is fed
// raw bytes from the input and well-formed frames built from it, interleaved
// with application calls (open, write, close, half close, consume, poll,
// timers). Invariants after every operation: the memory bounds documented in
// the header; everything the session outputs parses as valid smux of its
// version with PSH ≤ max_frame_data and SYN ids of its own parity;
// has_output() agrees with poll_output(); nothing comes out of a dead
// session; SessionDead is the last event.
//
// Mode "pair" (bit 3 set): a client and a server session joined by two pipes
// that the program moves bytes through in chunks of its choosing. Every
// written byte follows a pattern keyed by (direction, stream, offset); the
// receiver checks every delivered byte, and on StreamFinished that it got
// exactly what the writer wrote before its FIN.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <vector>

#include "mux/smux_session.hpp"
#include "wire/smux.hpp"

namespace {

using namespace ssmc::mux;
using ssmc::wire::SmuxCmd;

void check(bool ok) {
  if (!ok) std::abort();
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::span<const std::uint8_t> out(data_ + pos_, n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

std::uint8_t pattern_byte(bool upstream, std::uint32_t id, std::uint64_t offset) {
  const std::uint64_t x = (offset + 1) * 0x9e3779b97f4a7c15ull ^ (std::uint64_t{id} << 1 | (upstream ? 1 : 0));
  return static_cast<std::uint8_t>(x >> 29);
}

void check_bounds(const SmuxSession& s) {
  const auto& c = s.config();
  check(s.receive_buffered() <= c.max_receive_buffer + ssmc::wire::kSmuxMaxLength - 1);
  check(s.held_input_bytes() <= c.max_input_backlog);
  check(s.queued_send_bytes() <= c.max_session_send_buffer);
  check(s.parser_buffered_bytes() < ssmc::wire::smux_frame_size(ssmc::wire::kSmuxMaxLength));
  check(s.stream_count() <= c.max_streams);
  if (s.dead()) {
    check(!s.has_output());
    check(s.queued_send_bytes() == 0 && s.held_input_bytes() == 0 && s.queued_control_bytes() == 0);
    check(!s.next_deadline());
  }
}

SessionConfig make_config(Input& in, std::uint8_t flags, Role role) {
  SessionConfig c;
  c.role = role;
  c.version = (flags & 2) ? ssmc::wire::kSmuxVersion2 : ssmc::wire::kSmuxVersion1;
  c.keep_alive = (flags & 4) != 0;
  c.max_frame_data = 1 + in.byte() * 131u;
  c.max_receive_buffer = 1 + in.byte() * 257u;
  const unsigned send = in.byte();
  c.max_stream_send_buffer = 1 + send * send * 4u;  // up to 260 KB: past kRetainedSendCapacity
  c.max_session_send_buffer = c.max_stream_send_buffer * (1 + in.byte() % 8);
  c.max_streams = 1 + in.byte() % 12;
  c.max_input_backlog = 0;  // raised to one largest frame: the overflow path is reachable
  c.max_stream_buffer = 64u + 256u * (flags >> 4);
  return c;
}

// Validates the bytes a session produced, incrementally.
class OutputChecker {
 public:
  explicit OutputChecker(const SmuxSession& s) : s_(s), parser_(s.config().version) {}
  void feed(std::span<const std::uint8_t> bytes) {
    parser_.feed(bytes);
    for (;;) {
      auto r = parser_.next();
      check(r.has_value());  // we only ever produce valid frames
      if (!*r) return;
      const auto& h = (*r)->header;
      if (h.cmd == SmuxCmd::psh) check(h.length >= 1 && h.length <= s_.config().max_frame_data);
      if (h.cmd == SmuxCmd::syn) check((h.stream_id & 1) == (s_.role() == Role::client ? 1u : 0u));
      if (h.cmd == SmuxCmd::nop) check(s_.config().keep_alive && h.stream_id == 0);
    }
  }

 private:
  const SmuxSession& s_;
  ssmc::wire::SmuxParser parser_;
};

std::uint32_t pick_id(Input& in, const std::vector<std::uint32_t>& ids) {
  const std::uint8_t b = in.byte();
  if (!ids.empty() && b < 224) return ids[b % ids.size()];
  return b % 16;
}

void poll_checked(SmuxSession& s, std::vector<std::uint8_t>& out, std::size_t max, OutputChecker& checker,
                  TimePoint now) {
  const bool had = s.has_output();
  out.clear();
  const std::size_t n = s.poll_output(out, max, now);
  check(n == out.size() && n <= max);
  check(had == (n > 0) || max == 0);
  checker.feed(out);
}

void drain_events(SmuxSession& s, bool& saw_dead, std::vector<std::uint32_t>* opened) {
  while (auto e = s.poll_event()) {
    check(!saw_dead);  // SessionDead is the last event
    if (auto* d = std::get_if<StreamData>(&*e)) {
      check(!d->bytes.empty());
      s.recycle(std::move(d->bytes));
    } else if (auto* o = std::get_if<StreamOpened>(&*e)) {
      if (opened) opened->push_back(o->id);
    } else if (std::holds_alternative<SessionDead>(*e)) {
      saw_dead = true;
      check(s.dead());
    }
  }
}

void run_single(Input& in, std::uint8_t flags) {
  auto now = TimePoint{} + std::chrono::hours(1);
  SmuxSession s(make_config(in, flags, (flags & 1) ? Role::server : Role::client), now);
  OutputChecker checker(s);
  static const std::vector<std::uint8_t> scratch = [] {  // data for writes and frames, built once
    std::vector<std::uint8_t> v(70'000);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return v;
  }();
  std::vector<std::uint8_t> out, frame_buf;
  std::vector<std::uint32_t> ids;
  bool saw_dead = false;

  for (int steps = 0; !in.empty() && steps < 4096; ++steps) {
    switch (in.byte() % 12) {
      case 0: {  // raw bytes
        s.on_bytes(in.take(in.byte()), now);
        break;
      }
      case 1: {  // a well-formed frame (fast path to deep states)
        const auto cmd = static_cast<SmuxCmd>(in.byte() % (s.config().version == 2 ? 5 : 4));
        const std::uint32_t sid = pick_id(in, ids);
        std::size_t len = 0;
        if (cmd == SmuxCmd::psh) len = in.byte() % 2 ? in.byte() : in.u16();
        if (cmd == SmuxCmd::upd) len = ssmc::wire::kSmuxUpdSize;
        frame_buf.clear();
        ssmc::wire::append_smux_frame(frame_buf, cmd, sid, std::span(scratch).first(len), s.config().version);
        if (cmd == SmuxCmd::upd) {
          const auto upd = in.take(8);
          std::copy(upd.begin(), upd.end(), frame_buf.begin() + ssmc::wire::kSmuxHeaderSize);
        }
        // Split in two to exercise the parser's buffering.
        const std::size_t cut = std::min<std::size_t>(in.byte(), frame_buf.size());
        s.on_bytes(std::span(frame_buf).first(cut), now);
        s.on_bytes(std::span(frame_buf).subspan(cut), now);
        break;
      }
      case 2: {
        auto id = s.open_stream(now);
        if (id) {
          check((*id & 1) == ((flags & 1) ? 0u : 1u) && *id >= 2);
          ids.push_back(*id);
        } else {
          check(s.dead() || id.error() == make_error_code(Errc::too_many_streams) ||
                id.error() == make_error_code(Errc::stream_ids_exhausted));
        }
        break;
      }
      case 3: {
        const std::uint32_t id = pick_id(in, ids);
        const std::size_t n = std::min<std::size_t>(in.byte() * 37u, scratch.size());
        const std::size_t room = s.send_room(id);
        const auto ec = s.write(id, std::span(scratch).first(n), now);
        if (!ec) check(n <= room || n == 0);
        if (ec == make_error_code(Errc::would_block)) check(n > room);
        break;
      }
      case 4:
        (void)s.close_stream(pick_id(in, ids), now);
        break;
      case 5:
        (void)s.shutdown_write(pick_id(in, ids), now);
        break;
      case 6: {
        const std::uint32_t id = pick_id(in, ids);
        s.consumed(id, in.u16(), now);
        break;
      }
      case 7:
        poll_checked(s, out, std::size_t{in.byte()} * 17, checker, now);
        break;
      case 8:
        drain_events(s, saw_dead, &ids);
        break;
      case 9: {
        now += std::chrono::milliseconds(in.u16()) * 10;
        if (auto d = s.next_deadline(); d && *d <= now) s.on_timer(now);
        if (auto d = s.next_deadline()) check(*d > now);
        break;
      }
      case 10:
        if (in.byte() == 0xff) s.close_session(now);
        break;
      case 11:
        s.on_timer(now);
        break;
    }
    check_bounds(s);
    if (s.dead()) {
      check(s.write(1, std::span(scratch).first(1), now) == make_error_code(Errc::session_dead));
      check(s.poll_output(out, 100, now) == 0);
    }
  }
  drain_events(s, saw_dead, nullptr);
  check(saw_dead == s.dead());
}

// ---------------------------------------------------------------------- pair

struct Writer {
  std::uint64_t written = 0;
  bool fin = false;  // shutdown_write/close_stream succeeded
};
struct Reader {
  std::uint64_t received = 0;
  bool finished = false;
};

struct Side {
  SmuxSession mux;
  bool upstream;  // this side writes the upstream pattern
  std::vector<std::uint32_t> ids;
  std::map<std::uint32_t, Writer> writers;
  std::map<std::uint32_t, Reader> readers;
  std::map<std::uint32_t, std::uint64_t> unconsumed;
  std::vector<std::uint8_t> pipe_out;  // bytes on their way to the peer
  std::size_t pipe_pos = 0;
  bool saw_dead = false;
};

void pair_events(Side& side, const Side& peer) {
  while (auto e = side.mux.poll_event()) {
    check(!side.saw_dead);
    if (auto* o = std::get_if<StreamOpened>(&*e)) {
      side.ids.push_back(o->id);
    } else if (auto* d = std::get_if<StreamData>(&*e)) {
      auto& r = side.readers[d->id];
      check(!r.finished);
      for (std::uint8_t b : d->bytes) check(b == pattern_byte(peer.upstream, d->id, r.received++));
      side.unconsumed[d->id] += d->bytes.size();
      side.mux.recycle(std::move(d->bytes));
    } else if (auto* f = std::get_if<StreamFinished>(&*e)) {
      auto& r = side.readers[f->id];
      check(!r.finished);
      r.finished = true;
      auto it = peer.writers.find(f->id);
      if (it == peer.writers.end()) {
        // No application FIN: the peer's engine refused the SYN (max_streams).
        check(peer.mux.stats().streams_refused > 0 && r.received == 0);
      } else {
        check(it->second.fin && it->second.written == r.received);
      }
    } else if (std::holds_alternative<SessionDead>(*e)) {
      side.saw_dead = true;
    }
  }
}

void pair_write(Side& side, Input& in, TimePoint now) {
  if (side.ids.empty()) return;
  const std::uint32_t id = side.ids[in.byte() % side.ids.size()];
  auto& w = side.writers[id];
  std::size_t n = in.byte() * 61u;
  std::vector<std::uint8_t> buf(n);
  for (std::size_t i = 0; i < n; ++i) buf[i] = pattern_byte(side.upstream, id, w.written + i);
  const auto ec = side.mux.write(id, buf, now);
  if (!ec) w.written += n;
}

void transfer(Side& from, Side& to, std::size_t n, TimePoint now) {
  if (from.mux.has_output() && from.pipe_out.size() - from.pipe_pos < 1 << 20) {
    from.mux.poll_output(from.pipe_out, n, now);
  }
  const std::size_t k = std::min(n, from.pipe_out.size() - from.pipe_pos);
  to.mux.on_bytes(std::span(from.pipe_out).subspan(from.pipe_pos, k), now);
  from.pipe_pos += k;
  if (from.pipe_pos == from.pipe_out.size()) {
    from.pipe_out.clear();
    from.pipe_pos = 0;
  }
}

void run_pair(Input& in, std::uint8_t flags) {
  auto now = TimePoint{} + std::chrono::hours(1);
  SessionConfig cc = make_config(in, flags, Role::client);
  SessionConfig sc = cc;
  sc.role = Role::server;
  Side sides[2] = {{SmuxSession(cc, now), true, {}, {}, {}, {}, {}, 0, false},
                   {SmuxSession(sc, now), false, {}, {}, {}, {}, {}, 0, false}};
  for (int steps = 0; !in.empty() && steps < 4096; ++steps) {
    const std::uint8_t op = in.byte();
    Side& side = sides[op >> 7];
    Side& peer = sides[1 - (op >> 7)];
    switch (op % 9) {
      case 0: {
        auto id = side.mux.open_stream(now);
        if (id) side.ids.push_back(*id);
        break;
      }
      case 1:
        pair_write(side, in, now);
        break;
      case 2:
      case 3: {  // close / half close: the FIN follows everything written
        if (side.ids.empty()) break;
        const std::uint32_t id = side.ids[in.byte() % side.ids.size()];
        const auto ec = op % 9 == 2 ? side.mux.close_stream(id, now) : side.mux.shutdown_write(id, now);
        if (!ec) side.writers[id].fin = true;
        if (!ec && op % 9 == 2) side.unconsumed.erase(id);
        break;
      }
      case 4: {
        if (side.unconsumed.empty()) break;
        auto it = side.unconsumed.begin();
        std::advance(it, in.byte() % side.unconsumed.size());
        const std::uint64_t n = std::min<std::uint64_t>(it->second, in.u16());
        side.mux.consumed(it->first, n, now);
        it->second -= n;
        break;
      }
      case 5:
      case 6:
        transfer(side, peer, 1 + in.u16() % 4096, now);
        break;
      case 7:
        pair_events(side, peer);
        break;
      case 8: {
        now += std::chrono::milliseconds(in.byte()) * 100;
        for (auto& s : sides)
          if (auto d = s.mux.next_deadline(); d && *d <= now) s.mux.on_timer(now);
        break;
      }
    }
    check_bounds(sides[0].mux);
    check_bounds(sides[1].mux);
  }
  pair_events(sides[0], sides[1]);
  pair_events(sides[1], sides[0]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::uint8_t flags = in.byte();
  if (flags & 8) {
    run_pair(in, flags);
  } else {
    run_single(in, flags);
  }
  return 0;
}
