// Pure codecs of the credential chain (credential_chain.hpp): ISO-8601 times,
// shell-like command splitting (credential_process), the JSON documents of
// credential_process, the ECS/EKS container endpoint and EC2 IMDS, the SSO
// token cache and portal, and the AWS CLI's credential cache
// (~/.aws/cli/cache) with its cache keys.
//
// Behaviour follows the AWS CLI v2 (botocore `credentials.py`, `utils.py`,
// `tokens.py` of awscli 2.9.19 and the v2 branch, stack.md §1.11) unless a
// comment says otherwise. No I/O, no clock, no getenv.
//
// Secrets: parsed credentials, SSO tokens and serialized cache documents hold
// secrets. Error messages never quote a value of the input (it may be a
// secret); they name the field and say what to do.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "aws/credentials.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

/// A failure of the credential chain or of one of its codecs: the Errc (see
/// errors.hpp) and one line saying what is wrong and what to do. The message
/// never contains a secret.
struct CredentialError {
  std::error_code code;
  std::string message;
};

/// Only for result<T, CredentialError>::value() on an error (a caller bug):
/// throws std::system_error(code, message).
[[noreturn]] void throw_exception_from_error(const CredentialError& error, const boost::source_location& location);

template <class T>
using CredentialResult = boost::system::result<T, CredentialError>;

using TimePoint = std::chrono::system_clock::time_point;

// --- Time ---------------------------------------------------------------------

/// Parses an ISO-8601 / RFC 3339 instant as the CLI's dateutil accepts the
/// ones AWS services and tools write: `YYYY-MM-DD` (or `YYYYMMDD`), then
/// optionally `T`, `t` or ' ' and `HH:MM[:SS[(.|,)fraction]]` (or `HHMM[SS]`),
/// then optionally a zone: `Z`, `z`, `UTC`, `GMT` (optionally after a space),
/// `±HH:MM`, `±HHMM` or `±HH`. Leading/trailing white space is ignored.
/// Deviation: a time without a zone is read as UTC (the CLI crashes comparing
/// it with an aware clock). Instants after 2262-04-11 (the end of the
/// nanosecond clock) are clamped to TimePoint::max(). Errors: bad_timestamp.
Result<TimePoint> parse_iso8601(std::string_view text);

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, fraction dropped), as the CLI caches write.
std::string format_iso8601(TimePoint time);

// --- credential_process command line --------------------------------------------

/// Splits a command line like Python's `shlex.split` (posix mode, no
/// comments; what the CLI's `compat_shell_split` does on posix): words
/// separated by space/tab/CR/LF; '...' literal; "..." with \" and \\ escapes;
/// a backslash outside quotes escapes the next character; `a"b"c` is one word
/// `abc`; `''` is an empty word. No variables, globs, pipes or redirections:
/// `echo x | base64` is four words. Errors: credential_process_bad_command
/// (unclosed quote, trailing backslash).
Result<std::vector<std::string>> split_command_line(std::string_view command);

// --- Hashes and JSON text used for cache file names ----------------------------------

/// Lower-case hex SHA-1 of `data` (cache file names only, not security).
std::string sha1_hex(std::string_view data);

/// `data` as a JSON string literal exactly as Python's json.dumps writes it
/// (ensure_ascii: non-ASCII as \uXXXX with surrogate pairs, \n \r \t \b \f,
/// other control characters \u00XX). Invalid UTF-8 bytes are written as
/// \ufffd. Quotes included.
std::string python_json_string(std::string_view data);

/// Arguments of an AssumeRole / AssumeRoleWithWebIdentity call that the CLI
/// hashes into its cache key (botocore `BaseAssumeRoleCredentialFetcher`).
struct AssumeRoleCacheArgs {
  std::string role_arn;
  /// Only a configured session name; a generated default is not hashed.
  std::optional<std::string> role_session_name;
  std::optional<std::string> external_id;
  std::optional<std::string> serial_number;
  std::optional<std::int64_t> duration_seconds;
};

/// sha1 hex of `json.dumps(args, sort_keys=True)` (default separators ", " and
/// ": "): the file name stem in ~/.aws/cli/cache for an assumed role.
std::string assume_role_cache_key(const AssumeRoleCacheArgs& args);

/// sha1 hex of `json.dumps({"accountId", "roleName", "sessionName" | "startUrl"},
/// sort_keys=True, separators=(",", ":"))` (botocore `SSOCredentialFetcher`):
/// the file name stem in ~/.aws/cli/cache for SSO role credentials.
/// `session_name` empty = legacy profile (the start URL is hashed instead).
std::string sso_credentials_cache_key(std::string_view account_id, std::string_view role_name,
                                      std::string_view session_name, std::string_view start_url);

/// sha1 hex of the sso-session name, or of the start URL for a legacy
/// profile (botocore `SSOTokenLoader`): the file name stem in ~/.aws/sso/cache.
std::string sso_token_cache_key(std::string_view session_name, std::string_view start_url);

// --- credential_process ----------------------------------------------------------

/// Credentials with the account id some sources report.
struct SourcedCredentials {
  Credentials credentials;
  std::optional<std::string> account_id;
};

/// Parses credential_process stdout: a JSON object with `Version` equal to 1
/// (Python equality: 1, 1.0 and true pass), `AccessKeyId` and
/// `SecretAccessKey` strings, optional `SessionToken` (string or null; ""
/// means none), `Expiration` (ISO-8601, or null) and `AccountId` (string).
/// Errors: credential_process_bad_output (not JSON, not an object, wrong
/// version, missing or non-string keys, bad Expiration).
CredentialResult<SourcedCredentials> parse_credential_process_output(std::string_view stdout_text);

// --- Container (ECS / EKS Pod Identity) and EC2 IMDS ------------------------------------

/// Parses the JSON both metadata services answer: `AccessKeyId`,
/// `SecretAccessKey`, `Token` and `Expiration` (ISO-8601) are required,
/// `AccountId` optional. Errors: bad_credential_response (names the field).
CredentialResult<SourcedCredentials> parse_metadata_credentials(std::string_view body);

/// True when `body` parses as JSON (IMDS retries a 200 that does not).
bool is_valid_json(std::string_view body);

// --- SSO --------------------------------------------------------------------------

/// A cached SSO access token (~/.aws/sso/cache/<sha1>.json). Secret.
struct SsoToken {
  std::string access_token;
  TimePoint expires_at{};
  std::optional<std::string> start_url;
  std::optional<std::string> region;
  /// Present for sso-session tokens (what a refresh needs).
  std::optional<std::string> refresh_token;
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  /// Kept as written, copied unchanged into a refreshed token.
  std::optional<std::string> registration_expires_at;
};

/// Parses a token cache file. `accessToken` and `expiresAt` are required
/// (botocore `SSOTokenLoader`); the optional members must be strings when
/// present. Errors: sso_token_missing (not JSON, missing members),
/// bad_timestamp (expiresAt).
CredentialResult<SsoToken> parse_sso_token(std::string_view json);

/// The token cache document the CLI writes after a refresh (botocore
/// `SSOTokenProvider._attempt_create_token`): startUrl, region, accessToken,
/// expiresAt (`...Z`), clientId, clientSecret, registrationExpiresAt,
/// refreshToken (when known).
std::string serialize_sso_token(const SsoToken& token);

/// JSON body of sso-oidc CreateToken with grantType refresh_token.
std::string create_token_refresh_body(const SsoToken& token);

/// What CreateToken returns: accessToken, expiresIn (seconds), optional
/// refreshToken. Errors: bad_credential_response.
struct CreateTokenResult {
  std::string access_token;
  std::chrono::seconds expires_in{0};
  std::optional<std::string> refresh_token;
};
CredentialResult<CreateTokenResult> parse_create_token_response(std::string_view body);

/// Parses the portal's GetRoleCredentials answer:
/// `{"roleCredentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}}`
/// with `expiration` in epoch milliseconds. Errors: bad_credential_response.
CredentialResult<Credentials> parse_sso_role_credentials(std::string_view body);

/// The `message` (or `Message`) member of a JSON error body, if any; for
/// error messages of REST-JSON services (SSO, OIDC). Empty when absent.
std::string json_error_message(std::string_view body);

// --- The AWS CLI's credential cache (~/.aws/cli/cache/<key>.json) --------------------

/// A cache entry: the service response the CLI stored, reduced to what the
/// chain uses.
struct CachedCredentials {
  /// Always with an expiration (entries without one are rejected).
  Credentials credentials;
  /// AssumedRoleUser.Arn of an STS entry, if stored.
  std::optional<std::string> assumed_role_arn;
};

/// Parses a cache entry: `Credentials` with AccessKeyId, SecretAccessKey,
/// SessionToken and Expiration (ISO-8601; the CLI writes `...UTC` or
/// `...+00:00`). Errors: bad_credential_response.
CredentialResult<CachedCredentials> parse_cached_credentials(std::string_view json);

/// A cache entry as the CLI writes it: {"Credentials": {...}} plus
/// "AssumedRoleUser" {"AssumedRoleId", "Arn"} for STS or "ProviderType":
/// "sso". Expiration as `...Z`. Secret.
std::string serialize_cached_credentials(const Credentials& credentials, std::string_view assumed_role_id,
                                         std::string_view assumed_role_arn, std::string_view provider_type);

/// The account id (5th field) of an ARN such as
/// `arn:aws:sts::123456789012:assumed-role/R/S`, if it has one.
std::optional<std::string> account_id_from_arn(std::string_view arn);

}  // namespace ssmc::aws
