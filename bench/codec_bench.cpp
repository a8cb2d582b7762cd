// AgentMessage codec cost, measured against its own floor: every encode and
// every validating decode hashes the payload once (02 §6.4-6.5), so the
// baseline is one SHA-256 of the same 1 KiB payload, measured in the same run.
// Target (issue "Foundation"): encode + decode <= 2.5 x one SHA-256.
// scripts/bench-report computes the ratios from the JSON output; the
// benchmark names below are what it looks for.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "crypto/sha256.hpp"
#include "wire/agent_message.hpp"

namespace {

using namespace ssmc;

/// StreamDataPayloadSize: the read-chunk size of both official sides (03 §1).
constexpr std::size_t kPayloadSize = 1024;

std::vector<std::uint8_t> make_payload() {
  std::vector<std::uint8_t> p(kPayloadSize);
  std::uint32_t x = 0x9e3779b9;
  for (auto& b : p) {  // xorshift: incompressible, deterministic
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return p;
}

wire::MessageHeader make_header() {
  wire::MessageHeader h;
  h.type = wire::MessageType::input_stream_data;
  h.created_date = 1700000000000;
  h.sequence_number = 42;
  h.message_id = *wire::Uuid::parse("d3b0d6a0-1f7e-4c1b-9a52-3e8c7f2b9a10");
  h.payload_type = wire::PayloadType::output;
  return h;
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kPayloadSize));
}

// ------------------------------------------------------------ baselines

// The library's SHA-256 (what the codec calls): low-level SHA256_*, no allocation.
void BM_Sha256_Ssmc(benchmark::State& state) {
  const auto payload = make_payload();
  for (auto _ : state) {
    auto d = crypto::sha256(payload);
    benchmark::DoNotOptimize(d);
  }
  set_bytes(state);
}
BENCHMARK(BM_Sha256_Ssmc);

// Raw OpenSSL one-shot with an explicitly fetched EVP_MD (the fastest way to
// call EVP for one buffer; allocates and frees a context per call).
void BM_Sha256_EvpOneShot(benchmark::State& state) {
  const auto payload = make_payload();
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("SHA256 unavailable");
  for (auto _ : state) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(payload.data(), payload.size(), out, &len, md, nullptr) != 1)
      throw std::runtime_error("EVP_Digest failed");
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_free(md);
  set_bytes(state);
}
BENCHMARK(BM_Sha256_EvpOneShot);

// The same one-shot with the legacy EVP_sha256() handle: OpenSSL 3 then
// fetches the implementation on every call (why crypto::sha256 caches it).
void BM_Sha256_EvpOneShotImplicitFetch(benchmark::State& state) {
  const auto payload = make_payload();
  for (auto _ : state) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(payload.data(), payload.size(), out, &len, EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("EVP_Digest failed");
    benchmark::DoNotOptimize(out);
  }
  set_bytes(state);
}
BENCHMARK(BM_Sha256_EvpOneShotImplicitFetch);

// ---------------------------------------------------------------- codec

// Encode into one reused vector: after the first iteration no allocation.
void BM_Encode(benchmark::State& state) {
  const auto payload = make_payload();
  auto header = make_header();
  std::vector<std::uint8_t> frame;
  frame.reserve(wire::encoded_size(payload.size()));
  for (auto _ : state) {
    ++header.sequence_number;
    if (wire::encode(header, payload, frame)) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(frame.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(BM_Encode);

// Decode with full validation (digest verified, PayloadLength checked).
void BM_DecodeValidate(benchmark::State& state) {
  const auto frame = wire::encode(make_header(), make_payload());
  for (auto _ : state) {
    auto m = wire::decode(frame);
    if (!m) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(m);
  }
  set_bytes(state);
}
BENCHMARK(BM_DecodeValidate);

// What one stream message costs end to end: the sender's encode and the
// receiver's validating decode.
void BM_EncodeDecode(benchmark::State& state) {
  const auto payload = make_payload();
  auto header = make_header();
  std::vector<std::uint8_t> frame;
  frame.reserve(wire::encoded_size(payload.size()));
  for (auto _ : state) {
    ++header.sequence_number;
    if (wire::encode(header, payload, frame)) state.SkipWithError("encode failed");
    auto m = wire::decode(frame);
    if (!m || m->header.sequence_number != header.sequence_number) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(m);
  }
  set_bytes(state);
}
BENCHMARK(BM_EncodeDecode);

}  // namespace

BENCHMARK_MAIN();
