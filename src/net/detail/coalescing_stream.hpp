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
#include <memory>
#include <span>
#include <utility>
#include <vector>

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

  template <class Buffers>
  static std::size_t take_buffered(State& st, const Buffers& buffers) {
    const std::size_t n =
        boost::asio::buffer_copy(buffers, boost::asio::buffer(st.rbuf.data() + st.rpos, st.rend - st.rpos));
    st.rpos += n;
    return n;
  }

  template <class Handler, class Buffers>
  static void read(const StatePtr& st, Handler handler, const Buffers& buffers) {
    if (st->rpos < st->rend)
      return post_result(st, std::move(handler), boost::system::error_code{}, take_buffered(*st, buffers));
    if (boost::asio::buffer_size(buffers) >= kDirectReadBytes) {
      st->next.async_read_some(buffers, [st, handler = std::move(handler)](boost::system::error_code ec,
                                                                           std::size_t n) mutable {
        if (n > 0) st->last_read = std::chrono::steady_clock::now();
        handler(ec, n);
      });
      return;
    }
    if (st->rbuf.empty()) st->rbuf.resize(kReadBufferBytes);
    st->next.async_read_some(boost::asio::buffer(st->rbuf), [st, handler = std::move(handler), buffers](
                                                                boost::system::error_code ec, std::size_t n) mutable {
      st->rpos = 0;
      st->rend = n;
      if (n > 0) st->last_read = std::chrono::steady_clock::now();
      const std::size_t got = take_buffered(*st, buffers);
      handler(got > 0 ? boost::system::error_code{} : ec, got);
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
