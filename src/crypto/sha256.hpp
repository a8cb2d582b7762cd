// SHA-256 and HMAC-SHA256 over OpenSSL (libcrypto).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ssmc::crypto {

/// A SHA-256 digest (32 bytes).
using Sha256Digest = std::array<std::uint8_t, 32>;

/// Returns SHA-256 of `data`. Thread-safe; does not allocate.
Sha256Digest sha256(std::span<const std::uint8_t> data);

/// Convenience overload for text.
Sha256Digest sha256(std::string_view data);

/// Incremental SHA-256 (for hashing a stream of chunks).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /// Adds bytes to the digest.
  void update(std::span<const std::uint8_t> data);
  /// Finishes and returns the digest; the object is reset for reuse.
  Sha256Digest finish();

private:
  void* ctx_;  // SHA256_CTX*
};

/// HMAC-SHA256 of `data` under `key`.
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::span<const std::uint8_t> data);

}  // namespace ssmc::crypto
