#include "session/mux_bridge.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "channel/data_channel.hpp"

namespace ssmc::session {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
mux::TimePoint now() { return mux::Clock::now(); }
/// A reader blocked on a full smux send buffer is woken by StreamWritable;
/// this is only a safety net.
constexpr auto kWritableSafetyWake = std::chrono::seconds(1);
/// A reader keeps at most this much storage for bytes held while it waits.
constexpr std::size_t kMaxHeldCapacity = 64 * 1024;
/// Most chunks one gathered socket write takes (IOV_MAX is 1024).
constexpr std::size_t kMaxGather = 64;
}  // namespace

std::shared_ptr<MuxBridge> MuxBridge::create(asio::any_io_executor ex, Options options, Owner& owner) {
  return std::make_shared<MuxBridge>(ex, options, owner);
}

MuxBridge::MuxBridge(asio::any_io_executor ex, Options options, Owner& owner)
    : ex_(ex),
      options_(options),
      owner_(owner),
      mux_(
          mux::SessionConfig{
              .role = options.role, .keep_alive = options.keep_alive, .max_input_backlog = options.input_backlog},
          now()),
      timer_(ex) {}

void MuxBridge::start() {
  if (options_.keep_alive) asio::co_spawn(ex_, timer_loop(), asio::detached);
}

asio::awaitable<void> MuxBridge::timer_loop() {
  auto self = shared_from_this();
  while (!stopped_) {
    auto d = mux_.next_deadline();
    if (!d) co_return;
    timer_.expires_at(*d);
    co_await timer_.async_wait(use_tuple);
    if (stopped_) co_return;
    if (now() >= *d) {
      mux_.on_timer(now());
      process();
    }
  }
}

void MuxBridge::rearm() { timer_.cancel(); }

void MuxBridge::on_payload(std::span<const std::uint8_t> payload) {
  if (stopped_) return;
  mux_.on_bytes(payload, now());
  process();
}

void MuxBridge::on_writable() {
  channel_blocked_ = false;
  process();  // flush, then the StreamWritable events the flush produced
}

void MuxBridge::flush() {
  // smux output goes straight into the data-channel frame's payload: the one
  // copy between a socket read (into smux's stream buffer) and the frame.
  while (!stopped_ && !channel_blocked_ && mux_.has_output()) {
    const auto t = now();
    std::size_t produced = 0;
    auto fill = [&](std::span<std::uint8_t> payload) { return produced = mux_.poll_output(payload, t); };
    auto ec = owner_.send_payload(options_.chunk, fill);
    if (ec == make_error_code(channel::Errc::would_block)) {
      channel_blocked_ = true;
      break;
    }
    if (ec || produced == 0) break;  // channel closed: nothing more can go out
  }
}

void MuxBridge::process() {
  if (in_process_ || stopped_) return;
  in_process_ = true;
  // Flushing polls smux output, which can raise events (StreamWritable for a
  // reader waiting on a full send buffer): loop until both are quiet.
  do {
    while (auto e = mux_.poll_event()) {
      if (auto* opened = std::get_if<mux::StreamOpened>(&*e)) {
        auto conn = std::make_shared<Conn>(ex_);
        conns_[opened->id] = conn;
        ++stats_.connections;
        asio::co_spawn(ex_, dial(opened->id, conn), asio::detached);
      } else if (auto* data = std::get_if<mux::StreamData>(&*e)) {
        auto it = conns_.find(data->id);
        if (it == conns_.end() || it->second->closed) {
          mux_.consumed(data->id, data->bytes.size(), now());
          mux_.recycle(std::move(data->bytes));
          continue;
        }
        it->second->to_socket.push_back(std::move(data->bytes));
        it->second->write_wake.cancel();
      } else if (auto* fin = std::get_if<mux::StreamFinished>(&*e)) {
        if (auto it = conns_.find(fin->id); it != conns_.end()) {
          it->second->peer_finished = true;
          it->second->write_wake.cancel();
        }
      } else if (auto* w = std::get_if<mux::StreamWritable>(&*e)) {
        if (auto it = conns_.find(w->id); it != conns_.end()) {
          it->second->writable_event = true;
          it->second->writable.cancel();
        }
      } else if (auto* dead = std::get_if<mux::SessionDead>(&*e)) {
        if (!failed_reported_) {
          failed_reported_ = true;
          owner_.session_failed(dead->error);
        }
        close_all_sockets();
      }
    }
    flush();
  } while (!stopped_ && mux_.pending_events() > 0);
  in_process_ = false;
  rearm();
  const bool paused = !mux_.wants_input() && !mux_.dead();
  if (paused != input_paused_) {
    input_paused_ = paused;
    owner_.pause_input(paused);
  }
}

std::error_code MuxBridge::add_connection(LocalSocket socket) {
  auto id = mux_.open_stream(now());
  if (!id) return id.error();
  auto conn = std::make_shared<Conn>(ex_);
  conn->socket = std::move(socket);
  conns_[*id] = conn;
  ++stats_.connections;
  start_conn(*id, conn);
  process();
  return {};
}

void MuxBridge::start_conn(std::uint32_t id, std::shared_ptr<Conn> conn) {
  conn->connected = true;
  ++stats_.active;
  asio::co_spawn(ex_, reader(id, conn), asio::detached);
  asio::co_spawn(ex_, writer(id, conn), asio::detached);
}

asio::awaitable<void> MuxBridge::dial(std::uint32_t id, std::shared_ptr<Conn> conn) {
  auto self = shared_from_this();
  auto s = co_await owner_.accept_stream(id);
  if (stopped_ || conn->closed) co_return;
  if (!s) {
    ++stats_.failed;
    close_conn(id);
    co_return;
  }
  conn->socket = LocalSocket(std::move(*s));
  start_conn(id, conn);
}

asio::awaitable<void> MuxBridge::reader(std::uint32_t id, std::shared_ptr<Conn> conn) {
  auto self = shared_from_this();
  // Wait for readability, then read into the bridge's one buffer: no read
  // buffer per connection (1,000 connections held 16 MiB of them), and the
  // bytes go into smux before the next co_await. Only what smux cannot take
  // at once is copied aside while this reader waits for room.
  boost::system::error_code nbec;
  conn->socket.non_blocking(true, nbec);
  std::vector<std::uint8_t> held;
  while (!conn->closed && !stopped_) {
    auto [wec] = co_await conn->socket.async_wait(LocalSocket::wait_read, use_tuple);
    if (conn->closed || stopped_) break;
    boost::system::error_code ec = wec;
    std::size_t n = 0;
    if (!ec) {
      if (read_buf_.size() != options_.read_size) read_buf_.resize(options_.read_size);
      n = conn->socket.read_some(asio::buffer(read_buf_), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    }
    if (ec) {
      // EOF (or error): our side is done sending; FIN after the queued data.
      (void)mux_.shutdown_write(id, now());
      process();
      break;
    }
    std::span<const std::uint8_t> data(read_buf_.data(), n);
    bool in_shared = true;
    while (!data.empty() && !conn->closed && !stopped_) {
      const std::size_t room = mux_.send_room(id);
      if (room == 0) {
        if (mux_.dead()) break;
        // A write that cannot fit is refused and registers the stream for a
        // StreamWritable event; without it only the timeout below would wake us.
        conn->writable_event = false;
        const auto wec2 = mux_.write(id, data.first(1), now());
        if (!wec2) {
          data = data.subspan(1);
          continue;
        }
        if (wec2 != make_error_code(mux::Errc::would_block)) break;
        // The refusal itself may have handed this stream a turn (smux's
        // fair share of the session's room): deliver that event first.
        if (mux_.pending_events() > 0) process();
        if (!conn->writable_event && !conn->closed && !stopped_) {
          if (in_shared) {  // other readers reuse read_buf_ while this one waits
            held.assign(data.begin(), data.end());
            data = held;
            in_shared = false;
          }
          conn->writable.expires_after(kWritableSafetyWake);
          co_await conn->writable.async_wait(use_tuple);
        }
        continue;
      }
      const std::size_t take = std::min(room, data.size());
      auto wec2 = mux_.write(id, data.first(take), now());
      if (wec2 == make_error_code(mux::Errc::would_block)) continue;
      if (wec2) break;
      data = data.subspan(take);
      process();
    }
    if (held.capacity() > kMaxHeldCapacity) std::vector<std::uint8_t>().swap(held);
  }
  conn->reading_done = true;
  if (conn->peer_finished && conn->to_socket.empty()) close_conn(id);
}

asio::awaitable<void> MuxBridge::writer(std::uint32_t id, std::shared_ptr<Conn> conn) {
  auto self = shared_from_this();
  for (;;) {
    while (conn->to_socket.empty() && !conn->peer_finished && !conn->closed && !stopped_) {
      conn->write_wake.expires_at(mux::TimePoint::max());
      co_await conn->write_wake.async_wait(use_tuple);
    }
    if (conn->closed || stopped_) break;
    if (conn->to_socket.empty()) {  // peer finished and everything written
      boost::system::error_code ec;
      conn->socket.shutdown(asio::socket_base::shutdown_send, ec);
      if (conn->reading_done) close_conn(id);
      break;
    }
    // Everything queued for this socket leaves in one gathered write
    // (a download delivers one chunk per data-channel message).
    conn->gather.clear();
    std::size_t size = 0;
    for (const auto& chunk : conn->to_socket) {
      if (conn->gather.size() == kMaxGather) break;
      conn->gather.emplace_back(chunk.data(), chunk.size());
      size += chunk.size();
    }
    const std::size_t chunks = conn->gather.size();
    auto [ec, n] = co_await asio::async_write(conn->socket, conn->gather, use_tuple);
    if (conn->closed || stopped_) break;
    for (std::size_t i = 0; i < chunks; ++i) {
      mux_.recycle(std::move(conn->to_socket.front()));
      conn->to_socket.pop_front();
    }
    mux_.consumed(id, size, now());
    if (ec) {
      close_conn(id);
      break;
    }
    process();
  }
}

void MuxBridge::close_conn(std::uint32_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  auto conn = it->second;
  conns_.erase(it);
  if (!conn->closed) {
    conn->closed = true;
    if (conn->connected && stats_.active > 0) --stats_.active;
    (void)mux_.close_stream(id, now());
    boost::system::error_code ec;
    conn->socket.close(ec);
    conn->writable.cancel();
    conn->write_wake.cancel();
  }
  owner_.stream_closed(id);
  process();
}

void MuxBridge::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  close_all_sockets();
  conns_.clear();
}

void MuxBridge::close_all_sockets() {
  for (auto& [id, c] : conns_) {
    c->closed = true;
    boost::system::error_code ec;
    c->socket.close(ec);
    c->writable.cancel();
    c->write_wake.cancel();
  }
}

}  // namespace ssmc::session
