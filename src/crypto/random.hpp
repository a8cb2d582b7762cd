// Randomness as an injectable source, so engines and tests stay deterministic.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace ssmc::crypto {

/// A source of random bytes. Engines take one by reference; production code
/// passes `system_random()`, tests a seeded `DeterministicRandom`.
class RandomSource {
public:
  virtual ~RandomSource() = default;
  /// Fills `out` with random bytes.
  virtual void fill(std::span<std::uint8_t> out) = 0;
};

/// Cryptographically secure bytes from OpenSSL's RAND_bytes. Thread-safe.
/// Small requests (message ids, nonces) come from a per-thread block drawn
/// from RAND_bytes 4 KiB at a time; a forked child starts a fresh block.
RandomSource& system_random();

/// Reproducible pseudo-random bytes (std::mt19937_64) for tests and the
/// simulator. Never use for keys or nonces in production.
class DeterministicRandom final : public RandomSource {
public:
  explicit DeterministicRandom(std::uint64_t seed) : gen_(seed) {}
  void fill(std::span<std::uint8_t> out) override;

private:
  std::mt19937_64 gen_;
};

}  // namespace ssmc::crypto
