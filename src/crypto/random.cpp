#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace ssmc::crypto {
namespace {

class SystemRandom final : public RandomSource {
public:
  void fill(std::span<std::uint8_t> out) override {
    if (out.empty()) return;
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
      throw std::runtime_error("OpenSSL: RAND_bytes failed");
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
