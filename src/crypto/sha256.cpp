#include "crypto/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace ssmc::crypto {
namespace {

const EVP_MD* sha256_md() {
  // Fetched once: EVP_MD_fetch is expensive; the implicit EVP_sha256() lookup
  // per call costs more than hashing 1 KiB.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL: SHA256 unavailable");
  return md;
}

struct CtxHolder {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~CtxHolder() { EVP_MD_CTX_free(ctx); }
};

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  thread_local CtxHolder holder;
  Sha256Digest out{};
  unsigned int len = 0;
  if (holder.ctx == nullptr || EVP_DigestInit_ex2(holder.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(holder.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(holder.ctx, out.data(), &len) != 1) {
    throw std::runtime_error("OpenSSL: SHA256 failed");
  }
  return out;
}

Sha256Digest sha256(std::string_view data) { return sha256(bytes_of(data)); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: SHA256 init failed");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(std::span<const std::uint8_t> data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_DigestInit_ex2(ctx, sha256_md(), nullptr);
  return out;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
           &len) == nullptr) {
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
