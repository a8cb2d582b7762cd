// Self-signed certificates for the emulator's TLS listeners (OpenSSL 3 API,
// generated in memory: no files, stack.md §1.2).
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <memory>

#include "net/http.hpp"

namespace ssmc::net {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Result<ServerTls> make_self_signed_certificate(const std::vector<std::string>& hosts, int days) {
  const auto fail = make_error_code(Errc::tls_setup_failed);
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return fail;
  Owned<X509> cert(X509_new());
  if (!cert) return fail;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return fail;
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* sn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (!sn) return fail;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hosts.empty() ? std::string("ssmc-emulator") : hosts.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& h : hosts) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(h, ec);
    if (!san.empty()) san += ',';
    san += (ec ? "DNS:" : "IP:") + h;
  }
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) return fail;
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return fail;
  Owned<BIO> cert_bio(BIO_new(BIO_s_mem())), key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio) return fail;
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) return fail;
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return fail;
  return ServerTls{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

}  // namespace ssmc::net
