// AES-256-GCM vectors of spec 04 §6.1 and basic properties.
#include <gtest/gtest.h>

#include "crypto/aes_gcm.hpp"
#include "crypto/sha256.hpp"
#include "support/transcript.hpp"

namespace ssmc::crypto {
namespace {

std::array<std::uint8_t, 64> data_key() {
  std::array<std::uint8_t, 64> k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}
AesKey half(const std::array<std::uint8_t, 64>& k, std::size_t at) {
  AesKey out;
  std::copy_n(k.begin() + static_cast<std::ptrdiff_t>(at), 32, out.begin());
  return out;
}

TEST(AesGcm, SpecVectorClientToAgent) {
  GcmNonce nonce;
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i);
  const std::uint8_t plain[] = {'l', 's', '\n'};
  auto sealed = gcm_seal(half(data_key(), 32), nonce, plain);
  EXPECT_EQ(to_hex(sealed), "000102030405060708090a0b302157090cf9c165b82a99da9fc1a070d21cbb");
}

TEST(AesGcm, SpecVectorAgentToClientOpens) {
  auto sealed = test::from_hex("a0a1a2a3a4a5a6a7a8a9aaab8e7d10412ab469edeb6fa84bae4731a07dbf70c564");
  auto plain = gcm_open(half(data_key(), 0), sealed);
  ASSERT_TRUE(plain);
  EXPECT_EQ(std::string(plain->begin(), plain->end()), "hello");
  // The wrong half of the key, a flipped bit, or truncation fail.
  EXPECT_FALSE(gcm_open(half(data_key(), 32), sealed));
  sealed[15] ^= 1;
  EXPECT_FALSE(gcm_open(half(data_key(), 0), sealed));
  EXPECT_FALSE(gcm_open(half(data_key(), 0), std::span(sealed).first(27)));
}

TEST(AesGcm, RandomNoncesDifferAndRoundTrip) {
  DeterministicRandom rng(3);
  const AesKey key = half(data_key(), 0);
  const std::uint8_t plain[] = {1, 2, 3, 4};
  auto a = gcm_seal(key, rng, plain);
  auto b = gcm_seal(key, rng, plain);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), sizeof plain + kGcmOverhead);
  auto pa = gcm_open(key, a);
  ASSERT_TRUE(pa);
  EXPECT_TRUE(std::equal(pa->begin(), pa->end(), std::begin(plain)));
}

TEST(Sha256, KnownDigestsAndHmac) {
  EXPECT_EQ(to_hex(sha256(std::string_view{})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("ls\n")), "e9fe7e88e89d532379960402db8f9458194dae772aa5fda5a12806c22215f0ff");
  Sha256 inc;
  inc.update(std::span(reinterpret_cast<const std::uint8_t*>("l"), 1));
  inc.update(std::span(reinterpret_cast<const std::uint8_t*>("s\n"), 2));
  EXPECT_EQ(to_hex(inc.finish()), "e9fe7e88e89d532379960402db8f9458194dae772aa5fda5a12806c22215f0ff");
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace ssmc::crypto
