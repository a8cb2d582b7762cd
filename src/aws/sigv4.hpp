// AWS Signature Version 4: header signing (Authorization), query signing
// (presigned URLs) and the signed WebSocket upgrade of the SSM data channel.
//
// Pure functions: no I/O, no clock (the signing time is an argument), no
// logging. Spec: 01 §2 (summary), 02 §1.2-§1.5 (WebSocket upgrade); verified
// against both AWS SigV4 suites in shared/testdata/sigv4/ (tests/aws/sigv4_test.cpp).
//
// Secrets: results contain the signature and, when the token is signed or
// sent, the session token (in `headers`, `params` and the canonical request).
// Never log a result; log `redacted(credentials)` if anything.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

/// The only SigV4 algorithm name (SigV4A is not used by SSM/KMS/STS).
inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
/// Payload hash for requests whose body is not signed (S3-style presigned
/// URLs; AWS SigV4 docs, "Signature Calculations for the Authorization Header").
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// hex(SHA-256("")): the payload hash of a request without a body (02 §1.2).
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Signing name of the SSM data-channel WebSocket (02 §1.2, `config.ServiceName`).
inline constexpr std::string_view kSsmMessagesService = "ssmmessages";
/// Longest presigned-URL lifetime SigV4 accepts (X-Amz-Expires, AWS SigV4 docs: 7 days).
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};
/// Default X-Amz-Expires (aws-c-auth suite `expiration_in_seconds`).
inline constexpr std::chrono::seconds kDefaultPresignExpiry{3600};

/// One HTTP header as sent (name case and order kept).
struct Header {
  std::string name;
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};
using Headers = std::vector<Header>;

/// The request to sign.
struct HttpRequest {
  /// As sent, e.g. "GET", "POST".
  std::string method = "GET";
  /// Path of the request target exactly as on the wire (may hold %XX escapes
  /// or, as in the AWS suites, raw UTF-8/spaces). Empty is read as "/".
  std::string path = "/";
  /// Query text after '?', without the '?', exactly as on the wire.
  std::string query;
  /// Headers in order; must include Host. Repeated names are allowed (their
  /// values are joined with ',' in the canonical form).
  Headers headers;
  /// The body (not owned; must outlive the signing call). Ignored when
  /// `payload_hash` is set.
  std::string_view body;
  /// Precomputed payload hash to sign instead of hex(SHA-256(body)), e.g.
  /// kUnsignedPayload or a streamed hash. Empty = hash `body`.
  std::string payload_hash;
};

/// How to sign; defaults are those of SSM/KMS/STS (01 §2).
struct SigningParams {
  std::string region;
  /// Signing name, e.g. "ssm", "kms", "sts", "ssmmessages".
  std::string service;
  std::chrono::system_clock::time_point time;
  /// Remove "." / ".." segments and repeated '/' from the path before
  /// encoding (every service except S3).
  bool normalize_path = true;
  /// URI-encode the wire path once more for the canonical URI, so '%' becomes
  /// "%25" (every service except S3). When false, valid %XX escapes are kept
  /// and only other reserved/non-ASCII bytes are encoded.
  bool double_uri_encode = true;
  /// Header signing: add and sign `x-amz-content-sha256: <payload hash>`
  /// (S3 style; aws-c-auth `sign_body`). Never sent otherwise.
  bool add_content_sha256_header = false;
  /// Add the session token after signing instead of signing it (some
  /// services, aws4_testsuite post-sts-header-after; aws-c-auth
  /// `omit_session_token`). Header mode: X-Amz-Security-Token is sent but not
  /// in SignedHeaders. Query mode: appended after the signed parameters.
  bool omit_session_token = false;
  /// Query signing only: X-Amz-Expires, 1 s .. kMaxPresignExpiry.
  std::chrono::seconds expires = kDefaultPresignExpiry;
};

/// The intermediate SigV4 values, for tests and for diagnosing
/// SignatureDoesNotMatch (AWS returns its canonical request in that error).
struct SigningDetails {
  std::string canonical_request;
  std::string string_to_sign;
  /// Lower-case hex HMAC-SHA256.
  std::string signature;
  /// e.g. "host;x-amz-date".
  std::string signed_headers;
};

/// Result of header signing.
struct HeaderSigning : SigningDetails {
  /// Headers to append to the request, in this order: X-Amz-Security-Token
  /// (if the credentials have a token and the request does not already carry
  /// it), X-Amz-Date (unless already present), x-amz-content-sha256 (if asked
  /// and absent), Authorization.
  Headers headers;
};

/// Result of query (presigned-URL) signing.
struct QuerySigning : SigningDetails {
  /// Parameters to append, already percent-encoded, in this order:
  /// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders,
  /// X-Amz-Expires, X-Amz-Security-Token (if any), X-Amz-Signature.
  std::vector<std::pair<std::string, std::string>> params;
  /// The full query to send: the request's query text unchanged, then
  /// `params` joined with '&'.
  std::string query;
};

/// Signs `request` with an Authorization header (01 §2). The request's own
/// headers are all signed except Authorization, User-Agent, X-Amzn-Trace-Id,
/// Expect, Transfer-Encoding, Connection, Upgrade and Sec-WebSocket-* (the
/// SDK signers' skip lists). If the request already has X-Amz-Date or
/// X-Amz-Security-Token they must equal what would be added.
/// Errors: missing_credentials, missing_scope, bad_signing_time,
/// missing_host_header, bad_percent_encoding, conflicting_header.
Result<HeaderSigning> sign_headers(const HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params);

/// Signs `request` in its query string (presigned URL): the X-Amz-* values
/// go in the query, the only signed headers are the request's own (at least
/// Host). The payload hash is the body's (or `payload_hash`, e.g.
/// kUnsignedPayload for S3). Errors: as sign_headers, plus bad_expiry.
Result<QuerySigning> presign_query(const HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params);

/// Headers for the SigV4-signed WebSocket upgrade of the SSM data channel
/// (02 §1.2): `GET <url>` signed for service `ssmmessages` in `region` at
/// `time`; payload hash = kEmptyPayloadHash (not sent as a header).
struct WebSocketUpgradeSigning : SigningDetails {
  /// The URL authority exactly as written, port kept (`h:443` stays
  /// `h:443`); the upgrade's Host header must carry exactly this text.
  std::string host;
  /// Path and query for the request line: the URL's own text, unchanged.
  std::string target;
  /// Headers to add to the upgrade: X-Amz-Date, Authorization, and
  /// X-Amz-Security-Token when the credentials have a token.
  Headers headers;
};

/// Signs the upgrade request for `url` (ws:// or wss://, 02 §1.1-§1.2).
/// Signed headers are exactly host;x-amz-date[;x-amz-security-token]; the
/// canonical query is re-encoded (a '+' in the query is a space and signs as
/// %20, as the official Go client does) while `target` keeps the URL's text.
/// Does not check the host against the AWS endpoint rule (02 §1.1.1).
/// Errors: bad_url, unsupported_url_scheme, missing_url_host,
/// url_already_presigned (use the URL unchanged and unsigned, 02 §1.3),
/// bad_percent_encoding, missing_credentials, missing_scope, bad_signing_time.
Result<WebSocketUpgradeSigning> sign_websocket_upgrade(std::string_view url, std::string_view region,
                                                       const Credentials& credentials,
                                                       std::chrono::system_clock::time_point time);

/// True when the URL's query contains any of X-Amz-Algorithm,
/// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
/// X-Amz-Signature, X-Amz-Security-Token (exact, case-sensitive names after
/// percent-decoding; `IsPresignedURL`, 02 §1.3). Errors: bad_url.
Result<bool> is_presigned_url(std::string_view url);

// --- Building blocks (exposed for tests and for servers that verify) ---

/// Decodes a query name or value as the signers read it: %XX escapes and '+'
/// as a space. nullopt on a malformed escape.
std::optional<std::string> query_decode(std::string_view text);

/// `YYYYMMDD'T'HHMMSS'Z'` in UTC. Errors: bad_signing_time.
Result<std::string> format_amz_date(std::chrono::system_clock::time_point time);

/// RFC 3986 percent-encoding: unreserved `A-Z a-z 0-9 - _ . ~` kept (and '/'
/// when `keep_slash`), every other byte as upper-case %XX.
std::string uri_encode(std::string_view text, bool keep_slash = false);

/// The SigV4 canonical URI of a wire path (see SigningParams for the two
/// switches). Errors: bad_percent_encoding (only when !double_uri_encode).
Result<std::string> canonical_uri(std::string_view path, bool normalize_path, bool double_uri_encode);

/// The SigV4 canonical query of raw query text: split on '&' (empty pieces
/// dropped), each `name[=value]` percent-decoded ('+' read as a space),
/// re-encoded with uri_encode, sorted by encoded name then encoded value,
/// joined as `name=value` with '&'. Errors: bad_percent_encoding.
Result<std::string> canonical_query(std::string_view query);

/// A header value in canonical form: leading/trailing white space removed,
/// every inner run of white space (SP, HT, CR, LF: obs-fold included)
/// replaced by one space.
std::string canonical_header_value(std::string_view value);

/// The canonical request: METHOD, canonical URI, canonical query, canonical
/// headers (the "name:value\n" lines), signed-header list and payload hash
/// joined by '\n' (01 §2 step 2).
std::string build_canonical_request(std::string_view method, std::string_view canonical_uri,
                                    std::string_view canonical_query, std::string_view canonical_headers,
                                    std::string_view signed_headers, std::string_view payload_hash);

/// The string to sign: kSigV4Algorithm, X-Amz-Date, credential scope
/// (date/region/service/aws4_request) and hex(SHA-256(canonical request)),
/// joined by '\n' (01 §2 step 3).
std::string build_string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

/// Lower-case hex HMAC-SHA256(signing_key, string_to_sign) (01 §2 step 4).
std::string compute_signature(const crypto::Sha256Digest& signing_key, std::string_view string_to_sign);

/// kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region,
/// service, "aws4_request" (01 §2 step 4). A secret: do not keep it around.
crypto::Sha256Digest signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                                 std::string_view service);

}  // namespace ssmc::aws
