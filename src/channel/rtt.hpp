// RTT/RTO estimator of the data channel (spec 03 §6): RFC 6298 shape with the
// official constants. Pure value type; time comes in as durations.
#pragma once

#include <algorithm>
#include <chrono>

namespace ssmc::channel {

using Duration = std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using namespace std::chrono_literals;

inline constexpr Duration kInitialSrtt = 100ms;      ///< DefaultRoundTripTime (03 §1)
inline constexpr Duration kInitialRttVar = 0ms;      ///< DefaultRoundTripTimeVariation (03 §1)
inline constexpr Duration kInitialRto = 200ms;       ///< DefaultTransmissionTimeout (03 §1)
inline constexpr Duration kClockGranularity = 10ms;  ///< ClockGranularity G (03 §1)
inline constexpr Duration kMaxRto = 1s;              ///< MaxTransmissionTimeout (03 §1)

class RttEstimator {
public:
  /// Folds one round-trip sample in (03 §6): RTTVAR uses the old SRTT.
  void sample(Duration r) {
    const Duration diff = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (rttvar_ * 3 + diff) / 4;  // beta = 1/4
    srtt_ = (srtt_ * 7 + r) / 8;         // alpha = 1/8
    rto_ = std::min(srtt_ + std::max(kClockGranularity, 4 * rttvar_), kMaxRto);
  }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  Duration rto() const { return rto_; }

private:
  Duration srtt_ = kInitialSrtt;
  Duration rttvar_ = kInitialRttVar;
  Duration rto_ = kInitialRto;
};

}  // namespace ssmc::channel
