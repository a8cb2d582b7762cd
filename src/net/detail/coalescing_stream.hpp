// Internal to src/net: a stream layer between Beast's WebSocket and the socket
// (or TLS) stream that saves system calls on the data path (issue #8 "batched
// writes where the protocol allows"):
//
//  - Writes: while the owner holds (WebSocket::write(..., batch = true)),
//    accepted bytes are appended to a buffer and written with one call when
//    the owner flushes (WebSocket::flush()) or kCoalesceLimitBytes are
//    buffered. Not holding, a write with nothing buffered goes straight to
//    the socket, as without this layer. A write that finds the buffer at its
//    limit waits until a flush drains it (backpressure).
//  - Reads: Beast reads frame headers and small messages through a 1536-byte
//    buffer, one read per ~1 KiB message; small reads are served from a
//    kReadBufferBytes buffer filled by one read. Large reads go straight
//    through (no copy).
//  - Frame mode (start_frames(), after the upgrade): a read never gets bytes
//    of more than one WebSocket frame, so between messages Beast holds no
//    bytes, and a whole binary message already buffered can be taken here
//    without Beast (peek_whole_frame / take_frame: no asynchronous operation
//    per message, issue #8). Before the upgrade response is read,
//    limit_reads_to_http_head() keeps Beast from reading past its header.
//
// Byte order on the wire is the order of the writes; nothing is reordered.
// An error of a buffered write is reported by the next write. Completion
// handlers of internal steps are called directly: one io_context thread.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "net/ws_frame.hpp"

namespace ssmc::net::detail {

/// Bytes held before a flush starts on its own.
inline constexpr std::size_t kCoalesceLimitBytes = 256 * 1024;
/// Read-ahead buffer for small reads.
inline constexpr std::size_t kReadBufferBytes = 64 * 1024;
/// Reads asking for at least this much bypass the read-ahead buffer.
inline constexpr std::size_t kDirectReadBytes = 16 * 1024;

template <class Next>
class CoalescingStream {
  struct State;
  using StatePtr = std::shared_ptr<State>;

 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  explicit CoalescingStream(Next&& next) : st_(std::make_shared<State>(std::move(next))) {}
  /// Operations hold the shared state, never `this`: moving is safe.
  CoalescingStream(CoalescingStream&&) = default;
  CoalescingStream& operator=(CoalescingStream&&) = delete;
  ~CoalescingStream() {
    if (!st_) return;
    st_->dead = true;
    st_->drained.cancel();
  }

  Next& next_layer() { return st_->next; }
  const Next& next_layer() const { return st_->next; }
  executor_type get_executor() { return st_->next.get_executor(); }
  std::uint64_t socket_writes() const { return st_->writes; }
  /// When bytes were last read from the next layer (the WebSocket's idle
  /// watchdog); the epoch before the first read.
  std::chrono::steady_clock::time_point last_read() const { return st_->last_read; }

  /// Until the end of an HTTP header ("\r\n\r\n") has been read, reads stop
  /// there (a client's upgrade: nothing after the 101 reaches Beast's buffer).
  void limit_reads_to_http_head() {
    st_->mode = ReadMode::http_head;
    st_->head_match = 0;
  }
  /// Frame mode from here on, if the next byte is known to start a frame
  /// (nothing read yet, or the HTTP header just ended); false otherwise
  /// (reads stay as they are; peek_whole_frame() finds nothing).
  bool start_frames() {
    auto& st = *st_;
    if (st.mode != ReadMode::raw || !st.at_boundary) return false;
    st.mode = ReadMode::frames;
    st.frame_left = 0;
    return true;
  }
  /// Frame mode, no read in progress, at a frame boundary: the next frame's
  /// header when header and payload are all buffered.
  std::optional<WsFrameHead> peek_whole_frame() const {
    const auto& st = *st_;
    if (st.mode != ReadMode::frames || st.reading || st.frame_left != 0 || st.rpos == st.rend) return std::nullopt;
    auto h = parse_ws_frame_head(std::span<const std::uint8_t>(st.rbuf.data() + st.rpos, st.rend - st.rpos));
    if (!h || h->frame_size() > st.rend - st.rpos) return std::nullopt;
    return h;
  }
  /// Takes the frame peek_whole_frame() just returned; its payload stays
  /// valid until the next read.
  std::span<std::uint8_t> take_frame(const WsFrameHead& h) {
    auto& st = *st_;
    std::span<std::uint8_t> payload(st.rbuf.data() + st.rpos + h.header_size, static_cast<std::size_t>(h.payload_size));
    st.rpos += static_cast<std::size_t>(h.frame_size());
    return payload;
  }

  /// While held, writes are buffered (up to kCoalesceLimitBytes); releasing
  /// starts writing what is buffered.
  void hold(bool on) {
    st_->hold = on;
    if (!on && !st_->flushing && !st_->pending.empty() && !st_->error) start_flush(st_);
  }

  // Direct appends: bytes framed by the owner (whole WebSocket frames),
  // added synchronously between Beast's writes. Safe at any time: a write
  // Beast hands this layer is taken whole (buffered, or written to the end
  // before anything else), so frames never interleave.

  /// `n` more bytes at the end of what is held, to be filled at once; then commit().
  std::span<std::uint8_t> append(std::size_t n) {
    auto& p = st_->pending;
    const std::size_t at = p.size();
    p.resize(at + n);
    st_->appended += n;
    return std::span<std::uint8_t>(p).subspan(at);
  }
  /// Starts writing unless held (and below the limit).
  void commit() {
    auto& st = *st_;
    if (!st.flushing && !st.error && (!st.hold || st.pending.size() >= kCoalesceLimitBytes)) start_flush(st_);
  }
  /// Sets whether writes are held without starting a flush (append() then commit()).
  void set_hold(bool on) { st_->hold = on; }
  /// At the limit: wait (async_wait_room) before appending more.
  bool full() const { return st_->pending.size() >= kCoalesceLimitBytes; }
  /// A write failed; every later one fails with this.
  const boost::system::error_code& error() const { return st_->error; }

  /// Completes when below the limit again (or the stream failed).
  template <class Token>
  auto async_wait_room(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [st = st_](auto handler) { wait_room(st, std::move(handler)); }, token);
  }

  /// Completes when every byte accepted so far was handed to the next layer
  /// (or the stream failed); bytes appended meanwhile do not delay it.
  template <class Token>
  auto async_drain(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [st = st_](auto handler) { drain(st, std::move(handler), st->appended); }, token);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [st = st_](auto handler, const Buffers& b) { write(st, std::move(handler), b); }, token, buffers);
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [st = st_](auto handler, const Buffers& b) { read(st, std::move(handler), b); }, token, buffers);
  }

  /// Beast's closing handshake ends here (async_teardown below): what is
  /// buffered goes out first, then the next layer's own teardown.
  template <class Handler>
  void teardown_after_drain(boost::beast::role_type role, Handler&& handler) {
    drain(
        st_,
        [st = st_, role, handler = std::forward<Handler>(handler)](boost::system::error_code ec) mutable {
          // Aborted: the socket is closed, or the stream itself is gone.
          if (st->dead || ec == boost::asio::error::operation_aborted)
            return handler(boost::system::error_code(boost::asio::error::operation_aborted));
          using boost::beast::websocket::async_teardown;
          async_teardown(role, st->next, std::move(handler));
        },
        st_->appended);
  }

 private:
  enum class ReadMode : std::uint8_t { raw, http_head, frames };

  struct State {
    explicit State(Next&& n)
        : next(std::move(n)), drained(next.get_executor(), boost::asio::steady_timer::time_point::max()) {}
    /// Here rather than in the stream object: an operation in flight (a
    /// flush outliving the WebSocket) keeps the socket/TLS stream alive.
    Next next;
    std::vector<std::uint8_t> pending;   ///< accepted, not yet handed to the socket
    std::vector<std::uint8_t> inflight;  ///< being written by the flush
    std::vector<std::uint8_t> rbuf;      ///< read-ahead (allocated on first use)
    std::size_t rpos = 0, rend = 0;
    bool flushing = false, hold = false, dead = false;
    std::uint64_t writes = 0;                 ///< write operations started on the next layer
    std::chrono::steady_clock::time_point last_read{};  ///< of bytes from the next layer
    ReadMode mode = ReadMode::raw;
    bool at_boundary = true;       ///< raw mode: nothing served yet, or an HTTP header just ended
    bool reading = false;          ///< the owner's read is in progress
    std::size_t head_match = 0;    ///< http_head: bytes of "\r\n\r\n" matched so far
    std::uint64_t frame_left = 0;  ///< frames: bytes of the current frame not served yet
    std::uint64_t appended = 0, written = 0;  ///< bytes accepted / handed to the next layer, ever
    boost::system::error_code error;          ///< sticky: a flush failed
    /// Cancelled whenever a flush ends: wakes whoever waits for room or a drain.
    boost::asio::basic_waitable_timer<boost::asio::steady_timer::clock_type,
                                      boost::asio::wait_traits<boost::asio::steady_timer::clock_type>, executor_type>
        drained;
  };

  /// Completes `handler` with `args` from the event loop, never inline.
  template <class Handler, class... Args>
  static void post_result(const StatePtr& st, Handler&& handler, Args... args) {
    auto ex = boost::asio::get_associated_executor(handler, st->next.get_executor());
    boost::asio::post(ex, boost::asio::append(std::forward<Handler>(handler), args...));
  }

  static void start_flush(const StatePtr& st) {
    st->flushing = true;
    ++st->writes;
    st->inflight.swap(st->pending);
    st->pending.clear();
    boost::asio::async_write(st->next, boost::asio::buffer(st->inflight),
                             [st](boost::system::error_code ec, std::size_t n) { flushed(st, ec, n); });
  }

  /// A write to the next layer ended: go on with what was buffered meanwhile.
  static void flushed(const StatePtr& st, boost::system::error_code ec, std::size_t n) {
    st->flushing = false;
    st->written += n;
    st->inflight.clear();
    if (ec && !st->error) st->error = ec;
    if (!st->dead && !st->error && !st->pending.empty() && (!st->hold || st->pending.size() >= kCoalesceLimitBytes))
      start_flush(st);
    st->drained.cancel();
  }

  // Beast's own writes: the upgrade request or response and control frames
  // (data messages are direct appends). They never wait for room: a pong or
  // a Close must not queue behind megabytes of data.
  template <class Handler, class Buffers>
  static void write(const StatePtr& st, Handler handler, const Buffers& buffers) {
    if (st->error) return post_result(st, std::move(handler), st->error, std::size_t{0});
    const std::size_t n = boost::asio::buffer_size(buffers);
    st->appended += n;
    if (!st->flushing && st->pending.empty() && !st->hold) {
      // Nothing to merge with: straight to the socket, written whole (so
      // that a direct append cannot land inside it).
      ++st->writes;
      st->flushing = true;
      boost::asio::async_write(st->next, buffers,
                               [st, handler = std::move(handler)](boost::system::error_code ec, std::size_t w) mutable {
                                 flushed(st, ec, w);
                                 handler(ec, w);
                               });
      return;
    }
    const std::size_t at = st->pending.size();
    st->pending.resize(at + n);
    boost::asio::buffer_copy(boost::asio::buffer(st->pending.data() + at, n), buffers);
    if (!st->flushing && (!st->hold || st->pending.size() >= kCoalesceLimitBytes)) start_flush(st);
    post_result(st, std::move(handler), boost::system::error_code{}, n);
  }

  template <class Handler>
  static void drain(const StatePtr& st, Handler handler, std::uint64_t target) {
    if (st->error || st->written >= target) return post_result(st, std::move(handler), st->error);
    if (!st->flushing) start_flush(st);
    st->drained.async_wait([st, handler = std::move(handler), target](boost::system::error_code) mutable {
      if (st->dead) return handler(boost::system::error_code(boost::asio::error::operation_aborted));
      drain(st, std::move(handler), target);
    });
  }

  template <class Handler>
  static void wait_room(const StatePtr& st, Handler handler) {
    if (!st->flushing && !st->error && st->pending.size() >= kCoalesceLimitBytes) start_flush(st);
    if (st->error || st->pending.size() < kCoalesceLimitBytes) return post_result(st, std::move(handler), st->error);
    st->drained.async_wait([st, handler = std::move(handler)](boost::system::error_code) mutable {
      if (st->dead) return handler(boost::system::error_code(boost::asio::error::operation_aborted));
      wait_room(st, std::move(handler));
    });
  }

  /// Serves buffered bytes into `buffers` within the read mode's limits;
  /// 0 when more input is needed first.
  template <class Buffers>
  static std::size_t serve(State& st, const Buffers& buffers) {
    std::size_t limit = std::min(st.rend - st.rpos, boost::asio::buffer_size(buffers));
    if (limit == 0) return 0;
    const std::uint8_t* at = st.rbuf.data() + st.rpos;
    switch (st.mode) {
      case ReadMode::raw:
        st.at_boundary = false;
        break;
      case ReadMode::http_head: {
        static constexpr std::string_view kEnd = "\r\n\r\n";
        for (std::size_t i = 0; i < limit; ++i) {
          const char c = static_cast<char>(at[i]);
          st.head_match = c == kEnd[st.head_match] ? st.head_match + 1 : (c == kEnd[0] ? 1 : 0);
          if (st.head_match == kEnd.size()) {
            limit = i + 1;
            st.mode = ReadMode::raw;  // a refused upgrade's body, if any, follows
            st.at_boundary = true;
            break;
          }
        }
        break;
      }
      case ReadMode::frames:
        if (st.frame_left == 0) {
          const auto h = parse_ws_frame_head(std::span<const std::uint8_t>(at, st.rend - st.rpos));
          if (!h) return 0;  // a partial header: read more
          if (h->payload_size >> 63) {
            // Not a length (RFC 6455 §5.2: the most significant bit must be
            // 0): Beast refuses it; bytes pass as they are from here on.
            st.mode = ReadMode::raw;
            st.at_boundary = false;
            break;
          }
          st.frame_left = h->frame_size();
        }
        limit = static_cast<std::size_t>(std::min<std::uint64_t>(limit, st.frame_left));
        st.frame_left -= limit;
        break;
    }
    const std::size_t n = boost::asio::buffer_copy(buffers, boost::asio::buffer(at, limit));
    st.rpos += n;
    return n;
  }

  template <class Handler, class Buffers>
  static void read(const StatePtr& st, Handler handler, const Buffers& buffers) {
    st->reading = true;
    auto done = [st, handler = std::move(handler)](boost::system::error_code ec, std::size_t n) mutable {
      st->reading = false;
      handler(ec, n);
    };
    const std::size_t want = boost::asio::buffer_size(buffers);
    if (want == 0) return post_result(st, std::move(done), boost::system::error_code{}, std::size_t{0});
    if (const std::size_t n = serve(*st, buffers); n > 0)
      return post_result(st, std::move(done), boost::system::error_code{}, n);
    // Large reads go straight into the caller's (first) buffer: no copy.
    const boost::asio::mutable_buffer first = *boost::asio::buffer_sequence_begin(buffers);
    const bool direct = st->rpos == st->rend && first.size() >= kDirectReadBytes &&
                        (st->mode == ReadMode::raw || (st->mode == ReadMode::frames && st->frame_left > 0));
    if (direct) {
      // At most the rest of the current frame (frame mode).
      const std::size_t limit = st->mode == ReadMode::frames
                                    ? static_cast<std::size_t>(std::min<std::uint64_t>(first.size(), st->frame_left))
                                    : first.size();
      st->next.async_read_some(boost::asio::buffer(first, limit),
                               [st, done = std::move(done)](boost::system::error_code ec, std::size_t n) mutable {
                                 if (n > 0) st->last_read = std::chrono::steady_clock::now();
                                 if (st->mode == ReadMode::frames) st->frame_left -= n;
                                 if (st->mode == ReadMode::raw) st->at_boundary = false;
                                 done(ec, n);
                               });
      return;
    }
    fill(st, std::move(done), buffers);
  }

  /// Reads more into the read-ahead buffer (after what it holds), then serves.
  template <class Handler, class Buffers>
  static void fill(const StatePtr& st, Handler handler, const Buffers& buffers) {
    auto& s = *st;
    if (s.rbuf.empty()) s.rbuf.resize(kReadBufferBytes);
    if (s.rpos > 0) {
      if (s.rend > s.rpos) std::memmove(s.rbuf.data(), s.rbuf.data() + s.rpos, s.rend - s.rpos);
      s.rend -= s.rpos;
      s.rpos = 0;
    }
    // (Never full here: what is held is at most a partial frame header.)
    s.next.async_read_some(
        boost::asio::buffer(s.rbuf.data() + s.rend, s.rbuf.size() - s.rend),
        [st, handler = std::move(handler), buffers](boost::system::error_code ec, std::size_t n) mutable {
          if (n > 0) {
            st->rend += n;
            st->last_read = std::chrono::steady_clock::now();
          }
          if (const std::size_t got = serve(*st, buffers); got > 0) return handler(boost::system::error_code{}, got);
          if (!ec && n == 0) ec = boost::asio::error::eof;
          if (ec) return handler(ec, std::size_t{0});
          fill(st, std::move(handler), buffers);  // a frame header still incomplete
        });
  }

  StatePtr st_;
};

// Beast's WebSocket closes its next layer through these (found by ADL).
// The synchronous one is for Beast's synchronous close, which ssmc does not
// use: it tears down at once, without flushing.
template <class Next>
void teardown(boost::beast::role_type role, CoalescingStream<Next>& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, CoalescingStream<Next>& stream, Handler&& handler) {
  stream.teardown_after_drain(role, std::forward<Handler>(handler));
}

}  // namespace ssmc::net::detail
