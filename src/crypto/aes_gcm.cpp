#include "crypto/aes_gcm.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace ssmc::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

}  // namespace

std::vector<std::uint8_t> gcm_seal(const AesKey& key, const GcmNonce& nonce, std::span<const std::uint8_t> plain) {
  std::vector<std::uint8_t> out(kGcmNonceSize + plain.size() + kGcmTagSize);
  std::memcpy(out.data(), nonce.data(), kGcmNonceSize);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kGcmNonceSize, &len, plain.data(), static_cast<int>(plain.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kGcmNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, out.data() + kGcmNonceSize + plain.size()) !=
          1) {
    throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  }
  return out;
}

std::vector<std::uint8_t> gcm_seal(const AesKey& key, RandomSource& rng, std::span<const std::uint8_t> plain) {
  GcmNonce nonce;
  rng.fill(nonce);
  return gcm_seal(key, nonce, plain);
}

std::optional<std::vector<std::uint8_t>> gcm_open(const AesKey& key, std::span<const std::uint8_t> sealed) {
  if (sealed.size() < kGcmOverhead) return std::nullopt;
  const std::size_t n = sealed.size() - kGcmOverhead;
  std::vector<std::uint8_t> out(n);
  std::array<std::uint8_t, kGcmTagSize> tag;
  std::memcpy(tag.data(), sealed.data() + kGcmNonceSize + n, kGcmTagSize);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kGcmNonceSize, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace ssmc::crypto
