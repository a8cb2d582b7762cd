// Token bucket used to pace stream messages (messages/s and bytes/s) so a
// sender stays under a gateway's rate limits without sleeping.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace ssmc::channel {

class TokenBucket {
public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// `rate` tokens per second (0 = unlimited), at most `burst` stored.
  TokenBucket(double rate = 0, double burst = 0) : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

  bool unlimited() const { return rate_ <= 0; }

  /// Refills, then takes `n` tokens if available. A request larger than the
  /// burst is allowed once the bucket is full (so it cannot block forever).
  bool try_take(double n, TimePoint now) {
    if (unlimited()) return true;
    refill(now);
    const double need = std::min(n, burst_);
    if (tokens_ + 1e-9 < need) return false;
    tokens_ -= n;  // may go negative for n > burst: repaid before the next take
    return true;
  }

  /// When `n` tokens will be available (now if they are). Does not change state.
  TimePoint ready_at(double n, TimePoint now) const {
    if (unlimited()) return now;
    const double need = std::min(n, burst_) - tokens_at(now);
    if (need <= 0) return now;
    return now + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(need / rate_)) +
           std::chrono::microseconds(1);
  }

private:
  double tokens_at(TimePoint now) const {
    if (!last_ || now <= *last_) return tokens_;
    return std::min(burst_, tokens_ + std::chrono::duration<double>(now - *last_).count() * rate_);
  }
  void refill(TimePoint now) {
    if (!last_) last_ = now;
    const double dt = std::chrono::duration<double>(now - *last_).count();
    if (dt > 0) tokens_ = std::min(burst_, tokens_ + dt * rate_);
    last_ = std::max(*last_, now);
  }

  double rate_;
  double burst_;
  double tokens_;
  std::optional<TimePoint> last_;
};

}  // namespace ssmc::channel
