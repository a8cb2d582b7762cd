#include "session/runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ssmc::session {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// Passes through the event loop the writer makes, finding nothing more to
/// write, before it ends a batch with a flush.
constexpr int kBatchIdlePasses = 1;
/// A batch is flushed after this many bytes even while frames keep coming,
/// so that no frame waits behind more than this (and round-trip samples stay
/// close to the network's).
constexpr std::size_t kMaxBatchBytes = 64 * 1024;
/// How long the engine timer waits when the engine has no deadline (see
/// timer_loop: it must wait at a finite time).
constexpr auto kIdleTimerWake = std::chrono::hours(1);
channel::TimePoint now() { return channel::Clock::now(); }
}  // namespace

ChannelRunner::ChannelRunner(asio::any_io_executor ex, RunnerOptions options, crypto::RandomSource& rng,
                             TransportSource& source, ChannelHandler& handler, FrameFilter* filter)
    : ex_(ex),
      rng_(rng),
      engine_(std::move(options.engine), rng, now()),
      source_(source),
      handler_(handler),
      filter_(filter),
      wake_writer_(ex),
      engine_timer_(ex),
      transport_down_(ex) {}

ChannelRunner::~ChannelRunner() = default;

asio::awaitable<std::error_code> ChannelRunner::run() {
  ++aux_tasks_;
  asio::co_spawn(ex_, timer_loop(), asio::detached);
  while (!stopping_) {
    auto ws = co_await source_.next(attempt_);
    if (!ws) {
      if (!stopping_) last_error_ = ws.error();
      stopping_ = true;
      break;
    }
    if (stopping_) {
      (*ws)->abort();
      break;
    }
    if (attempt_ > 0) handler_.on_transport_restored(attempt_);
    ++attempt_;
    ws_ = std::move(*ws);
    transport_ok_ = true;
    filtered_.clear();
    filtered_pos_ = 0;
    engine_.on_transport_ready(now());
    io_tasks_ = 2;
    asio::co_spawn(ex_, reader(ws_.get()), asio::detached);
    asio::co_spawn(ex_, writer(ws_.get()), asio::detached);
    pump();
    while (io_tasks_ > 0) {
      transport_down_.expires_at(channel::TimePoint::max());
      co_await transport_down_.async_wait(use_tuple);
    }
    ws_.reset();  // no operation is outstanding on it any more
    if (!stopping_) {
      engine_.on_transport_lost();
      handler_.on_transport_lost(transport_error_);
    }
  }
  finished_ = true;
  engine_timer_.cancel();
  while (aux_tasks_ > 0) {
    transport_down_.expires_at(channel::TimePoint::max());
    co_await transport_down_.async_wait(use_tuple);
  }
  co_return last_error_;
}

void ChannelRunner::deliver_later(std::vector<std::uint8_t> frame, channel::Duration after) {
  ++aux_tasks_;
  asio::co_spawn(
      ex_,
      [this, frame = std::move(frame), after, leg = attempt_]() -> asio::awaitable<void> {
        asio::steady_timer t(ex_, after);
        co_await t.async_wait(use_tuple);
        if (!finished_ && transport_ok_ && leg == attempt_) {
          engine_.on_frame(frame, now());
          pump();
        }
        task_done(aux_tasks_);
      },
      asio::detached);
}

void ChannelRunner::write_later(std::vector<std::uint8_t> frame, channel::Duration after) {
  ++aux_tasks_;
  asio::co_spawn(
      ex_,
      [this, frame = std::move(frame), after, leg = attempt_]() mutable -> asio::awaitable<void> {
        asio::steady_timer t(ex_, after);
        co_await t.async_wait(use_tuple);
        if (!finished_ && transport_ok_ && leg == attempt_) {
          injected_.push_back(std::move(frame));
          wake_writer();
        }
        task_done(aux_tasks_);
      },
      asio::detached);
}

void ChannelRunner::task_done(int& counter) {
  --counter;
  transport_down_.cancel();
}

asio::awaitable<void> ChannelRunner::reader(net::WebSocket* ws) {
  while (transport_ok_) {
    auto m = co_await ws->read();
    if (!m) {
      transport_failed(m.error());
      break;
    }
    if (!transport_ok_) break;
    const auto t = now();
    if (filter_) {
      in_filtered_.clear();
      filter_->incoming(m->data, t, in_filtered_);
      for (auto& f : in_filtered_) {
        if (const auto d = filter_->delay(false); d > channel::Duration::zero())
          deliver_later(std::move(f), d);
        else
          engine_.on_frame(f, t);
      }
    } else {
      engine_.on_frame(m->data, t);
    }
    pump();
  }
  task_done(io_tasks_);
}

asio::awaitable<void> ChannelRunner::writer(net::WebSocket* ws) {
  int idle_passes = 0;      // passes through the event loop with nothing to write, since the last frame
  std::size_t batched = 0;  // bytes written since the last flush
  while (transport_ok_) {
    if (close_when_sent_) {
      ws->flush();
      (void)co_await ws->drain();  // bounded: at the flush deadline the timer aborts the socket
      transport_failed(make_error_code(net::Errc::closed));
      break;
    }
    std::span<const std::uint8_t> frame;
    if (!injected_.empty()) {
      write_buf_ = std::move(injected_.front());
      injected_.pop_front();
      frame = write_buf_;
    } else if (filtered_pos_ < filtered_.size()) {
      write_buf_.swap(filtered_[filtered_pos_++]);
      if (const auto d = filter_->delay(true); d > channel::Duration::zero()) {
        write_later(std::move(write_buf_), d);
        write_buf_ = {};
        continue;
      }
      frame = write_buf_;
    } else {
      const auto t = now();
      auto f = engine_.poll_output(t);
      if (!f && idle_passes < kBatchIdlePasses) {
        // Before ending the batch, let what is ready run (socket reads that
        // queue more output): one pass through the event loop per batch, for
        // fewer, larger writes. (Measured at 1 KiB payloads: one pass beat
        // none and two, and a pass after every frame.)
        ++idle_passes;
        co_await asio::post(ex_, asio::use_awaitable);
        continue;
      }
      if (!f) {
        idle_passes = 0;
        batched = 0;
        ws->flush();  // the batch ends: write what the frames below left held
        wake_writer_.expires_at(channel::TimePoint::max());
        writer_waiting_ = true;
        co_await wake_writer_.async_wait(use_tuple);
        writer_waiting_ = false;
        continue;
      }
      // A stream message that just went out has a retransmission deadline
      // now: without this, one sent when nothing else happened (the last
      // message of a command, a lone keystroke) had no timer until the next
      // frame came in, and a lost copy was never resent.
      rearm_timer();
      if (filter_) {
        filtered_.clear();
        filtered_pos_ = 0;
        filter_->outgoing(*f, t, filtered_);
        continue;
      }
      write_buf_.assign(f->begin(), f->end());
      frame = write_buf_;
      idle_passes = 0;
    }
    // Batched: consecutive frames leave in one system call (flushed above
    // when the engine has no more to send).
    if (auto ec = co_await ws->write(frame, true, true)) {
      transport_failed(ec);
      break;
    }
    if ((batched += frame.size()) >= kMaxBatchBytes) {
      batched = 0;
      ws->flush();  // goes on appending while this is written
    }
    check_flush();
  }
  task_done(io_tasks_);
}

std::optional<channel::TimePoint> ChannelRunner::deadline() const {
  auto deadline = engine_.next_deadline();
  if (flush_deadline_ && (!deadline || *flush_deadline_ < *deadline)) deadline = flush_deadline_;
  return deadline;
}

void ChannelRunner::rearm_timer() {
  // Only an earlier deadline needs the timer loop now; a later one is found
  // when the armed timer fires (one cheap early wake-up instead of a timer
  // reset per message).
  const auto d = deadline();
  if (d && *d < armed_) engine_timer_.cancel();
}

asio::awaitable<void> ChannelRunner::timer_loop() {
  while (!finished_) {
    auto deadline = this->deadline();
    // With no deadline the timer still waits at a finite time: Asio keeps
    // timers that wait until time_point::max() in its heap too, and a timer
    // that lands on top of the heap reprograms the kernel timer (one
    // timerfd_settime per wait). A finite engine timer stays below every
    // wake-up timer (they wait until max()), so waking the writer or a
    // stream costs no system call.
    armed_ = deadline ? *deadline : now() + kIdleTimerWake;
    engine_timer_.expires_at(armed_);
    co_await engine_timer_.async_wait(use_tuple);
    armed_ = channel::TimePoint::min();
    if (finished_) break;
    const auto t = now();
    if (deadline && t >= *deadline) {
      engine_.on_timer(t);
      pump();
    }
  }
  task_done(aux_tasks_);
}

void ChannelRunner::transport_failed(std::error_code ec) {
  if (!transport_ok_) return;
  transport_ok_ = false;
  transport_error_ = ec;
  if (ws_) ws_->abort();
  wake_writer_.cancel();
}

void ChannelRunner::pump() {
  if (in_pump_) return;
  in_pump_ = true;
  while (auto e = engine_.poll_event()) {
    if (auto* kms = std::get_if<channel::KmsRequest>(&*e)) {
      ++aux_tasks_;
      asio::co_spawn(
          ex_,
          [this, request = *kms]() -> asio::awaitable<void> {
            auto result = co_await handler_.kms(request);
            if (!finished_) {
              engine_.on_kms_result(std::move(result), now());
              pump();
            }
            task_done(aux_tasks_);
          },
          asio::detached);
    }
    handler_.on_event(*e);
    if (auto* data = std::get_if<channel::DataReceived>(&*e)) engine_.recycle(std::move(data->bytes));
  }
  in_pump_ = false;
  check_flush();
  wake_writer();
  rearm_timer();
}

void ChannelRunner::wake_writer() {
  if (writer_waiting_) wake_writer_.cancel();
}

std::error_code ChannelRunner::send(wire::PayloadType type, std::span<const std::uint8_t> payload) {
  auto ec = engine_.send(type, payload, now());
  if (!ec) {
    wake_writer();
    rearm_timer();
  }
  return ec;
}

std::error_code ChannelRunner::send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill) {
  auto ec = engine_.send_with(type, max_size, fill, now());
  if (!ec) {
    wake_writer();
    rearm_timer();
  }
  return ec;
}

void ChannelRunner::stop(channel::Duration flush_for) {
  if (stopping_) return;
  stopping_ = true;
  if (flush_for > channel::Duration::zero() && transport_ok_) {
    flush_deadline_ = now() + flush_for;
    pump();
  } else {
    transport_failed(make_error_code(net::Errc::closed));
  }
}

void ChannelRunner::check_flush() {
  if (!stopping_ || !transport_ok_ || !flush_deadline_) return;
  if (now() >= *flush_deadline_) {
    transport_failed(make_error_code(net::Errc::closed));
  } else if (engine_.unacked_messages() == 0 && injected_.empty()) {
    // Everything is out of the engine, but the last frames (a batch, an
    // injected channel_closed) may still be held by the WebSocket: the
    // writer drains it, then closes.
    close_when_sent_ = true;
    wake_writer();
  }
}

void ChannelRunner::inject(std::vector<std::uint8_t> frame) {
  injected_.push_back(std::move(frame));
  wake_writer();
}

void ChannelRunner::drop_transport() { transport_failed(make_error_code(net::Errc::closed)); }

}  // namespace ssmc::session
