#include "aws/sigv4_verify.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <boost/throw_exception.hpp>
#include <stdexcept>
#include <vector>

#include "crypto/sha256.hpp"

namespace ssmc::aws {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kTerminator = "aws4_request";
constexpr int kMaxAmzDateYear = 2261;
constexpr std::string_view kInvalidTokenMessage = "The security token included in the request is invalid.";
constexpr std::string_view kMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details.";

char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// Text of a client-supplied value for a message: printable ASCII, at most 256 bytes.
std::string quoted(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 256)) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u >= 0x7f ? '?' : c;
  }
  return out;
}

struct Codes {
  std::string_view missing, incomplete, mismatch, unknown_key, expired_token;
  int missing_status, incomplete_status, mismatch_status, unknown_key_status, expired_status;
};

const Codes& codes(AuthErrorDialect d) {
  static const Codes json = {"MissingAuthenticationTokenException",
                             "IncompleteSignatureException",
                             "InvalidSignatureException",
                             "UnrecognizedClientException",
                             "ExpiredTokenException",
                             403,
                             400,
                             400,
                             400,
                             400};
  static const Codes query = {"MissingAuthenticationToken",
                              "IncompleteSignature",
                              "SignatureDoesNotMatch",
                              "InvalidClientTokenId",
                              "ExpiredToken",
                              403,
                              400,
                              403,
                              403,
                              400};
  return d == AuthErrorDialect::json ? json : query;
}

VerifyError make_error(Errc reason, AuthErrorDialect d, std::string message) {
  const Codes& c = codes(d);
  ApiError e;
  switch (reason) {
    case Errc::sigv4_missing_authentication:
      e = {c.missing_status, std::string(c.missing), std::move(message), {}};
      break;
    case Errc::sigv4_incomplete_signature:
      e = {c.incomplete_status, std::string(c.incomplete), std::move(message), {}};
      break;
    case Errc::sigv4_unknown_access_key:
    case Errc::sigv4_invalid_token:
      e = {c.unknown_key_status, std::string(c.unknown_key), std::move(message), {}};
      break;
    case Errc::sigv4_expired_token:
      e = {c.expired_status, std::string(c.expired_token), std::move(message), {}};
      break;
    default:  // signature mismatch, scope, clock
      e = {c.mismatch_status, std::string(c.mismatch), std::move(message), {}};
      break;
  }
  return {reason, std::move(e)};
}

// One raw `name[=value]` piece of the query, with its decoded name and value.
struct QueryPiece {
  std::string_view raw;
  std::string name;
  std::string value;
};

std::optional<std::vector<QueryPiece>> split_query(std::string_view query) {
  std::vector<QueryPiece> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    auto name = query_decode(piece.substr(0, eq));
    auto value = query_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.push_back({piece, std::move(*name), std::move(*value)});
  }
  return out;
}

std::string join_raw(const std::vector<QueryPiece>& pieces, std::string_view drop1, std::string_view drop2) {
  std::string out;
  for (const auto& p : pieces) {
    if (p.name == drop1 || p.name == drop2) continue;
    if (!out.empty()) out += '&';
    out += p.raw;
  }
  return out;
}

std::string format_time(system_clock::time_point t) {
  auto s = format_amz_date(t);
  return s ? *s : std::string("?");
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The canonical "name:value\n" lines of the listed headers, from the request
// as received (repeated headers joined with ',' in order, values trimmed and
// inner white space folded).
std::string canonical_header_lines(const Headers& headers, const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto name : names) {
    out += name;
    out += ':';
    bool first = true;
    for (const auto& h : headers) {
      if (!iequals(h.name, name)) continue;
      if (!first) out += ',';
      out += canonical_header_value(h.value);
      first = false;
    }
    out += '\n';
  }
  return out;
}

// What both auth forms provide.
struct Claimed {
  std::string access_key_id, scope_date, region, service, terminator;
  std::string signed_headers;
  std::string signature;
  std::string amz_date;
  std::optional<std::string> token;
  std::optional<std::chrono::seconds> expires;  // query form
  bool presigned = false;
};

std::vector<std::string_view> split_signed_headers(std::string_view list) {
  std::vector<std::string_view> out;
  while (true) {
    const auto semi = list.find(';');
    out.push_back(list.substr(0, semi));
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return out;
}

const Header* unique_header(const Headers& headers, std::string_view name, int& count) {
  const Header* found = nullptr;
  count = 0;
  for (const auto& h : headers)
    if (iequals(h.name, name)) {
      if (!found) found = &h;
      ++count;
    }
  return found;
}

std::optional<std::string> split_credential(std::string_view credential, Claimed& out) {
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  while (true) {
    const auto slash = credential.find('/');
    if (n == parts.size())
      return "Credential must have exactly 5 slash-delimited elements, e.g. " +
             std::string("keyid/date/region/service/term");
    parts[n++] = credential.substr(0, slash);
    if (slash == std::string_view::npos) break;
    credential.remove_prefix(slash + 1);
  }
  if (n != parts.size() || std::any_of(parts.begin(), parts.end(), [](auto p) { return p.empty(); }))
    return std::string("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term");
  out.access_key_id = std::string(parts[0]);
  out.scope_date = std::string(parts[1]);
  out.region = std::string(parts[2]);
  out.service = std::string(parts[3]);
  out.terminator = std::string(parts[4]);
  return std::nullopt;
}

}  // namespace

void throw_exception_from_error(const VerifyError& error, const boost::source_location& location) {
  boost::throw_with_location(std::system_error(make_error_code(error.reason), error.error.code), location);
}

Result<system_clock::time_point> parse_amz_date(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return make_error_code(Errc::bad_signing_time);
  auto num = [&](std::size_t at, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), s = num(13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || h > 23 || mi > 59 || s > 59)
    return make_error_code(Errc::bad_signing_time);
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // system_clock counts nanoseconds in 64 bits: it ends in April 2262.
  if (!ymd.ok() || y < 1970 || y > kMaxAmzDateYear) return make_error_code(Errc::bad_signing_time);
  return system_clock::time_point(sys_days{ymd} + hours{h} + minutes{mi} + seconds{s});
}

VerifyResult<AuthorizationHeader> parse_authorization_header(std::string_view value, AuthErrorDialect dialect) {
  const std::string shown = "Authorization=" + quoted(value);
  value = trim(value);
  const auto space = value.find_first_of(" \t");
  const auto algorithm = value.substr(0, space);
  if (algorithm != kSigV4Algorithm)
    return make_error(Errc::sigv4_incomplete_signature, dialect,
                      "Unsupported AWS 'algorithm': '" + quoted(algorithm) + "'");
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : value.substr(space);
  std::optional<std::string_view> credential, signed_headers, signature;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::sigv4_incomplete_signature, dialect,
                        "Authorization header requires each component to be of the form key=value. " + shown);
    const auto key = part.substr(0, eq);
    const auto val = part.substr(eq + 1);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (!slot) continue;  // unknown components are ignored
    if (*slot)
      return make_error(Errc::sigv4_incomplete_signature, dialect,
                        "Authorization header has a repeated '" + std::string(key) + "' component. " + shown);
    *slot = val;
  }
  std::string missing;
  if (!credential || credential->empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signature || signature->empty()) missing += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers || signed_headers->empty())
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) return make_error(Errc::sigv4_incomplete_signature, dialect, missing + shown);

  Claimed c;
  if (auto problem = split_credential(*credential, c))
    return make_error(Errc::sigv4_incomplete_signature, dialect, *problem + ", got '" + quoted(*credential) + "'");
  AuthorizationHeader out;
  out.access_key_id = std::move(c.access_key_id);
  out.date = std::move(c.scope_date);
  out.region = std::move(c.region);
  out.service = std::move(c.service);
  out.terminator = std::move(c.terminator);
  out.signed_headers = std::string(*signed_headers);
  out.signature = std::string(*signature);
  return out;
}

VerifyResult<VerifiedRequest> verify_sigv4(const HttpRequest& request, const CredentialLookup& lookup,
                                           const VerifyOptions& options) {
  const AuthErrorDialect d = options.dialect;
  auto fail = [d](Errc reason, std::string message) -> VerifyResult<VerifiedRequest> {
    return make_error(reason, d, std::move(message));
  };

  // --- Which form ---
  int auth_count = 0;
  const Header* auth = unique_header(request.headers, "authorization", auth_count);
  const auto pieces = split_query(request.query);
  if (!pieces) return fail(Errc::sigv4_incomplete_signature, "The query string is not valid percent-encoding.");
  auto param = [&](std::string_view name, int& count) -> const std::string* {
    const std::string* found = nullptr;
    count = 0;
    for (const auto& p : *pieces)
      if (p.name == name) {
        if (!found) found = &p.value;
        ++count;
      }
    return found;
  };
  int algorithm_count = 0;
  const std::string* algorithm = param("X-Amz-Algorithm", algorithm_count);
  if (auth && algorithm)
    return fail(Errc::sigv4_incomplete_signature,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization "
                "header should be specified");
  if (!auth && !algorithm) return fail(Errc::sigv4_missing_authentication, "Missing Authentication Token");
  if (auth_count > 1) return fail(Errc::sigv4_incomplete_signature, "Only one Authorization header is allowed.");

  Claimed c;
  if (auth) {
    auto parsed = parse_authorization_header(auth->value, d);
    if (!parsed) return parsed.error();
    c.access_key_id = std::move(parsed->access_key_id);
    c.scope_date = std::move(parsed->date);
    c.region = std::move(parsed->region);
    c.service = std::move(parsed->service);
    c.terminator = std::move(parsed->terminator);
    c.signed_headers = std::move(parsed->signed_headers);
    c.signature = std::move(parsed->signature);
    int date_count = 0;
    const Header* date = unique_header(request.headers, "x-amz-date", date_count);
    if (!date)
      return fail(Errc::sigv4_incomplete_signature,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                  "Authorization=" +
                      quoted(auth->value));
    if (date_count > 1) return fail(Errc::sigv4_incomplete_signature, "Only one X-Amz-Date header is allowed.");
    c.amz_date = std::string(trim(date->value));
    int token_count = 0;
    if (const Header* token = unique_header(request.headers, "x-amz-security-token", token_count)) {
      if (token_count > 1) return fail(Errc::sigv4_invalid_token, "Only one X-Amz-Security-Token header is allowed.");
      c.token = std::string(trim(token->value));
    }
  } else {
    c.presigned = true;
    struct Required {
      std::string_view name;
      std::string* into;
    };
    std::string credential;
    const std::array<Required, 5> required = {{{"X-Amz-Algorithm", nullptr},
                                               {"X-Amz-Credential", &credential},
                                               {"X-Amz-Signature", &c.signature},
                                               {"X-Amz-Date", &c.amz_date},
                                               {"X-Amz-SignedHeaders", &c.signed_headers}}};
    for (const auto& r : required) {
      int count = 0;
      const std::string* v = param(r.name, count);
      if (!v || v->empty())
        return fail(Errc::sigv4_incomplete_signature,
                    "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
                    "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
      if (count > 1)
        return fail(Errc::sigv4_incomplete_signature,
                    "The query-string parameter '" + std::string(r.name) + "' appears more than once.");
      if (r.into) *r.into = *v;
    }
    if (*algorithm != kSigV4Algorithm)
      return fail(Errc::sigv4_incomplete_signature, "Unsupported AWS 'algorithm': '" + quoted(*algorithm) + "'");
    if (auto problem = split_credential(credential, c))
      return fail(Errc::sigv4_incomplete_signature, *problem + ", got '" + quoted(credential) + "'");
    int count = 0;
    if (const std::string* expires = param("X-Amz-Expires", count)) {
      long value = -1;
      if (count == 1 && !expires->empty() && expires->size() <= 7 &&
          std::all_of(expires->begin(), expires->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        value = std::stol(*expires);
      if (value < 1 || value > kMaxPresignExpiry.count())
        return fail(Errc::sigv4_incomplete_signature,
                    "X-Amz-Expires must be a number of seconds from 1 to 604800 (a week).");
      c.expires = std::chrono::seconds(value);
    }
    if (const std::string* token = param("X-Amz-Security-Token", count)) {
      if (count > 1) return fail(Errc::sigv4_invalid_token, "Only one X-Amz-Security-Token is allowed.");
      c.token = *token;
    } else {
      int token_count = 0;
      if (const Header* h = unique_header(request.headers, "x-amz-security-token", token_count))
        c.token = std::string(trim(h->value));
    }
  }

  // --- Date and credential scope ---
  const auto signed_at = parse_amz_date(c.amz_date);
  if (!signed_at)
    return fail(
        Errc::sigv4_incomplete_signature,
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '" + quoted(c.amz_date) + "'");
  if (c.terminator != kTerminator)
    return fail(
        Errc::sigv4_signature_mismatch,
        "Credential should be scoped with a valid terminator: 'aws4_request', not '" + quoted(c.terminator) + "'.");
  if (c.scope_date != std::string_view(c.amz_date).substr(0, 8))
    return fail(Errc::sigv4_signature_mismatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                    quoted(c.scope_date) + "' != '" + c.amz_date.substr(0, 8) + "', from '" + c.amz_date + "'.");
  if (!options.region.empty() && options.region != "any" && c.region != options.region)
    return fail(Errc::sigv4_signature_mismatch, "Credential should be scoped to a valid region, not '" +
                                                    quoted(c.region) + "'. Expected '" + options.region + "'.");
  if (!options.service.empty() && c.service != options.service)
    return fail(Errc::sigv4_signature_mismatch,
                "Credential should be scoped to correct service: '" + options.service + "'.");
  const auto names = split_signed_headers(c.signed_headers);
  if (std::find(names.begin(), names.end(), "host") == names.end())
    return fail(Errc::sigv4_incomplete_signature, "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  for (const auto name : names) {
    const bool ok = !name.empty() && std::none_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'A' && ch <= 'Z') || ch == ':' || static_cast<unsigned char>(ch) <= ' ';
    });
    if (!ok)
      return fail(
          Errc::sigv4_incomplete_signature,
          "SignedHeaders must be lower-case header names separated by ';', got '" + quoted(c.signed_headers) + "'");
  }

  // --- Clock ---
  const auto now = options.now;
  const auto skew = options.max_skew;
  if (*signed_at > now + skew)
    return fail(Errc::sigv4_request_time_skewed, "Signature not yet current: " + c.amz_date + " is still later than " +
                                                     format_time(now + skew) + " (" + format_time(now) + " + " +
                                                     std::to_string(skew.count() / 60) + " min.)");
  std::optional<system_clock::time_point> expires_at;
  if (c.expires) {
    expires_at = *signed_at + *c.expires;
    if (now > *expires_at)
      return fail(Errc::sigv4_request_time_skewed, "Signature expired: the presigned request of " + c.amz_date +
                                                       " expired at " + format_time(*expires_at) + " (X-Amz-Expires " +
                                                       std::to_string(c.expires->count()) + " s); it is now " +
                                                       format_time(now) + ".");
  } else if (*signed_at < now - skew) {
    return fail(Errc::sigv4_request_time_skewed, "Signature expired: " + c.amz_date + " is now earlier than " +
                                                     format_time(now - skew) + " (" + format_time(now) + " - " +
                                                     std::to_string(skew.count() / 60) + " min.)");
  }

  // --- Key, token, expiry ---
  const auto creds = lookup ? lookup(c.access_key_id) : std::nullopt;
  if (!creds) return fail(Errc::sigv4_unknown_access_key, std::string(kInvalidTokenMessage));
  const bool expects_token = creds->session_token && !creds->session_token->empty();
  const bool has_token = c.token && !c.token->empty();
  if (expects_token != has_token || (has_token && !constant_time_equals(*c.token, *creds->session_token)))
    return fail(Errc::sigv4_invalid_token, std::string(kInvalidTokenMessage));
  if (creds->expiration && now >= *creds->expiration)
    return fail(Errc::sigv4_expired_token, "The security token included in the request is expired");

  // --- Payload hash ---
  const std::string body_hash =
      request.payload_hash.empty() ? crypto::to_hex(crypto::sha256(request.body)) : request.payload_hash;
  std::string payload_hash = body_hash;
  int sha_count = 0;
  if (const Header* sha = unique_header(request.headers, "x-amz-content-sha256", sha_count)) {
    const auto value = trim(sha->value);
    const bool unsigned_ok = options.allow_unsigned_payload && value == kUnsignedPayload;
    if (sha_count > 1 || (!unsigned_ok && value != body_hash))
      return fail(Errc::sigv4_signature_mismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
    payload_hash = std::string(value);
  }

  // --- Canonical request and signature ---
  auto uri = canonical_uri(request.path, options.normalize_path, options.double_uri_encode);
  if (!uri) return fail(Errc::sigv4_signature_mismatch, "The request path is not valid percent-encoding.");
  const std::string header_lines = canonical_header_lines(request.headers, names);
  const std::string scope = c.scope_date + '/' + c.region + '/' + c.service + '/' + std::string(kTerminator);
  const auto key = signing_key(creds->secret_access_key, c.scope_date, c.region, c.service);

  std::string first_canonical, first_sts;
  // Query form: the signature itself is never signed; a session token added
  // after signing (omit_session_token) is tried second.
  const int tries = c.presigned && c.token ? 2 : 1;
  for (int attempt = 0; attempt < tries; ++attempt) {
    std::string query_text(request.query);
    if (c.presigned)
      query_text = join_raw(*pieces, "X-Amz-Signature", attempt == 1 ? "X-Amz-Security-Token" : "X-Amz-Signature");
    auto query = canonical_query(query_text);
    if (!query) return fail(Errc::sigv4_incomplete_signature, "The query string is not valid percent-encoding.");
    std::string creq =
        build_canonical_request(request.method, *uri, *query, header_lines, c.signed_headers, payload_hash);
    std::string sts = build_string_to_sign(c.amz_date, scope, creq);
    const std::string expected = compute_signature(key, sts);
    if (constant_time_equals(expected, c.signature)) {
      VerifiedRequest out;
      out.access_key_id = std::move(c.access_key_id);
      out.region = std::move(c.region);
      out.service = std::move(c.service);
      out.signed_headers = std::move(c.signed_headers);
      out.presigned = c.presigned;
      out.signed_at = *signed_at;
      out.expires_at = expires_at;
      return out;
    }
    if (attempt == 0) {
      first_canonical = std::move(creq);
      first_sts = std::move(sts);
    }
  }
  return fail(Errc::sigv4_signature_mismatch,
              std::string(kMismatchMessage) + "\n\nThe Canonical String for this request should have been\n'" +
                  first_canonical + "'\n\nThe String-to-Sign should have been\n'" + first_sts + "'\n");
}

}  // namespace ssmc::aws
