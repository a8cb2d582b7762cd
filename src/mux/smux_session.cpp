#include "mux/smux_session.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace ssmc::mux {
namespace {

using wire::SmuxCmd;
using wire::SmuxFrameHeader;

/// Storage the held-input buffer keeps once drained: one largest frame.
constexpr std::size_t kRetainedHeldCapacity = wire::smux_frame_size(wire::kSmuxMaxLength);

SessionConfig normalized(SessionConfig c) {
  if (c.version != wire::kSmuxVersion1 && c.version != wire::kSmuxVersion2)
    throw std::invalid_argument("smux version must be 1 or 2");
  c.max_frame_data = std::clamp<std::size_t>(c.max_frame_data, 1, wire::kSmuxMaxLength);
  c.max_receive_buffer = std::clamp<std::size_t>(c.max_receive_buffer, 1, std::size_t{1} << 40);
  c.max_stream_send_buffer = std::max<std::size_t>(c.max_stream_send_buffer, 1);
  c.max_session_send_buffer = std::max(c.max_session_send_buffer, c.max_stream_send_buffer);
  c.max_streams = std::max<std::size_t>(c.max_streams, 1);
  c.max_input_backlog = std::max(c.max_input_backlog, wire::smux_frame_size(wire::kSmuxMaxLength));
  if (c.keep_alive_interval <= Duration::zero()) c.keep_alive_interval = wire::kSmuxKeepAliveInterval;
  if (c.keep_alive_timeout <= Duration::zero()) c.keep_alive_timeout = wire::kSmuxKeepAliveTimeout;
  return c;
}

/// The first deadline of the series `t + k·period` that is later than `now`.
TimePoint advance(TimePoint t, Duration period, TimePoint now) {
  if (now < t) return t;
  return t + period * ((now - t) / period + 1);
}

}  // namespace

SmuxSession::SmuxSession(SessionConfig config, TimePoint now)
    : config_(normalized(config)),
      parser_(config_.version),
      next_id_(config_.role == Role::client ? 1u : 0u),
      bucket_(static_cast<std::int64_t>(config_.max_receive_buffer)),
      next_nop_(now + config_.keep_alive_interval),
      next_check_(now + config_.keep_alive_timeout) {}

SmuxSession::Stream* SmuxSession::find(std::uint32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}
const SmuxSession::Stream* SmuxSession::find(std::uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

std::size_t SmuxSession::receive_buffered() const noexcept {
  return static_cast<std::size_t>(static_cast<std::int64_t>(config_.max_receive_buffer) - bucket_);
}

std::size_t SmuxSession::own_and_session_room(const Stream& s) const noexcept {
  return std::min(config_.max_stream_send_buffer - s.send.size(), config_.max_session_send_buffer - queued_send_);
}

std::size_t SmuxSession::room(const Stream& s) const noexcept {
  // While streams wait for session room, room goes to them in turns, in the
  // order they blocked (hand_out_turns): a stream with data always at hand
  // would otherwise take whatever frees up before the woken ones run, and
  // with many connections some finished many times sooner than others.
  if ((waiting_ > 0 || turns_out_ > 0) && !s.turn) return 0;
  return own_and_session_room(s);
}

void SmuxSession::block(Stream& s) {
  drop_turn(s);
  if (s.blocked) return;
  s.blocked = true;
  if (config_.max_stream_send_buffer - s.send.size() < writable_threshold()) {
    blocked_.push_back(s.id);  // on its own buffer: check_writable looks again when it drains
    return;
  }
  wait_for_turn(s);
  hand_out_turns();
}

void SmuxSession::wait_for_turn(Stream& s) {
  s.waiting = true;
  ++waiting_;
  waiters_.push_back(s.id);
}

void SmuxSession::unblock(Stream& s) {
  drop_turn(s);
  s.blocked = false;
  if (s.waiting) {  // its id leaves waiters_ when it comes up
    s.waiting = false;
    --waiting_;
  }
}

void SmuxSession::drop_turn(Stream& s) {
  if (!s.turn) return;
  s.turn = false;
  --turns_out_;
}

void SmuxSession::hand_out_turns() {
  // Each turn promises writable_threshold() bytes of the session's room.
  const std::size_t want = writable_threshold();
  const std::size_t free = config_.max_session_send_buffer - queued_send_;
  std::size_t budget = free > turns_out_ * want ? free - turns_out_ * want : 0;
  while (waiting_ > 0 && budget >= want && !waiters_.empty()) {
    const std::uint32_t id = waiters_.front();
    waiters_.pop_front();
    Stream* st = find(id);
    if (!st || !st->waiting) continue;  // closed meanwhile
    unblock(*st);
    st->turn = true;
    ++turns_out_;
    budget -= want;
    emit(StreamWritable{id}, st);
  }
}

std::int64_t SmuxSession::window(const Stream& s) const noexcept {
  if (config_.version != wire::kSmuxVersion2) return std::numeric_limits<std::int64_t>::max();
  // 06 §5.6: in flight = numWritten − peerConsumed (modular). A peer claiming
  // more than was written (smux: ErrConsumed) is treated as nothing in flight.
  const std::int64_t inflight = std::max<std::int64_t>(0, static_cast<std::int32_t>(s.num_written - s.peer_consumed));
  return static_cast<std::int64_t>(s.peer_window) - inflight;
}

void SmuxSession::emit(Event e, const Stream* s) {
  events_.push_back(Slot{std::move(e), s ? s->id : 0, s ? s->serial : 0});
}

void SmuxSession::die(std::error_code ec) {
  if (dead_) return;
  dead_ = true;
  error_ = ec;
  std::vector<std::uint8_t>().swap(held_);
  held_pos_ = 0;
  std::vector<std::uint8_t>().swap(control_);
  control_pos_ = 0;
  nop_pending_ = false;
  upd_list_.clear();
  rr_.clear();
  blocked_.clear();
  waiters_.clear();
  waiting_ = 0;
  turns_out_ = 0;
  for (auto& [id, s] : streams_) {
    s.send.clear_and_free();
    s.in_rr = false;
    s.blocked = s.waiting = s.turn = false;
  }
  queued_send_ = 0;
  cur_ = Current{};
  emit(SessionDead{ec}, nullptr);
}

void SmuxSession::close_session(TimePoint) { die(make_error_code(Errc::session_closed)); }

// ------------------------------------------------------------------ receive

void SmuxSession::on_bytes(std::span<const std::uint8_t> bytes, TimePoint) {
  if (dead_ || bytes.empty()) return;
  stats_.bytes_in += bytes.size();
  data_ready_ = true;  // any input proves the peer alive (06 §5.4; see on_timer in the header)
  if (held_pos_ < held_.size() && bucket_ > 0) drain_held();
  parser_.feed(bytes);
  // Drain the parser completely: it borrows `bytes` until next() says "need more".
  for (;;) {
    auto r = parser_.next();
    if (!r) {
      die(r.error());
      return;
    }
    if (!*r) return;
    const wire::SmuxFrame& f = **r;
    ++stats_.frames_in;
    if (receive_paused()) {
      // smux stops reading the transport while the bucket is empty; we keep
      // the frames, in order, and deliver them when tokens come back. NOPs
      // need no order.
      if (f.header.cmd == SmuxCmd::nop) {
        ++stats_.nops_in;
        continue;
      }
      hold(f.header, f.data);
      if (dead_) return;
      continue;
    }
    process_frame(f.header, f.data);
  }
}

void SmuxSession::hold(const SmuxFrameHeader& h, std::span<const std::uint8_t> data) {
  const std::size_t need = wire::smux_frame_size(data.size());
  if (held_input_bytes() + need > config_.max_input_backlog) {
    die(make_error_code(Errc::input_overflow));
    return;
  }
  if (held_pos_ > 0 && held_.size() + need > held_.capacity()) {
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(held_pos_));
    held_pos_ = 0;
  }
  const std::size_t at = held_.size();
  held_.resize(at + need);
  wire::encode_smux_header(h, std::span<std::uint8_t, wire::kSmuxHeaderSize>(held_.data() + at, wire::kSmuxHeaderSize));
  if (!data.empty()) std::memcpy(held_.data() + at + wire::kSmuxHeaderSize, data.data(), data.size());
  ++stats_.frames_held;
}

void SmuxSession::drain_held() {
  while (!dead_ && bucket_ > 0 && held_pos_ < held_.size()) {
    const std::uint8_t* p = held_.data() + held_pos_;
    const auto h =
        wire::decode_smux_header(std::span<const std::uint8_t, wire::kSmuxHeaderSize>(p, wire::kSmuxHeaderSize));
    held_pos_ += wire::smux_frame_size(h.length);
    process_frame(h, {p + wire::kSmuxHeaderSize, h.length});  // never touches held_
  }
  if (held_pos_ == held_.size()) {
    held_.clear();
    held_pos_ = 0;
    if (held_.capacity() > kRetainedHeldCapacity) std::vector<std::uint8_t>().swap(held_);
  }
}

void SmuxSession::process_frame(const SmuxFrameHeader& h, std::span<const std::uint8_t> data) {
  switch (h.cmd) {
    case SmuxCmd::nop:
      ++stats_.nops_in;
      return;
    case SmuxCmd::syn:
      on_syn(h.stream_id);
      return;
    case SmuxCmd::fin:
      on_fin(h.stream_id);
      return;
    case SmuxCmd::psh:
      on_psh(h.stream_id, data);
      return;
    case SmuxCmd::upd:
      on_upd(h.stream_id, data);
      return;
  }
}

void SmuxSession::on_syn(std::uint32_t id) {
  if (streams_.contains(id)) return;  // 06 §5.4: a SYN for an existing id is ignored
  if (streams_.size() >= config_.max_streams) {
    ++stats_.streams_refused;
    if (pending_refusals_ < kMaxPendingRefusals) {
      ++pending_refusals_;
      append_control(SmuxCmd::fin, id);
    }
    return;
  }
  Stream& s = streams_[id];
  s.id = id;
  s.serial = next_serial_++;
  ++stats_.streams_accepted;
  emit(StreamOpened{id}, &s);
}

void SmuxSession::on_fin(std::uint32_t id) {
  Stream* s = find(id);
  if (!s || s->local_closed || s->peer_fin) return;  // unknown or forgotten: ignored
  s->peer_fin = true;
  s->data_event = kNoEvent;
  emit(StreamFinished{id}, s);
}

void SmuxSession::on_psh(std::uint32_t id, std::span<const std::uint8_t> data) {
  if (data.empty()) return;  // 06 §5.4: an empty PSH is ignored
  Stream* s = find(id);
  if (!s || s->local_closed || s->peer_fin) {  // 06 §5.4: read and discarded, no tokens used
    stats_.data_bytes_discarded += data.size();
    return;
  }
  bucket_ -= static_cast<std::int64_t>(data.size());
  s->unconsumed += data.size();
  stats_.data_bytes_delivered += data.size();
  if (s->data_event != kNoEvent && s->data_event >= events_base_) {  // not polled yet: append
    auto& bytes = std::get<StreamData>(events_[s->data_event - events_base_].event).bytes;
    bytes.insert(bytes.end(), data.begin(), data.end());
    return;
  }
  std::vector<std::uint8_t> buf = take_spare();
  buf.assign(data.begin(), data.end());
  s->data_event = events_base_ + events_.size();
  emit(StreamData{id, std::move(buf)}, s);
}

void SmuxSession::on_upd(std::uint32_t id, std::span<const std::uint8_t> data) {
  ++stats_.upds_in;
  const auto upd = wire::decode_smux_window_update(data);
  Stream* s = find(id);
  // A closed stream may still have queued data waiting for window: honour it.
  if (!upd || !s) return;
  s->peer_consumed = upd->consumed;
  s->peer_window = upd->window;
  if (s->window_blocked && window(*s) > 0) {
    s->window_blocked = false;
    schedule(*s);
  }
}

std::vector<std::uint8_t> SmuxSession::take_spare() {
  if (spare_.empty()) return {};
  std::vector<std::uint8_t> v = std::move(spare_.back());
  spare_.pop_back();
  return v;
}

void SmuxSession::recycle(std::vector<std::uint8_t>&& buffer) {
  if (spare_.size() >= kSpareBuffers || buffer.capacity() == 0 || buffer.capacity() > kMaxSpareCapacity) return;
  buffer.clear();
  spare_.push_back(std::move(buffer));
}

std::optional<Event> SmuxSession::poll_event() {
  while (!events_.empty()) {
    Slot slot = std::move(events_.front());
    events_.pop_front();
    ++events_base_;
    if (slot.serial != 0) {
      Stream* s = find(slot.id);
      if (!s || s->serial != slot.serial || s->local_closed) {  // the application closed it meanwhile
        if (auto* d = std::get_if<StreamData>(&slot.event)) recycle(std::move(d->bytes));
        continue;
      }
      if (s->data_event == events_base_ - 1) s->data_event = kNoEvent;
    }
    return std::move(slot.event);
  }
  return std::nullopt;
}

void SmuxSession::consumed(std::uint32_t id, std::size_t n, TimePoint) {
  if (dead_) return;
  Stream* s = find(id);
  if (!s || s->local_closed) return;
  const std::size_t k = std::min(n, s->unconsumed);
  if (k == 0) return;
  s->unconsumed -= k;
  bucket_ += static_cast<std::int64_t>(k);
  if (config_.version == wire::kSmuxVersion2) {
    // 06 §5.6: announce the window on the first read, then whenever half of
    // it was consumed since the last announcement.
    s->num_read += static_cast<std::uint32_t>(k);
    s->incr += static_cast<std::uint32_t>(k);
    if (!s->read_once || s->incr >= config_.max_stream_buffer / 2) {
      s->read_once = true;
      s->incr = 0;
      if (!s->upd_pending) {
        s->upd_pending = true;
        upd_list_.push_back(id);
      }
    }
  }
  if (held_pos_ < held_.size() && bucket_ > 0) drain_held();
}

// --------------------------------------------------------------------- send

Result<std::uint32_t> SmuxSession::open_stream(TimePoint) {
  if (dead_) return make_error_code(Errc::session_dead);
  if (go_away_) return make_error_code(Errc::stream_ids_exhausted);
  if (streams_.size() >= config_.max_streams) return make_error_code(Errc::too_many_streams);
  std::uint32_t id = 0;
  do {
    id = next_id_ + 2;  // incremented before use: first client id 3 (06 §5.3)
    if (id < 2) {       // wrapped: "go away"
      go_away_ = true;
      return make_error_code(Errc::stream_ids_exhausted);
    }
    next_id_ = id;
  } while (streams_.contains(id));  // the peer already opened this id
  Stream& s = streams_[id];
  s.id = id;
  s.serial = next_serial_++;
  ++stats_.streams_opened;
  append_control(SmuxCmd::syn, id);
  return id;
}

std::error_code SmuxSession::write(std::uint32_t id, std::span<const std::uint8_t> data, TimePoint) {
  if (dead_) return make_error_code(Errc::session_dead);
  Stream* s = find(id);
  if (!s) return make_error_code(Errc::unknown_stream);
  if (s->local_closed || s->write_state != WriteState::open) return make_error_code(Errc::stream_closed);
  if (data.empty()) return {};
  if (data.size() > config_.max_stream_send_buffer) return make_error_code(Errc::write_too_large);
  if (data.size() > room(*s)) {
    block(*s);
    return make_error_code(Errc::would_block);
  }
  drop_turn(*s);  // one write per turn
  // A stream blocked on its own buffer that found room again (say after a
  // safety wake-up) is not blocked any more: left set, it would later be
  // handed a turn nobody waits for, and each such turn holds back room.
  if (s->blocked && !s->waiting) s->blocked = false;
  if (s->send.empty() && s->send.capacity() < data.size() && !send_pool_.empty()) {
    s->send.adopt(std::move(send_pool_.back()));
    send_pool_.pop_back();
  }
  s->send.push(data);
  queued_send_ += data.size();
  schedule(*s);
  return {};
}

std::size_t SmuxSession::send_room(std::uint32_t id) const {
  const Stream* s = find(id);
  if (dead_ || !s || s->local_closed || s->write_state != WriteState::open) return 0;
  return room(*s);
}

std::error_code SmuxSession::close_stream(std::uint32_t id, TimePoint) {
  if (dead_) return make_error_code(Errc::session_dead);
  Stream* s = find(id);
  if (!s) return make_error_code(Errc::unknown_stream);
  if (s->local_closed) return make_error_code(Errc::stream_closed);
  s->local_closed = true;
  unblock(*s);
  s->data_event = kNoEvent;
  // smux streamClosed: unread bytes go back to the bucket.
  bucket_ += static_cast<std::int64_t>(s->unconsumed);
  s->unconsumed = 0;
  if (s->write_state == WriteState::open) {
    s->write_state = WriteState::fin_pending;
    maybe_send_fin(*s);  // may forget s
  } else if (s->write_state == WriteState::fin_sent) {
    forget(*s);
  }
  if (held_pos_ < held_.size() && bucket_ > 0) drain_held();
  return {};
}

std::error_code SmuxSession::shutdown_write(std::uint32_t id, TimePoint) {
  if (dead_) return make_error_code(Errc::session_dead);
  Stream* s = find(id);
  if (!s) return make_error_code(Errc::unknown_stream);
  if (s->local_closed || s->write_state != WriteState::open) return make_error_code(Errc::stream_closed);
  s->write_state = WriteState::fin_pending;
  unblock(*s);
  maybe_send_fin(*s);
  return {};
}

void SmuxSession::schedule(Stream& s) {
  if (!s.in_rr && !s.window_blocked && !s.send.empty()) {
    rr_.push_back(s.id);
    s.in_rr = true;
  }
}

void SmuxSession::maybe_send_fin(Stream& s) {
  if (s.write_state != WriteState::fin_pending || !s.send.empty() || cur_.stream == &s) return;
  append_control(SmuxCmd::fin, s.id);
  s.write_state = WriteState::fin_sent;
  if (s.local_closed) forget(s);
}

void SmuxSession::forget(Stream& s) {
  bucket_ += static_cast<std::int64_t>(s.unconsumed);
  streams_.erase(s.id);
}

void SmuxSession::append_control(SmuxCmd cmd, std::uint32_t id) {
  if (control_pos_ > 0 && control_pos_ * 2 >= control_.size()) {
    control_.erase(control_.begin(), control_.begin() + static_cast<std::ptrdiff_t>(control_pos_));
    control_pos_ = 0;
  }
  wire::append_smux_frame(control_, cmd, id, {}, config_.version);
  ++stats_.frames_out;
}

bool SmuxSession::refill_control() {
  if (nop_pending_) {
    nop_pending_ = false;
    append_control(SmuxCmd::nop, 0);
    ++stats_.nops_out;
    return true;
  }
  while (!upd_list_.empty()) {
    const std::uint32_t id = upd_list_.front();
    upd_list_.pop_front();
    Stream* s = find(id);
    if (!s || !s->upd_pending) continue;
    s->upd_pending = false;
    if (s->local_closed) continue;
    wire::append_smux_window_update(control_, id, {s->num_read, config_.max_stream_buffer});
    ++stats_.frames_out;
    ++stats_.upds_out;
    return true;
  }
  return false;
}

bool SmuxSession::start_data_frame() {
  while (!rr_.empty()) {
    const std::uint32_t id = rr_.front();
    rr_.pop_front();
    Stream* s = find(id);
    if (!s || !s->in_rr) continue;
    s->in_rr = false;
    if (s->send.empty()) continue;
    std::size_t len = std::min(s->send.size(), config_.max_frame_data);
    if (config_.version == wire::kSmuxVersion2) {
      const std::int64_t win = window(*s);
      if (win <= 0) {  // wait for the peer's UPD (06 §5.6)
        s->window_blocked = true;
        continue;
      }
      len = std::min(len, static_cast<std::size_t>(win));
      s->num_written += static_cast<std::uint32_t>(len);
    }
    wire::encode_smux_header({config_.version, SmuxCmd::psh, static_cast<std::uint16_t>(len), id}, cur_.header);
    cur_.header_pos = 0;
    cur_.stream = s;
    cur_.data_left = len;
    if (s->send.size() > len) {  // more to send: back of the round-robin line
      rr_.push_back(id);
      s->in_rr = true;
    }
    ++stats_.frames_out;
    stats_.data_bytes_sent += len;
    return true;
  }
  return false;
}

void SmuxSession::frame_done() {
  Stream* s = cur_.stream;
  cur_.stream = nullptr;
  cur_.data_left = 0;
  if (s && s->send.empty()) {
    if (s->send.capacity() > kRetainedSendCapacity) {
      auto storage = s->send.release();
      if (send_pool_.size() < kSendPoolBuffers) send_pool_.push_back(std::move(storage));
    }
    maybe_send_fin(*s);
  }
}

std::size_t SmuxSession::poll_output(std::vector<std::uint8_t>& out, std::size_t max_bytes, TimePoint now) {
  const std::size_t at = out.size();
  out.resize(at + max_bytes);
  const std::size_t n = poll_output(std::span<std::uint8_t>(out).subspan(at), now);
  out.resize(at + n);
  return n;
}

std::size_t SmuxSession::poll_output(std::span<std::uint8_t> out, TimePoint) {
  if (dead_) return 0;
  std::uint8_t* to = out.data();
  std::size_t budget = out.size();
  const auto put = [&](const std::uint8_t* from, std::size_t n) {
    std::memcpy(to, from, n);
    to += n;
    budget -= n;
  };
  while (budget > 0) {
    if (cur_.header_pos < wire::kSmuxHeaderSize) {
      const std::size_t n = std::min(budget, wire::kSmuxHeaderSize - cur_.header_pos);
      put(cur_.header + cur_.header_pos, n);
      cur_.header_pos += n;
      if (cur_.header_pos == wire::kSmuxHeaderSize && cur_.data_left == 0) frame_done();
      continue;
    }
    if (cur_.data_left > 0) {
      Stream& s = *cur_.stream;
      const std::size_t n = std::min(budget, cur_.data_left);
      put(s.send.data(), n);
      s.send.pop(n);
      queued_send_ -= n;
      freed_since_check_ += n;
      if (s.blocked && !s.waiting) wake_check_ = true;  // own-buffer blocked: its room grew
      cur_.data_left -= n;
      if (cur_.data_left == 0) frame_done();
      continue;
    }
    if (control_pos_ < control_.size()) {
      const std::size_t n = std::min(budget, control_.size() - control_pos_);
      put(control_.data() + control_pos_, n);
      control_pos_ += n;
      if (control_pos_ == control_.size()) {
        control_.clear();
        control_pos_ = 0;
        pending_refusals_ = 0;
      }
      continue;
    }
    if (refill_control()) continue;
    if (!start_data_frame()) break;
  }
  const std::size_t produced = out.size() - budget;
  stats_.bytes_out += produced;
  // A blocked stream waits for room >= half its buffer, in its own buffer and
  // in the session's. Scanning every blocked stream on each call costs
  // O(streams) per message with many connections, so scan when a blocked
  // stream's own buffer drained, when half a buffer was freed in all since
  // the last scan, or when the queue is empty: a wake-up comes at most half
  // a buffer of output late, and never later than the end of the queue.
  // Streams blocked on the session's room get turns as it frees up.
  if (!blocked_.empty() && (wake_check_ || queued_send_ == 0 || freed_since_check_ >= writable_threshold())) {
    check_writable();
  }
  if (waiting_ > 0) hand_out_turns();  // O(1) unless a turn is handed out
  return produced;
}

bool SmuxSession::has_output() const {
  if (dead_) return false;
  if (cur_.header_pos < wire::kSmuxHeaderSize || cur_.data_left > 0) return true;
  if (control_pos_ < control_.size() || nop_pending_) return true;
  for (std::size_t i = 0; i < upd_list_.size(); ++i) {
    const Stream* s = find(upd_list_[i]);
    if (s && s->upd_pending && !s->local_closed) return true;
  }
  for (std::size_t i = 0; i < rr_.size(); ++i) {  // v1: the first entry answers
    const Stream* s = find(rr_[i]);
    if (s && s->in_rr && !s->send.empty() && window(*s) > 0) return true;
  }
  return false;
}

std::size_t SmuxSession::writable_threshold() const noexcept {
  return std::max<std::size_t>(1, config_.max_stream_send_buffer / 2);
}

void SmuxSession::check_writable() {
  wake_check_ = false;
  freed_since_check_ = 0;
  // Streams blocked on their own buffer: once it has room they wait for a
  // turn at the session's room like the others.
  const std::size_t want = writable_threshold();
  std::size_t keep = 0;
  for (std::size_t i = 0; i < blocked_.size(); ++i) {
    const std::uint32_t id = blocked_[i];
    Stream* st = find(id);
    if (!st || !st->blocked || st->waiting) continue;
    if (config_.max_stream_send_buffer - st->send.size() >= want) {
      wait_for_turn(*st);
      continue;
    }
    blocked_[keep++] = id;
  }
  blocked_.resize(keep);
  hand_out_turns();
}

// ------------------------------------------------------------------- timers

std::optional<TimePoint> SmuxSession::next_deadline() const {
  if (!config_.keep_alive || dead_) return std::nullopt;
  return std::min(next_nop_, next_check_);
}

void SmuxSession::on_timer(TimePoint now) {
  if (!config_.keep_alive || dead_) return;
  if (now >= next_nop_) {
    nop_pending_ = true;  // one NOP, however many intervals were missed
    next_nop_ = advance(next_nop_, config_.keep_alive_interval, now);
  }
  if (now >= next_check_) {
    // smux: dead when nothing arrived during the period, unless the reader
    // is blocked on an empty bucket (then the silence is ours).
    if (!data_ready_ && !receive_paused()) {
      die(make_error_code(Errc::keepalive_timeout));
      return;
    }
    data_ready_ = false;
    next_check_ = advance(next_check_, config_.keep_alive_timeout, now);
  }
}

}  // namespace ssmc::mux
