// The smux session engine (spec 06 §4-§5): many concurrent streams over the
// one ordered byte stream that a port-forwarding session's Output payloads
// carry. Usable by both ends: the client opens streams (ids 3, 5, 7, ...), the
// agent side accepts them as amazon-ssm-agent's smux server does.
//
// Sans-I/O: no socket, thread or clock. The driver feeds what arrived and the
// time, and moves bytes and events out:
//
//   if (mux.wants_input()) mux.on_bytes(output_payload, now);  // sequence order, any split
//   while (auto e = mux.poll_event()) handle(*e);   // ... mux.consumed(id, n, now) later
//   // Chunk into Output messages (06 §6: ≤ 1024 bytes), only while the data
//   // channel has room: polled bytes are gone from the engine.
//   while (mux.has_output() && data_channel.send_window_free_bytes() >= 1024) {
//     buf.clear();
//     mux.poll_output(buf, 1024, now);
//     data_channel.send(PayloadType::output, buf, now);
//   }
//   timer.expires_at(mux.next_deadline());  ...  mux.on_timer(now);
//
// Back-pressure, end to end:
// * Receive: delivered stream bytes count against a session-wide token bucket
//   of max_receive_buffer bytes until the application reports them with
//   consumed() (smux's MaxReceiveBuffer, 06 §5.4). While the bucket is empty
//   the engine delivers nothing more and wants_input() is false; the driver
//   should then stop feeding (stop polling the data channel's events, which
//   makes the data channel hold and stop acknowledging: the peer's sends stall).
// * Send: write() queues at most max_stream_send_buffer bytes per stream and
//   max_session_send_buffer bytes in all; beyond that it returns would_block
//   and a StreamWritable event follows once poll_output() has drained enough.
//
// Memory bounds (bytes, besides O(1) per open stream):
//   frame parser            ≤ 8 + 65535 (one incomplete frame)
//   delivered, unconsumed   ≤ max_receive_buffer + 65534 (a frame may overshoot
//                             the bucket by its size, as in smux)
//   held input              ≤ max_input_backlog (else SessionDead(input_overflow))
//   queued send data        ≤ max_session_send_buffer; idle queues keep ≤
//                             kRetainedSendCapacity of storage each, plus a
//                             pool of kSendPoolBuffers buffers of ≤
//                             max_stream_send_buffer
//   control frames          one SYN / FIN per stream opened / closed since the
//                             last poll_output, one UPD per stream, one NOP,
//                             ≤ kMaxPendingRefusals refusal FINs (8 bytes each)
//   streams                 ≤ max_streams records
//   spare buffers           ≤ kSpareBuffers vectors of ≤ kMaxSpareCapacity
// Events are bounded by the above: at most one undelivered StreamData per
// stream (later data is appended to it), one StreamOpened / StreamFinished per
// stream, one StreamWritable per would_block returned.
//
// Not thread-safe; one owner drives it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <unordered_map>
#include <variant>
#include <vector>

#include "mux/errors.hpp"
#include "mux/queues.hpp"
#include "util/result.hpp"
#include "util/ring_queue.hpp"
#include "wire/smux.hpp"

namespace ssmc::mux {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

/// Accept backlog of the reference library (smux defaultAcceptBacklog).
inline constexpr std::size_t kSmuxAcceptBacklog = 1024;
/// Default SessionConfig::max_streams: open stream records (peer SYNs beyond
/// it are refused with FIN; open_stream fails with too_many_streams).
inline constexpr std::size_t kDefaultMaxStreams = 4 * kSmuxAcceptBacklog;
/// Default per-stream send buffer: 8 full frames (06 §5.5 MaxFrameSize).
inline constexpr std::size_t kDefaultStreamSendBuffer = 8 * wire::kSmuxMaxFrameData;
/// Default session-wide send buffer, the same size as the receive bucket (06 §5.5).
inline constexpr std::size_t kDefaultSessionSendBuffer = wire::kSmuxMaxReceiveBuffer;
/// Default bound of frames fed while the receive bucket is empty: one largest
/// frame plus plenty of room for the data-channel payload that was in flight.
inline constexpr std::size_t kDefaultMaxInputBacklog = 1024 * 1024;
/// Storage an idle stream send queue keeps for reuse (two default frames);
/// larger storage goes back to a session pool of kSendPoolBuffers buffers.
inline constexpr std::size_t kRetainedSendCapacity = 2 * wire::kSmuxMaxFrameData;
inline constexpr std::size_t kSendPoolBuffers = 4;
/// Refusal FINs (peer SYN beyond max_streams) queued at most; more are dropped.
inline constexpr std::size_t kMaxPendingRefusals = 256;
/// Recycled StreamData buffers kept, and the largest capacity kept.
inline constexpr std::size_t kSpareBuffers = 32;
inline constexpr std::size_t kMaxSpareCapacity = 1024 * 1024;

/// Which end of the smux connection this is (06 §5.3): the client's streams
/// have odd ids starting at 3; the server's (never used by SSM) even ids
/// starting at 2. Both ends accept streams the peer opens.
enum class Role { client, server };

struct SessionConfig {
  Role role = Role::client;
  /// 1 as used by SSM (06 §5.1); 2 adds per-stream windows and UPD (06 §5.6).
  /// Other values throw std::invalid_argument from the constructor.
  std::uint8_t version = wire::kSmuxVersion1;
  /// NOP every keep_alive_interval, SessionDead(keepalive_timeout) when a whole
  /// keep_alive_timeout passes without input (06 §5.4). The caller applies the
  /// version gate of 06 §4.4: the client disables it iff the agent version
  /// is > 3.1.1511.0, the agent iff the client version is > 1.2.331.0.
  bool keep_alive = true;
  Duration keep_alive_interval = wire::kSmuxKeepAliveInterval;
  Duration keep_alive_timeout = wire::kSmuxKeepAliveTimeout;
  /// Largest PSH payload written (clamped to 1..65535; 06 §5.4 MaxFrameSize).
  std::size_t max_frame_data = wire::kSmuxMaxFrameData;
  /// Session-wide receive token bucket (06 §5.4 MaxReceiveBuffer); ≥ 1.
  std::size_t max_receive_buffer = wire::kSmuxMaxReceiveBuffer;
  /// Version 2: the window advertised in UPD (06 §5.5 MaxStreamBuffer).
  std::uint32_t max_stream_buffer = wire::kSmuxMaxStreamBuffer;
  /// Queued, unsent bytes per stream and in all (raised to max_stream_send_buffer).
  std::size_t max_stream_send_buffer = kDefaultStreamSendBuffer;
  std::size_t max_session_send_buffer = kDefaultSessionSendBuffer;
  /// Open stream records (≥ 1).
  std::size_t max_streams = kDefaultMaxStreams;
  /// Frames that arrive while the receive bucket is empty are held, up to
  /// this many bytes (raised to one largest frame, 65543).
  std::size_t max_input_backlog = kDefaultMaxInputBacklog;
};

// ------------------------------------------------------------------- events

/// The peer opened stream `id` (SYN). Write to it, read its StreamData.
struct StreamOpened {
  std::uint32_t id = 0;
};
/// Bytes the peer sent on `id`, in order. The vector is the application's;
/// the bytes count against the receive buffer until reported with consumed().
/// Give the vector back with recycle() to avoid an allocation.
struct StreamData {
  std::uint32_t id = 0;
  std::vector<std::uint8_t> bytes;
};
/// The peer closed `id` (FIN): every byte it sent was delivered before this.
/// Writing is still allowed (a v1 peer that used Close() discards the data).
struct StreamFinished {
  std::uint32_t id = 0;
};
/// A write to `id` returned would_block; now at least
/// max_stream_send_buffer / 2 bytes fit (see send_room()).
struct StreamWritable {
  std::uint32_t id = 0;
};
/// The session is dead: a protocol error in the peer's bytes
/// (wire::Errc::smux_bad_version / smux_bad_command / smux_bad_length),
/// Errc::keepalive_timeout, Errc::input_overflow or Errc::session_closed.
/// It is the last event. Afterwards the calls that return an error return
/// Errc::session_dead, poll_output returns 0, the others do nothing.
struct SessionDead {
  std::error_code error;
};

using Event = std::variant<StreamOpened, StreamData, StreamFinished, StreamWritable, SessionDead>;

struct Stats {
  std::uint64_t bytes_in = 0, bytes_out = 0;    ///< raw smux bytes fed / produced
  std::uint64_t frames_in = 0, frames_out = 0;  ///< complete frames parsed / produced
  std::uint64_t data_bytes_delivered = 0;       ///< PSH payload bytes delivered
  std::uint64_t data_bytes_sent = 0;            ///< PSH payload bytes produced
  std::uint64_t data_bytes_discarded = 0;       ///< PSH for unknown/closed/finished streams (06 §5.4)
  std::uint64_t nops_in = 0, nops_out = 0;
  std::uint64_t upds_in = 0, upds_out = 0;
  std::uint64_t streams_opened = 0;    ///< by open_stream
  std::uint64_t streams_accepted = 0;  ///< peer SYNs accepted
  std::uint64_t streams_refused = 0;   ///< peer SYNs beyond max_streams
  std::uint64_t frames_held = 0;       ///< frames parked while the receive bucket was empty
};

class SmuxSession {
 public:
  /// Starts the keep-alive clock at `now`. Throws std::invalid_argument for a
  /// version other than 1 or 2 (a programming error).
  SmuxSession(SessionConfig config, TimePoint now);

  // ----- transport side

  /// The next bytes of the peer's smux stream (the concatenation of the
  /// received Output payloads in sequence order; any split). The span is not
  /// referenced after the call: complete frames are processed, an incomplete
  /// one is copied into the parser, frames that arrive while the receive
  /// bucket is empty are copied into the held-input buffer (in order; NOPs
  /// are dropped) and processed when tokens return. Effects are events,
  /// output (refusal FINs) or death; nothing is returned. Ignored once dead.
  ///
  /// Peer frames (06 §5.4): SYN opens a stream (StreamOpened; ignored for an
  /// existing id; refused with a FIN beyond max_streams); PSH data is
  /// delivered (StreamData), or discarded without using tokens when the
  /// stream is unknown, closed locally, or already finished by the peer;
  /// an empty PSH is ignored; FIN → StreamFinished once (ignored for unknown
  /// or closed streams); NOP only proves liveness; UPD (v2) updates the
  /// stream's send window. A frame with a bad version, command or control
  /// length kills the session (SessionDead with the wire::Errc code) as soon
  /// as its header is complete — even behind held frames, which are then
  /// dropped (smux would find it only after the bucket refilled).
  void on_bytes(std::span<const std::uint8_t> bytes, TimePoint now);

  /// False while the receive bucket is empty (input is being held) or the
  /// session is dead: the driver should stop feeding until consumed() or
  /// close_stream() frees room. A little more input is tolerated (up to
  /// max_input_backlog held bytes).
  bool wants_input() const noexcept { return !dead_ && !receive_paused(); }

  /// Appends at most `max_bytes` bytes of the outgoing smux stream to `out`
  /// and returns how many. Frames may be cut anywhere (frame boundaries are
  /// unrelated to message boundaries, 06 §4); the rest follows on the next
  /// call. Order: a frame already started, then control frames (SYN, FIN,
  /// NOP, UPD), then data frames of at most max_frame_data bytes taken
  /// round-robin from the streams with queued data; a stream's FIN follows
  /// its last queued byte. Version 2: a stream's data also waits for the
  /// peer's window (in flight = written − peer consumed ≤ window, 06 §5.6; a
  /// UPD claiming more consumed than written counts as nothing in flight,
  /// where smux fails the write with ErrConsumed). Returns 0 once dead.
  std::size_t poll_output(std::vector<std::uint8_t>& out, std::size_t max_bytes, TimePoint now);
  /// The same, written into `out` (at most out.size() bytes): lets the
  /// caller place smux output straight where it is needed (a data-channel
  /// frame's payload) without an intermediate buffer.
  std::size_t poll_output(std::span<std::uint8_t> out, TimePoint now);
  /// True when poll_output would produce bytes.
  bool has_output() const;

  // ----- timers

  /// When on_timer must be called next (keep-alive only); nullopt when
  /// keep-alive is off or the session is dead.
  std::optional<TimePoint> next_deadline() const;
  /// Queues the NOP that is due (one, however late the call) and runs the
  /// liveness check: dead with Errc::keepalive_timeout when nothing arrived
  /// during a whole keep_alive_timeout period, unless the receive bucket is
  /// empty (06 §5.4). "Arrived" means any byte given to on_bytes (smux needs
  /// a frame header; counting bytes keeps a large frame trickling in over a
  /// slow link from passing for silence).
  void on_timer(TimePoint now);

  // ----- application side

  /// Opens a stream (SYN goes out first, before any of its data). Ids are
  /// 3, 5, 7, ... for the client role, 2, 4, ... for the server role;
  /// an id the peer already opened is skipped. Errors: session_dead,
  /// too_many_streams, stream_ids_exhausted (sticky).
  Result<std::uint32_t> open_stream(TimePoint now);

  /// Queues `data` on stream `id` (copied; all or nothing). Errors:
  /// session_dead, unknown_stream, stream_closed (after close_stream or
  /// shutdown_write), write_too_large (data.size() > max_stream_send_buffer),
  /// would_block (does not fit now; a StreamWritable event follows). An empty
  /// write succeeds and sends nothing. Allowed after the peer's FIN.
  std::error_code write(std::uint32_t id, std::span<const std::uint8_t> data, TimePoint now);

  /// Bytes write(id, ...) accepts now (0 for unknown or closed streams).
  std::size_t send_room(std::uint32_t id) const;

  /// smux Close(): FIN after the queued data, then the stream is forgotten.
  /// Data the peer sends afterwards is discarded (06 §4.5); undelivered
  /// events of the stream are dropped; its unconsumed bytes return to the
  /// receive bucket (so held input may be delivered now). Errors:
  /// session_dead, unknown_stream, stream_closed (already closed).
  std::error_code close_stream(std::uint32_t id, TimePoint now);

  /// Half close (newer smux CloseWrite, not used by SSM): FIN after the
  /// queued data, but the stream stays open for reading. close_stream()
  /// must still be called to release it (it sends no second FIN). Errors as
  /// close_stream.
  std::error_code shutdown_write(std::uint32_t id, TimePoint now);

  /// The application consumed `n` delivered bytes of `id`: returns them to
  /// the receive bucket, resumes held input, and in version 2 schedules a
  /// UPD (first read, then every max_stream_buffer/2 bytes; 06 §5.6). `n` is
  /// clamped to the stream's unconsumed bytes; unknown/closed ids are ignored.
  void consumed(std::uint32_t id, std::size_t n, TimePoint now);

  /// The next event, or nullopt. Events of streams closed with close_stream
  /// are skipped.
  std::optional<Event> poll_event();

  /// Gives a StreamData vector back for reuse (optional).
  void recycle(std::vector<std::uint8_t>&& buffer);

  /// Kills the session locally (smux Session.Close: no FIN is sent); a
  /// SessionDead(Errc::session_closed) event follows. No-op once dead.
  void close_session(TimePoint now);

  // ----- inspection

  bool dead() const noexcept { return dead_; }
  std::error_code error() const noexcept { return error_; }
  Role role() const noexcept { return config_.role; }
  const SessionConfig& config() const noexcept { return config_; }
  const Stats& stats() const noexcept { return stats_; }
  /// Stream records held (open, or closed with data/FIN still to send).
  std::size_t stream_count() const noexcept { return streams_.size(); }
  /// Delivered bytes not yet reported with consumed() (of live streams).
  std::size_t receive_buffered() const noexcept;
  /// Bytes of frames held while the receive bucket is empty.
  std::size_t held_input_bytes() const noexcept { return held_.size() - held_pos_; }
  /// Bytes of an incomplete frame inside the parser.
  std::size_t parser_buffered_bytes() const noexcept { return parser_.buffered_bytes(); }
  /// Data bytes queued by write() and not yet handed to poll_output.
  std::size_t queued_send_bytes() const noexcept { return queued_send_; }
  /// Bytes of pending control frames.
  std::size_t queued_control_bytes() const noexcept { return control_.size() - control_pos_; }
  /// Events not yet polled.
  std::size_t pending_events() const noexcept { return events_.size(); }

 private:
  enum class WriteState : std::uint8_t { open, fin_pending, fin_sent };
  static constexpr std::uint64_t kNoEvent = ~std::uint64_t{0};

  struct Stream {
    std::uint32_t id = 0;
    std::uint64_t serial = 0;  ///< distinguishes reuses of an id, for queued events
    // send side
    detail::ByteQueue send;
    WriteState write_state = WriteState::open;
    bool local_closed = false;    ///< close_stream called: forgotten once the FIN is out
    bool in_rr = false;           ///< listed in rr_
    bool blocked = false;         ///< a write got would_block, no StreamWritable yet
    bool waiting = false;         ///< blocked on the session's room: listed in waiters_
    bool turn = false;            ///< woken in its turn: may write while others wait
    bool window_blocked = false;  ///< v2: peer window exhausted, not in rr_
    // receive side
    bool peer_fin = false;
    std::size_t unconsumed = 0;           ///< delivered, not yet consumed()
    std::uint64_t data_event = kNoEvent;  ///< absolute index of the undelivered StreamData
    // version 2 (06 §5.6), modular uint32 arithmetic
    std::uint32_t num_written = 0, peer_consumed = 0, peer_window = wire::kSmuxInitialPeerWindow;
    std::uint32_t num_read = 0, incr = 0;
    bool read_once = false;
    bool upd_pending = false;
  };
  struct Slot {
    Event event;
    std::uint32_t id = 0;
    std::uint64_t serial = 0;  ///< 0: not a stream event
  };
  /// The frame poll_output is in the middle of.
  struct Current {
    std::uint8_t header[wire::kSmuxHeaderSize] = {};
    std::size_t header_pos = wire::kSmuxHeaderSize;
    Stream* stream = nullptr;
    std::size_t data_left = 0;
  };
  bool receive_paused() const noexcept { return bucket_ <= 0 || held_pos_ < held_.size(); }
  Stream* find(std::uint32_t id);
  const Stream* find(std::uint32_t id) const;
  std::size_t room(const Stream& s) const noexcept;
  std::size_t own_and_session_room(const Stream& s) const noexcept;
  void block(Stream& s);
  void unblock(Stream& s);
  void wait_for_turn(Stream& s);
  void drop_turn(Stream& s);
  void hand_out_turns();
  /// Version 2: bytes the peer's window still allows (06 §5.6); unlimited in v1.
  std::int64_t window(const Stream& s) const noexcept;
  void process_frame(const wire::SmuxFrameHeader& h, std::span<const std::uint8_t> data);
  void hold(const wire::SmuxFrameHeader& h, std::span<const std::uint8_t> data);
  void drain_held();
  void on_syn(std::uint32_t id);
  void on_fin(std::uint32_t id);
  void on_psh(std::uint32_t id, std::span<const std::uint8_t> data);
  void on_upd(std::uint32_t id, std::span<const std::uint8_t> data);
  void emit(Event e, const Stream* s);
  void append_control(wire::SmuxCmd cmd, std::uint32_t id);
  bool refill_control();
  bool start_data_frame();
  void frame_done();
  void maybe_send_fin(Stream& s);
  void forget(Stream& s);
  void schedule(Stream& s);
  void check_writable();
  std::size_t writable_threshold() const noexcept;
  void die(std::error_code ec);
  std::vector<std::uint8_t> take_spare();

  SessionConfig config_;
  wire::SmuxParser parser_;
  Stats stats_;
  bool dead_ = false;
  std::error_code error_;

  std::unordered_map<std::uint32_t, Stream> streams_;
  std::uint64_t next_serial_ = 1;
  std::uint32_t next_id_;  ///< last id used (1 / 0 initially: incremented before use)
  bool go_away_ = false;

  // receive
  std::int64_t bucket_;             ///< receive tokens left (may go negative by < one frame)
  std::vector<std::uint8_t> held_;  ///< frames (header + data) parked while the bucket is empty
  std::size_t held_pos_ = 0;
  util::RingQueue<Slot> events_;
  std::uint64_t events_base_ = 0;  ///< absolute index of events_.front()
  std::vector<std::vector<std::uint8_t>> spare_;

  // send
  std::vector<std::uint8_t> control_;  ///< encoded SYN/FIN/NOP/UPD frames, sent first
  std::size_t control_pos_ = 0;
  std::size_t pending_refusals_ = 0;
  bool nop_pending_ = false;
  util::RingQueue<std::uint32_t> upd_list_;           ///< v2 streams with upd_pending
  util::RingQueue<std::uint32_t> rr_;                 ///< streams with sendable data, round-robin order
  std::vector<std::uint32_t> blocked_;                ///< blocked on their own full buffer
  util::RingQueue<std::uint32_t> waiters_;            ///< blocked on the session's room, in order (may hold stale ids)
  std::size_t waiting_ = 0;                           ///< streams with `waiting` set
  std::size_t turns_out_ = 0;                         ///< streams with `turn` set
  std::size_t freed_since_check_ = 0;                 ///< send bytes drained since check_writable()
  bool wake_check_ = false;                           ///< a blocked stream's own buffer drained
  std::vector<std::vector<std::uint8_t>> send_pool_;  ///< storage of drained send queues
  std::size_t queued_send_ = 0;
  Current cur_;

  // keep-alive (06 §5.4)
  TimePoint next_nop_{};
  TimePoint next_check_{};
  bool data_ready_ = false;  ///< input arrived since the last liveness check
};

}  // namespace ssmc::mux
