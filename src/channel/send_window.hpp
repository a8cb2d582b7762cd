// Adaptive send window of the data channel: keeps the bytes in flight near
// gain × delivery rate × minimum RTT (the path's bandwidth-delay product),
// instead of a fixed 16 MiB. A fixed large window lets a bulk transfer queue
// megabytes ahead of a keystroke on the same session; this one lets the
// queue grow only as far as it buys throughput. Pure value type, time as an
// argument (sans-I/O); internal to ssmc, nothing of it reaches the wire.
//
// Estimates, both windowed so the window follows a changing path:
//   min RTT:        the smallest sample over the last kMinRttWindow;
//   delivery rate:  per ack, bytes acknowledged since the acked message was
//                   sent divided by the time since the acknowledgement that
//                   preceded its sending (BBR's delivery-rate sample), max
//                   over the last kRateWindow.
// With gain 2 the window doubles each round trip while the RTT stays at its
// minimum (start-up) and settles where queueing adds about one minimum RTT.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "channel/rtt.hpp"

namespace ssmc::channel {

inline constexpr double kWindowGain = 2.0;
/// Floor of the adaptive window: a keystroke queues behind at most this
/// much bulk data (or kMinWindowMessages of the largest messages sent, when
/// that is more). 32 KiB (with 1 KiB messages) kept full speed at loopback
/// round trips and halved the echo's queueing behind an upload against
/// 64 KiB (bench b4, issue #8).
inline constexpr std::size_t kMinAdaptiveWindowBytes = 32 * 1024;
/// The window holds at least this many of the largest messages sent: with a
/// floor of one 32 KiB message, 32 KiB payloads went stop-and-wait (half
/// the throughput).
inline constexpr std::size_t kMinWindowMessages = 2;
/// And, up to kFewMessagesCapBytes, this many: two 16 KiB messages in flight
/// cost uploads at 16 KiB payloads 40 % against four (bench b1, A/B runs).
inline constexpr std::size_t kFewMessages = 4;
inline constexpr std::size_t kFewMessagesCapBytes = 64 * 1024;
inline constexpr Duration kMinRttWindow = 10s;
inline constexpr Duration kRateWindow = 1s;

class AdaptiveWindow {
 public:
  explicit AdaptiveWindow(std::size_t max_bytes, std::size_t min_bytes = kMinAdaptiveWindowBytes)
      : min_bytes_(std::min(min_bytes, max_bytes)), max_bytes_(max_bytes), window_(min_bytes_) {}

  /// Stamp for a message being sent now: what has been delivered so far and when.
  struct Stamp {
    std::uint64_t delivered = 0;
    TimePoint delivered_time{};
  };
  Stamp stamp(TimePoint now) const { return {delivered_, delivered_ > 0 ? delivered_time_ : now}; }

  /// An acknowledgement of `bytes` for a message sent once, `rtt` after its
  /// sending, with the stamp it carried.
  void on_ack(std::size_t bytes, Duration rtt, const Stamp& sent, TimePoint now) {
    delivered_ += bytes;
    delivered_time_ = now;
    roll(now);
    if (rtt > Duration::zero()) {
      cur_min_rtt_ = cur_min_rtt_ == Duration::zero() ? rtt : std::min(cur_min_rtt_, rtt);
    }
    const Duration interval = now - sent.delivered_time;
    if (interval > Duration::zero()) {
      const double rate =
          static_cast<double>(delivered_ - sent.delivered) / std::chrono::duration<double>(interval).count();
      cur_max_rate_ = std::max(cur_max_rate_, rate);
    }
    update();
  }

  /// A message of `bytes` is about to be sent (raises the floor to
  /// kMinWindowMessages of the largest, up to the ceiling).
  void note_message(std::size_t bytes) {
    if (bytes <= largest_message_) return;
    largest_message_ = bytes;
    window_ = std::max(window_, floor());
  }

  /// Bytes allowed in flight (queued or unacknowledged).
  std::size_t window() const { return window_; }
  Duration min_rtt() const { return best_min_rtt(); }
  /// Bytes per second.
  double max_rate() const { return std::max(cur_max_rate_, prev_max_rate_); }

 private:
  void roll(TimePoint now) {
    if (rate_epoch_ == TimePoint{}) rate_epoch_ = rtt_epoch_ = now;
    if (now - rate_epoch_ >= kRateWindow) {
      prev_max_rate_ = now - rate_epoch_ >= 2 * kRateWindow ? 0 : cur_max_rate_;
      cur_max_rate_ = 0;
      rate_epoch_ = now;
    }
    if (now - rtt_epoch_ >= kMinRttWindow) {
      prev_min_rtt_ = now - rtt_epoch_ >= 2 * kMinRttWindow ? Duration::zero() : cur_min_rtt_;
      cur_min_rtt_ = Duration::zero();
      rtt_epoch_ = now;
    }
  }
  Duration best_min_rtt() const {
    if (cur_min_rtt_ == Duration::zero()) return prev_min_rtt_;
    if (prev_min_rtt_ == Duration::zero()) return cur_min_rtt_;
    return std::min(cur_min_rtt_, prev_min_rtt_);
  }
  void update() {
    const Duration rtt = best_min_rtt();
    const double rate = max_rate();
    if (rtt == Duration::zero() || rate <= 0) return;
    const double bdp = kWindowGain * rate * std::chrono::duration<double>(rtt).count();
    const double clamped = std::clamp(bdp, static_cast<double>(floor()), static_cast<double>(max_bytes_));
    window_ = static_cast<std::size_t>(clamped);
  }

  std::size_t floor() const {
    const std::size_t by_messages =
        std::max(kMinWindowMessages * largest_message_, std::min(kFewMessagesCapBytes, kFewMessages * largest_message_));
    return std::min(max_bytes_, std::max(min_bytes_, by_messages));
  }

  std::size_t min_bytes_, max_bytes_;
  std::size_t window_;
  std::size_t largest_message_ = 0;
  std::uint64_t delivered_ = 0;
  TimePoint delivered_time_{};
  TimePoint rate_epoch_{}, rtt_epoch_{};
  double cur_max_rate_ = 0, prev_max_rate_ = 0;
  Duration cur_min_rtt_{}, prev_min_rtt_{};
};

}  // namespace ssmc::channel
