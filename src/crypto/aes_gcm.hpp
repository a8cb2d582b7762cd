// AES-256-GCM as used for KMS-encrypted sessions (spec 04 §6):
// payload = nonce(12) || ciphertext || tag(16), no additional data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crypto/random.hpp"

namespace ssmc::crypto {

inline constexpr std::size_t kAesKeySize = 32;    ///< AES-256
inline constexpr std::size_t kGcmNonceSize = 12;  ///< 04 §6
inline constexpr std::size_t kGcmTagSize = 16;    ///< 04 §6
inline constexpr std::size_t kGcmOverhead = kGcmNonceSize + kGcmTagSize;

using AesKey = std::array<std::uint8_t, kAesKeySize>;
using GcmNonce = std::array<std::uint8_t, kGcmNonceSize>;

/// Encrypts `plain` with `nonce`; returns nonce || ciphertext || tag.
std::vector<std::uint8_t> gcm_seal(const AesKey& key, const GcmNonce& nonce, std::span<const std::uint8_t> plain);
/// Same with a fresh random nonce from `rng`.
std::vector<std::uint8_t> gcm_seal(const AesKey& key, RandomSource& rng, std::span<const std::uint8_t> plain);
/// Decrypts nonce || ciphertext || tag. nullopt when too short or the tag does not verify.
std::optional<std::vector<std::uint8_t>> gcm_open(const AesKey& key, std::span<const std::uint8_t> sealed);

}  // namespace ssmc::crypto
