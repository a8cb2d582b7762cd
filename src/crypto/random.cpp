#include "crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <stdexcept>

namespace ssmc::crypto {
namespace {

/// Small requests are served from blocks of this many bytes drawn at once:
/// a RAND_bytes call costs about 1.2 µs for 16 bytes and 2 µs for 4 KiB, and
/// every data-channel message takes 16 bytes for its id (issue #8).
constexpr std::size_t kRandomBlock = 4096;
/// Requests of at least this size go straight to RAND_bytes.
constexpr std::size_t kDirectRequest = 256;

/// Bumped in a forked child, so that it never hands out the bytes its
/// parent's buffer held (the parent may hand out the same ones).
std::atomic<unsigned> g_fork_generation{0};
void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

void rand_bytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throw std::runtime_error("OpenSSL: RAND_bytes failed");
}

struct Block {
  std::array<std::uint8_t, kRandomBlock> bytes{};
  std::size_t pos = kRandomBlock;  ///< bytes before pos were handed out (and wiped)
  unsigned generation = 0;
  ~Block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

class SystemRandom final : public RandomSource {
 public:
  SystemRandom() { pthread_atfork(nullptr, nullptr, on_fork_child); }

  void fill(std::span<std::uint8_t> out) override {
    if (out.empty()) return;
    if (out.size() >= kDirectRequest) return rand_bytes(out);
    thread_local Block block;  // per thread: no locking
    const unsigned generation = g_fork_generation.load(std::memory_order_relaxed);
    if (block.generation != generation) {
      block.generation = generation;
      block.pos = kRandomBlock;
    }
    for (std::size_t done = 0; done < out.size();) {
      if (block.pos == kRandomBlock) {
        rand_bytes(block.bytes);
        block.pos = 0;
      }
      const std::size_t n = std::min(out.size() - done, kRandomBlock - block.pos);
      std::memcpy(out.data() + done, block.bytes.data() + block.pos, n);
      OPENSSL_cleanse(block.bytes.data() + block.pos, n);  // what was handed out does not stay here
      block.pos += n;
      done += n;
    }
  }
};

}  // namespace

RandomSource& system_random() {
  static SystemRandom instance;
  return instance;
}

void DeterministicRandom::fill(std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = gen_();
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(v >> (8 * b));
    }
  }
}

}  // namespace ssmc::crypto
