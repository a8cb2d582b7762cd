// AWS Signature Version 4 verification, for the local emulator's fake
// SSM/KMS API and its Message Gateway: given a request as received, decide
// whether it was signed by a known access key, and answer like AWS when not.
//
// Pure: the server's clock and the key store are arguments. Rebuilds the
// canonical request from exactly the headers the client listed in
// SignedHeaders (not from what the signer would sign), with the building
// blocks of sigv4.hpp, and compares signatures in constant time.
//
// Both forms:
//  - header: `Authorization: AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request,
//    SignedHeaders=a;b, Signature=hex` with `X-Amz-Date` (01 §2, 02 §1.2);
//  - presigned query: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//    X-Amz-SignedHeaders, X-Amz-Signature, optional X-Amz-Expires and
//    X-Amz-Security-Token (a token appended after signing, aws-c-auth
//    `omit_session_token`, is accepted too).
//
// Error codes and messages follow what AWS returns (coral JSON services such
// as SSM/KMS, or query services such as STS: AuthErrorDialect). HTTP statuses
// are AWS's as far as known (UNVERIFIED for the query dialect).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aws/api.hpp"
#include "aws/credentials.hpp"
#include "aws/errors.hpp"
#include "aws/sigv4.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

/// Largest difference between X-Amz-Date and the server clock AWS accepts
/// ("Signature expired: ... (<now> - 5 min.)").
inline constexpr std::chrono::seconds kMaxClockSkew{300};

/// Spelling of the error codes.
enum class AuthErrorDialect {
  /// JSON services (SSM, KMS): MissingAuthenticationTokenException (403),
  /// IncompleteSignatureException, InvalidSignatureException,
  /// UnrecognizedClientException, ExpiredTokenException (400).
  json,
  /// Query services (STS): MissingAuthenticationToken, SignatureDoesNotMatch,
  /// InvalidClientTokenId (403), IncompleteSignature, ExpiredToken (400).
  query,
};

/// The server's key store: the credentials of an access key id, or nullopt
/// for an unknown key. A returned `session_token` must be carried by the
/// request exactly (header X-Amz-Security-Token or query parameter); without
/// one the request must carry no token. `expiration`, when set, is the
/// instant from which the credentials are refused (ExpiredToken).
using CredentialLookup = std::function<std::optional<Credentials>(std::string_view access_key_id)>;

struct VerifyOptions {
  /// The signing name the request must be scoped to ("ssm", "kms",
  /// "ssmmessages"); "" accepts any.
  std::string service;
  /// The region the request must be scoped to; "" or "any" accepts the
  /// credential scope's region.
  std::string region = "any";
  /// The server's current time.
  std::chrono::system_clock::time_point now;
  /// Largest accepted |X-Amz-Date - now| (and how early a presigned URL may be used).
  std::chrono::seconds max_skew = kMaxClockSkew;
  /// As SigningParams (true for every service but S3).
  bool normalize_path = true;
  bool double_uri_encode = true;
  /// Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (S3 style). Otherwise a
  /// present x-amz-content-sha256 must equal hex(SHA-256(body)).
  bool allow_unsigned_payload = false;
  AuthErrorDialect dialect = AuthErrorDialect::json;
};

/// Who signed what.
struct VerifiedRequest {
  std::string access_key_id;
  /// From the credential scope.
  std::string region;
  std::string service;
  /// The SignedHeaders list as sent.
  std::string signed_headers;
  bool presigned = false;
  /// X-Amz-Date.
  std::chrono::system_clock::time_point signed_at;
  /// Presigned with X-Amz-Expires: when the URL stops being valid.
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

/// Why a request was refused: `reason` for the server's log and tests,
/// `error` (status, AWS code, AWS-like message; request_id left empty) to
/// send with build_error_response. On a signature mismatch the message holds
/// the canonical request and string to sign the server expected, as AWS's
/// does (they may contain the session token of the request, never a secret key).
struct VerifyError {
  Errc reason = Errc::sigv4_signature_mismatch;
  ApiError error;
};
/// Only for result<T, VerifyError>::value() on an error (a caller bug).
[[noreturn]] void throw_exception_from_error(const VerifyError& error, const boost::source_location& location);
template <class T>
using VerifyResult = boost::system::result<T, VerifyError>;

/// Verifies `request` as received: `path` and `query` exactly as on the
/// request line, every header as received (order and case kept), `body` the
/// received body (or `payload_hash` = its hex SHA-256 when the server hashed
/// it while streaming). Checks, in order: an auth form is present (and only
/// one), it parses, X-Amz-Date parses, the credential scope (terminator,
/// date = X-Amz-Date's, expected region and service), `host` is signed, the
/// clock (skew, presigned expiry), the access key is known, the session token
/// matches, the credentials have not expired, the payload hash, and finally
/// the signature. Errors (reason): sigv4_missing_authentication,
/// sigv4_incomplete_signature, sigv4_signature_mismatch,
/// sigv4_request_time_skewed, sigv4_unknown_access_key, sigv4_invalid_token,
/// sigv4_expired_token.
VerifyResult<VerifiedRequest> verify_sigv4(const HttpRequest& request, const CredentialLookup& lookup,
                                           const VerifyOptions& options);

// --- Building blocks (exposed for the fuzz target and tests) ---

/// The parts of an Authorization header value.
struct AuthorizationHeader {
  std::string access_key_id;
  /// Credential scope pieces: YYYYMMDD, region, service, terminator.
  std::string date, region, service, terminator;
  std::string signed_headers;
  std::string signature;
};

/// Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
/// (any white space after the algorithm and around ','; each part once).
/// Errors: sigv4_incomplete_signature (unsupported algorithm, missing or
/// repeated part, a Credential without exactly 5 '/'-separated elements).
VerifyResult<AuthorizationHeader> parse_authorization_header(std::string_view value,
                                                             AuthErrorDialect dialect = AuthErrorDialect::json);

/// Parses `YYYYMMDD'T'HHMMSS'Z'` strictly (a real calendar date and time,
/// years 1970..2261: system_clock's range). Errors: bad_signing_time.
Result<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

}  // namespace ssmc::aws
