// libFuzzer target for SigV4 signing and verification on hostile requests
// (src/aws/sigv4.hpp, src/aws/sigv4_verify.hpp). The emulator verifies every
// API call and WebSocket upgrade it receives; the client signs requests whose
// paths, queries and headers come partly from configuration and servers.
//
// Input: byte 0 = switches (kFlag*); the rest is a raw request
// ("METHOD target VERSION" line, headers, empty line, body; LF or CRLF;
// a line starting with white space continues the previous header; lines
// whose name is not an HTTP token are dropped, as an HTTP parser would), the
// format of the AWS SigV4 suites' request files.
// Properties, for any input:
//  * the verifier never crashes; a refusal has an AWS error code, a 4xx
//    status and a message of bounded size; an accepted request names a known
//    key, and is refused once its body changes (unless the payload is
//    unsigned);
//  * a request without auth that the signer signs (Authorization header, or
//    presigned query) is accepted by the verifier with the same options.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4.hpp"
#include "aws/sigv4_verify.hpp"

namespace {

using namespace ssmc::aws;

void check_at(bool ok, int line) {
  if (ok) return;
  std::fprintf(stderr, "sigv4_fuzz: invariant at line %d failed\n", line);
  std::abort();
}
#define check(ok) check_at((ok), __LINE__)

constexpr std::uint8_t kFlagQueryDialect = 1;
constexpr std::uint8_t kFlagUnsignedPayload = 2;  // verifier accepts UNSIGNED-PAYLOAD; signer uses it
constexpr std::uint8_t kFlagSessionToken = 4;
constexpr std::uint8_t kFlagS3Paths = 8;          // normalize_path = double_uri_encode = false
constexpr std::uint8_t kFlagOmitToken = 16;
constexpr std::uint8_t kFlagContentSha = 32;
constexpr std::uint8_t kFlagExpired = 64;
constexpr std::uint8_t kFlagAnyService = 128;

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

const std::chrono::system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + std::chrono::hours{12} +
                  std::chrono::minutes{36};

struct Raw {
  HttpRequest request;
  std::string body;
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// RFC 9110 §5.6.2 token: the only header names an HTTP parser (Beast) passes on.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool alnum = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool parse_raw(std::string_view text, Raw& out) {
  std::size_t head_end = text.find("\r\n\r\n");
  std::size_t body_at = head_end + 4;
  if (head_end == std::string_view::npos) {
    head_end = text.find("\n\n");
    body_at = head_end + 2;
  }
  if (head_end == std::string_view::npos) {
    head_end = text.size();
    body_at = text.size();
  }
  out.body = std::string(text.substr(body_at));
  std::string_view head = text.substr(0, head_end);
  auto next_line = [&head]() {
    const auto nl = head.find('\n');
    auto line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view{} : head.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const auto line = next_line();
  const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  out.request.method = std::string(line.substr(0, sp1));
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');
  out.request.path = std::string(target.substr(0, q));
  out.request.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  while (!head.empty()) {
    const auto h = next_line();
    if (!h.empty() && (h.front() == ' ' || h.front() == '\t') && !out.request.headers.empty()) {
      out.request.headers.back().value += '\n';
      out.request.headers.back().value += h;
      continue;
    }
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) continue;  // what an HTTP parser drops
    out.request.headers.push_back({std::string(h.substr(0, colon)), std::string(h.substr(colon + 1))});
  }
  return true;
}

Credentials server_credentials(std::uint8_t flags) {
  Credentials c{std::string(kAccessKey), std::string(kSecret), std::nullopt, std::nullopt};
  if (flags & kFlagSessionToken) c.session_token = std::string(kToken);
  if (flags & kFlagExpired) c.expiration = kNow - std::chrono::seconds(1);
  return c;
}

VerifyOptions verify_options(std::uint8_t flags, std::chrono::system_clock::time_point now) {
  VerifyOptions o;
  o.service = (flags & kFlagAnyService) ? "" : "service";
  o.region = "us-east-1";
  o.now = now;
  o.normalize_path = o.double_uri_encode = (flags & kFlagS3Paths) == 0;
  o.allow_unsigned_payload = (flags & kFlagUnsignedPayload) != 0;
  o.dialect = (flags & kFlagQueryDialect) ? AuthErrorDialect::query : AuthErrorDialect::json;
  return o;
}

void check_refusal(const VerifyError& e) {
  check(!e.error.code.empty());
  check(e.error.http_status >= 400 && e.error.http_status < 500);
  check(e.error.message.size() <= 64 * 1024);
}

// 1. The request as received.
void verify_as_is(Raw raw, std::uint8_t flags) {
  auto now = kNow;
  for (const auto& h : raw.request.headers)
    if (iequals(h.name, "X-Amz-Date"))
      if (auto t = parse_amz_date(canonical_header_value(h.value))) now = *t;
  raw.request.body = raw.body;
  const Credentials creds = server_credentials(flags);
  const CredentialLookup lookup = [&creds](std::string_view id) -> std::optional<Credentials> {
    return id == creds.access_key_id ? std::optional<Credentials>(creds) : std::nullopt;
  };
  const VerifyOptions options = verify_options(flags, now);
  const auto r = verify_sigv4(raw.request, lookup, options);
  if (!r) {
    check_refusal(r.error());
    return;
  }
  check(r->access_key_id == kAccessKey);
  check(!(flags & kFlagExpired));
  check(r->service == "service" || (flags & kFlagAnyService));
  const std::string changed = raw.body + "x";
  raw.request.body = changed;
  const auto again = verify_sigv4(raw.request, lookup, options);
  if (again) check(flags & kFlagUnsignedPayload);
}

bool has_auth(const HttpRequest& r) {
  for (const auto& h : r.headers)
    if (iequals(h.name, "authorization") || iequals(h.name, "x-amz-date") ||
        iequals(h.name, "x-amz-security-token") || iequals(h.name, "x-amz-content-sha256"))
      return true;
  const auto names = query_decode(r.query);  // X-Amz-* parameters, however encoded
  return !names || names->find("X-Amz-") != std::string::npos;
}

// 2. Sign an unsigned request both ways; the verifier must accept it.
void sign_and_verify(Raw raw, std::uint8_t flags) {
  raw.request.body = raw.body;
  if (has_auth(raw.request)) return;
  if (flags & kFlagExpired) return;
  Credentials client{std::string(kAccessKey), std::string(kSecret), std::nullopt, std::nullopt};
  if (flags & kFlagSessionToken) client.session_token = std::string(kToken);
  SigningParams params;
  params.region = "us-east-1";
  params.service = "service";
  params.time = kNow;
  params.normalize_path = params.double_uri_encode = (flags & kFlagS3Paths) == 0;
  params.add_content_sha256_header = (flags & kFlagContentSha) != 0;
  params.omit_session_token = (flags & kFlagOmitToken) != 0;
  if (flags & kFlagUnsignedPayload) raw.request.payload_hash = std::string(kUnsignedPayload);
  const Credentials creds = server_credentials(flags);
  const CredentialLookup lookup = [&creds](std::string_view id) -> std::optional<Credentials> {
    return id == creds.access_key_id ? std::optional<Credentials>(creds) : std::nullopt;
  };
  const VerifyOptions options = verify_options(flags, kNow);

  if (auto s = sign_headers(raw.request, client, params)) {
    HttpRequest signed_request = raw.request;
    signed_request.payload_hash.clear();  // the server hashes what it received
    for (const auto& h : s->headers) signed_request.headers.push_back(h);
    const auto v = verify_sigv4(signed_request, lookup, options);
    // A payload hash of UNSIGNED-PAYLOAD is only sent (and so only
    // verifiable) with x-amz-content-sha256.
    if ((flags & kFlagUnsignedPayload) && !(flags & kFlagContentSha)) return;
    if (!v) std::fprintf(stderr, "header signing refused: %s\n", v.error().error.message.c_str());
    check(v.has_value());
    check(v->signed_headers == s->signed_headers && !v->presigned);
  }
  if (auto s = presign_query(raw.request, client, params)) {
    HttpRequest signed_request = raw.request;
    signed_request.payload_hash.clear();
    signed_request.query = s->query;
    const auto v = verify_sigv4(signed_request, lookup, options);
    // The verifier hashes the body; a presigned URL signed over
    // UNSIGNED-PAYLOAD carries no header saying so.
    if (flags & kFlagUnsignedPayload) return;
    if (!v) std::fprintf(stderr, "query signing refused: %s\n", v.error().error.message.c_str());
    check(v.has_value());
    check(v->presigned && v->expires_at.has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)parse_authorization_header(text, (flags & kFlagQueryDialect) ? AuthErrorDialect::query : AuthErrorDialect::json);
  (void)canonical_query(text);
  (void)canonical_uri(text, (flags & kFlagS3Paths) == 0, (flags & kFlagS3Paths) == 0);
  (void)query_decode(text);
  Raw raw;
  if (!parse_raw(text, raw)) return 0;
  verify_as_is(raw, flags);
  sign_and_verify(std::move(raw), flags);
  return 0;
}
