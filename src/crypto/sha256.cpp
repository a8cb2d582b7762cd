#include "crypto/sha256.hpp"

// OpenSSL's low-level SHA-256 (deprecated since 3.0 in favour of EVP, still
// maintained; same assembly, SHA extensions included). Used because EVP
// allocates a digest context per initialisation (EVP_DigestInit_ex2 frees and
// re-creates it) and looks up parameters by name on every call; the data path
// hashes every message twice (issue #8: no per-message heap allocation).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace ssmc::crypto {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

SHA256_CTX& ctx_of(void* p) { return *static_cast<SHA256_CTX*>(p); }

}  // namespace

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  SHA256_CTX ctx;
  Sha256Digest out{};
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(out.data(), &ctx) != 1) {
    throw std::runtime_error("OpenSSL: SHA256 failed");
  }
  return out;
}

Sha256Digest sha256(std::string_view data) { return sha256(bytes_of(data)); }

Sha256::Sha256() : ctx_(new SHA256_CTX) { SHA256_Init(&ctx_of(ctx_)); }

Sha256::~Sha256() { delete static_cast<SHA256_CTX*>(ctx_); }

void Sha256::update(std::span<const std::uint8_t> data) { SHA256_Update(&ctx_of(ctx_), data.data(), data.size()); }

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  SHA256_Final(out.data(), &ctx_of(ctx_));
  SHA256_Init(&ctx_of(ctx_));
  return out;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len) ==
      nullptr) {
    throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  }
  return out;
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  return hmac_sha256(bytes_of(key), bytes_of(data));
}

std::string to_hex(std::span<const std::uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace ssmc::crypto
