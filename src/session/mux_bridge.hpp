// MuxBridge: an smux session (src/mux) carried in a data channel's Output
// payloads, with one local socket per stream (06 §4). Used by the client
// (listener connections become new streams) and by the emulator's agent
// (streams the client opens are dialed).
//
// Back-pressure both ways: socket reads stop while the stream's smux send
// buffer is full; stream data is acknowledged to smux (consumed) only once
// written to the socket, so a slow local reader stalls its sender.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "channel/data_channel.hpp"
#include "mux/smux_session.hpp"
#include "util/result.hpp"
#include "util/ring_queue.hpp"

namespace ssmc::session {

namespace asio = boost::asio;
/// A local connection: TCP or Unix-domain.
using LocalSocket = asio::generic::stream_protocol::socket;

class MuxBridge : public std::enable_shared_from_this<MuxBridge> {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    /// Sends one Output payload of at most `max_size` bytes on the data
    /// channel, written in place by `fill` (DataChannel::send_with);
    /// would_block = retry after on_writable().
    virtual std::error_code send_payload(std::size_t max_size, channel::PayloadFill fill) = 0;
    /// Server role: the peer opened `id`; return the connected destination.
    /// On error the bridge FINs the stream.
    virtual asio::awaitable<Result<asio::ip::tcp::socket>> accept_stream(std::uint32_t /*id*/) {
      co_return std::make_error_code(std::errc::operation_not_supported);
    }
    virtual void stream_closed(std::uint32_t /*id*/) {}
    /// smux's receive buffer is full (true) / has room again (false): stop /
    /// resume delivering data-channel payloads (receiver back-pressure, 03 §3.3).
    virtual void pause_input(bool /*paused*/) {}
    virtual void session_failed(std::error_code /*error*/) {}
  };
  struct Options {
    mux::Role role = mux::Role::client;
    bool keep_alive = false;
    /// Largest Output payload produced (1024 like the official client unless told otherwise).
    std::size_t chunk = 1024;
    /// Socket read size.
    std::size_t read_size = 16 * 1024;
    /// smux input held while the receive window is full. pause_input() stops the
    /// data channel from delivering more, but what it already queued still
    /// arrives: up to its receive buffer, or one payload beyond it. A smaller
    /// backlog kills the session when a gap after frame loss is filled and the
    /// held messages arrive at once.
    std::size_t input_backlog = channel::kDefaultReceiveBufferBytes + 2 * wire::smux_frame_size(wire::kSmuxMaxLength);
  };
  struct Stats {
    std::uint64_t connections = 0, active = 0, failed = 0;
  };

  static std::shared_ptr<MuxBridge> create(asio::any_io_executor ex, Options options, Owner& owner);
  MuxBridge(asio::any_io_executor ex, Options options, Owner& owner);

  void start();
  /// Output payload from the data channel, in order.
  void on_payload(std::span<const std::uint8_t> payload);
  /// The data channel has room again.
  void on_writable();
  /// Client role: carry `socket` over a new stream. Errors: session dead, too many streams.
  std::error_code add_connection(LocalSocket socket);
  /// Closes every stream and socket; no more callbacks.
  void stop();
  bool dead() const { return mux_.dead(); }
  const Stats& stats() const { return stats_; }
  const mux::SmuxSession& mux() const { return mux_; }

 private:
  struct Conn {
    explicit Conn(asio::any_io_executor ex) : socket(ex), writable(ex), write_wake(ex) {}
    LocalSocket socket;
    asio::steady_timer writable;    ///< reader waits here on smux would_block
    asio::steady_timer write_wake;  ///< writer waits here for data
    util::RingQueue<std::vector<std::uint8_t>> to_socket;
    std::vector<asio::const_buffer> gather;  ///< the writer's buffer list (kept: no allocation per write)
    bool connected = false;
    bool writable_event = false;  ///< StreamWritable came since the reader's last refused write
    bool peer_finished = false;
    bool reading_done = false;
    bool closed = false;
  };

  void process();
  void flush();
  void rearm();
  void start_conn(std::uint32_t id, std::shared_ptr<Conn> conn);
  void close_conn(std::uint32_t id);
  void close_all_sockets();
  asio::awaitable<void> reader(std::uint32_t id, std::shared_ptr<Conn> conn);
  asio::awaitable<void> writer(std::uint32_t id, std::shared_ptr<Conn> conn);
  asio::awaitable<void> dial(std::uint32_t id, std::shared_ptr<Conn> conn);
  asio::awaitable<void> timer_loop();

  asio::any_io_executor ex_;
  Options options_;
  Owner& owner_;
  mux::SmuxSession mux_;
  std::map<std::uint32_t, std::shared_ptr<Conn>> conns_;
  std::vector<std::uint8_t> read_buf_;  ///< every reader's socket reads (one at a time: one thread)
  asio::steady_timer timer_;
  Stats stats_;
  bool channel_blocked_ = false;
  bool input_paused_ = false;
  bool in_process_ = false;
  bool stopped_ = false;
  bool failed_reported_ = false;
};

}  // namespace ssmc::session
