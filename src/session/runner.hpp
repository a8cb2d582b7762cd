// ChannelRunner: drives one DataChannel engine over WebSocket transports on
// the caller's io_context. The only place where engine, socket and timers
// meet (ARCHITECTURE.md "one loop, one timer per engine").
//
//   reader:  ws.read() -> [filter] -> engine.on_frame(now) -> pump()
//   writer:  engine.poll_output(now) -> [filter] -> ws.write(batch) ... ws.flush()
//            (woken by pump; one system call for what it wrote in a row)
//   timer:   engine.next_deadline() -> engine.on_timer(now) -> pump()
//   pump():  engine events -> ChannelHandler, wake writer, re-arm timer
//
// Transport loss (read/write error, dead peer, drop_transport()) keeps all
// engine state: the runner asks its TransportSource for the next WebSocket
// (client: ResumeSession + signed reconnect; emulator: the client's next
// leg) and the engine resends everything unacknowledged (03 §5, 02 §5).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "channel/data_channel.hpp"
#include "crypto/random.hpp"
#include "net/websocket.hpp"
#include "util/result.hpp"

namespace ssmc::session {

namespace asio = boost::asio;

/// Supplies WebSockets: the first one, and replacements after a loss.
class TransportSource {
 public:
  virtual ~TransportSource() = default;
  /// `attempt` counts replacements (0 = the initial connection). Returning an
  /// error ends the session with that error (the source decides about
  /// retries, backoff and budgets).
  virtual asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> next(unsigned attempt) = 0;
};

/// Application side of a session.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  /// Every engine event, in order. May call ChannelRunner::send/stop.
  virtual void on_event(channel::Event& event) = 0;
  /// The transport dropped (`error`) and the runner is getting a new one.
  virtual void on_transport_lost(std::error_code /*error*/) {}
  /// A replacement transport is up.
  virtual void on_transport_restored(unsigned /*attempt*/) {}
  /// The engine needs KMS (answer with runner.engine().on_kms_result()).
  virtual asio::awaitable<Result<channel::KmsResult>> kms(const channel::KmsRequest& /*request*/) {
    co_return std::make_error_code(std::errc::operation_not_supported);
  }
};

/// Optional frame-level fault injection between the engine and the socket
/// (the emulator's knobs). Each call returns the frames to pass on now
/// (none = dropped; two = duplicated; held frames may be released later).
class FrameFilter {
 public:
  virtual ~FrameFilter() = default;
  virtual void outgoing(std::span<const std::uint8_t> frame, channel::TimePoint now,
                        std::vector<std::vector<std::uint8_t>>& out) = 0;
  virtual void incoming(std::span<const std::uint8_t> frame, channel::TimePoint now,
                        std::vector<std::vector<std::uint8_t>>& out) = 0;
  /// Extra latency of one frame passed on by the last outgoing()/incoming()
  /// call (asked once per frame; zero = at once). A frame still delayed when
  /// its transport goes away is lost with it.
  virtual channel::Duration delay(bool /*outgoing*/) { return channel::Duration::zero(); }
};

struct RunnerOptions {
  channel::Config engine;
};

class ChannelRunner {
 public:
  ChannelRunner(asio::any_io_executor ex, RunnerOptions options, crypto::RandomSource& rng, TransportSource& source,
                ChannelHandler& handler, FrameFilter* filter = nullptr);
  ~ChannelRunner();
  ChannelRunner(const ChannelRunner&) = delete;
  ChannelRunner& operator=(const ChannelRunner&) = delete;

  /// Runs until stop() (returns {}) or until the transport source gives up
  /// (returns its error).
  asio::awaitable<std::error_code> run();

  /// Queues a stream message (see DataChannel::send) and wakes the writer.
  std::error_code send(wire::PayloadType type, std::span<const std::uint8_t> payload);
  /// The same with the payload written in place (DataChannel::send_with).
  std::error_code send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill);
  /// Ends run(): closes the transport after flushing what is queued for at
  /// most `flush_for` (0 = drop at once).
  void stop(channel::Duration flush_for = channel::Duration::zero());
  /// Queues a ready-made frame (e.g. a gateway's channel_closed) ahead of the
  /// engine's output on the current transport; dropped if it fails.
  void inject(std::vector<std::uint8_t> frame);
  /// Drops the current WebSocket as if the network failed (fault injection,
  /// tests); the runner then fetches a replacement from its source.
  void drop_transport();
  /// Re-evaluates the engine after a direct engine call (on_kms_result,
  /// set_receive_ready, ...): delivers events, wakes the writer, re-arms.
  void pump();

  channel::DataChannel& engine() { return engine_; }
  const channel::DataChannel& engine() const { return engine_; }
  bool stopping() const { return stopping_; }
  /// Replacement transports obtained so far.
  unsigned reconnects() const { return attempt_ ? attempt_ - 1 : 0; }
  const net::WsStats* transport_stats() const { return ws_ ? &ws_->stats() : nullptr; }

 private:
  asio::awaitable<void> reader(net::WebSocket* ws);
  asio::awaitable<void> writer(net::WebSocket* ws);
  asio::awaitable<void> timer_loop();
  void transport_failed(std::error_code ec);
  void task_done(int& counter);
  /// Filter delays: the frame reaches the engine / the socket `after` from now.
  void deliver_later(std::vector<std::uint8_t> frame, channel::Duration after);
  void write_later(std::vector<std::uint8_t> frame, channel::Duration after);
  void check_flush();
  std::optional<channel::TimePoint> deadline() const;
  void rearm_timer();
  void wake_writer();

  asio::any_io_executor ex_;
  crypto::RandomSource& rng_;
  channel::DataChannel engine_;
  TransportSource& source_;
  ChannelHandler& handler_;
  FrameFilter* filter_;

  std::unique_ptr<net::WebSocket> ws_;
  asio::steady_timer wake_writer_;
  asio::steady_timer engine_timer_;
  asio::steady_timer transport_down_;  ///< run() waits here while a transport is up
  std::vector<std::uint8_t> write_buf_;
  std::deque<std::vector<std::uint8_t>> injected_;
  std::vector<std::vector<std::uint8_t>> filtered_;
  std::size_t filtered_pos_ = 0;
  std::vector<std::vector<std::uint8_t>> in_filtered_;
  unsigned attempt_ = 0;
  int io_tasks_ = 0;   ///< reader + writer alive on the current transport
  int aux_tasks_ = 0;  ///< timer loop + KMS calls
  bool transport_ok_ = false;
  bool finished_ = false;
  std::error_code transport_error_;
  bool stopping_ = false;
  bool in_pump_ = false;
  bool writer_waiting_ = false;
  bool close_when_sent_ = false;  ///< stop(): all acked; the writer drains the socket, then closes
  channel::TimePoint armed_ = channel::TimePoint::min();  ///< engine_timer_'s expiry; min = loop not waiting
  std::optional<channel::TimePoint> flush_deadline_;
  std::error_code last_error_;
};

}  // namespace ssmc::session
