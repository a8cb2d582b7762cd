// The AWS CLI v2 credential chain and region resolution, sans-I/O
// (stack.md §1.11; botocore `credentials.py` of awscli 2.9.19 / the v2 branch).
//
// Shape (nghttp2 style): a CredentialResolver is built from everything it may
// need (environment, --profile, the config files or a FileReader for them,
// the current time) and then stepped:
//
//   CredentialResolver r(std::move(input));
//   while (true) {
//     auto action = r.next_action();
//     HttpAction:       send it; r.on_http_response(...) or r.on_http_error(...)
//     RunProcessAction: run argv; r.on_process_result(...) or r.on_process_error(...)
//     PromptMfaAction:  ask on the terminal; r.on_mfa_code(...) or r.on_mfa_unavailable()
//     WriteCacheAction: write the file (mode 0600); nothing to feed back
//     Done:             use done.credentials; stop
//     Failed:           show failed.message; stop
//   }
//
// Nothing here opens a socket, spawns a process, sleeps, reads the clock or
// the environment; files (web identity token, SSO token cache, the CLI's
// credential cache, legacy credential files) are read through FileReader.
//
// The chain, first provider with credentials wins (create_credential_resolver):
//   1. environment (AWS_ACCESS_KEY_ID ...) — skipped when --profile is given;
//   2. assume role: the profile has role_arn (and no web_identity_token_file),
//      source_profile (recursively) or credential_source;
//   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN unless --profile,
//      else the profile's web_identity_token_file/role_arn);
//   4. SSO (sso_account_id / sso_role_name, sso_session or legacy keys);
//   5. shared credentials file keys;  6. credential_process;
//   7. config file keys;  8. AWS_CREDENTIAL_FILE, boto2 config (legacy);
//   9. ECS/EKS container endpoint;  10. EC2 IMDS (v2 token, v1 fallback).
// See plan_credentials for the exact rules. Caches as the CLI: assumed-role,
// web-identity and SSO role credentials in ~/.aws/cli/cache/<sha1>.json
// (reused with >= 15 minutes left, looked up before any token file is read),
// SSO tokens in ~/.aws/sso/cache/<sha1>.json (refreshed through sso-oidc
// CreateToken within 15 minutes of expiry).
//
// Beyond awscli 2.9.19, as the current CLI v2 does: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
// https/loopback/EKS container URIs, AccountId / aws_account_id,
// ec2_metadata_v1_disabled, configured endpoint URLs for STS/SSO
// (endpoints.hpp). Deliberate deviations: a timestamp without zone is UTC
// (the CLI crashes); a profile reached as source_profile uses its own
// sso_session (the CLI looks at the selected profile's); a legacy SSO token
// past expiresAt fails locally (the CLI lets the portal refuse it); retries
// back off without jitter; IMDS's "expiration extension" for stale
// credentials and the newer `login` provider are not implemented.
//
// Secrets: Done::credentials, WriteCacheAction::contents, HttpAction headers
// and bodies (signatures, tokens) are secrets: never log them. Every message
// (Failed::message) is free of secrets: the resolver removes any secret it
// has seen from it before returning it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "aws/config_file.hpp"
#include "aws/credential_codecs.hpp"
#include "aws/credentials.hpp"
#include "aws/sigv4.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

// --- Constants (each from the botocore code named) ---------------------------

/// Temporary credentials with less than this left are refreshed, and cached
/// ones are not reused (`_DEFAULT_ADVISORY_REFRESH_TIMEOUT`,
/// `CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS`, SSO `_REFRESH_WINDOW`).
inline constexpr std::chrono::minutes kCredentialRefreshWindow{15};
/// Connect/read timeout of STS, SSO and SSO-OIDC calls (botocore `DEFAULT_TIMEOUT`).
inline constexpr std::chrono::seconds kServiceTimeout{60};
/// Attempts of STS / SSO calls: `max_attempts` default of retry_mode standard.
inline constexpr int kDefaultMaxAttempts = 3;
/// Cap of the standard-mode retry backoff (botocore `retries/standard.py` `MAX_BACKOFF`).
inline constexpr std::chrono::seconds kMaxRetryBackoff{20};
/// Container endpoint: timeout, attempts and pause (`ContainerMetadataFetcher`).
inline constexpr std::chrono::seconds kContainerTimeout{2};
inline constexpr int kContainerAttempts = 3;
inline constexpr std::chrono::seconds kContainerRetryPause{1};
/// ECS task endpoint host of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
inline constexpr std::string_view kEcsHost = "169.254.170.2";
/// IMDS defaults (`DEFAULT_METADATA_SERVICE_TIMEOUT`, `metadata_service_num_attempts`).
inline constexpr std::chrono::seconds kImdsDefaultTimeout{1};
inline constexpr int kImdsDefaultAttempts = 1;
/// IMDSv2 token lifetime asked for (`IMDSFetcher._TOKEN_TTL`).
inline constexpr std::string_view kImdsTokenTtlSeconds = "21600";
inline constexpr std::string_view kImdsIpv4Endpoint = "http://169.254.169.254/";
inline constexpr std::string_view kImdsIpv6Endpoint = "http://[fd00:ec2::254]/";

// --- Inputs ---------------------------------------------------------------------

/// Reads whole files for the resolver. The I/O shell implements it over the
/// file system; tests over a map or a fixture directory.
class FileReader {
 public:
  virtual ~FileReader() = default;
  /// The file's bytes. A missing file must be reported as
  /// std::errc::no_such_file_or_directory (a miss, not an error, for
  /// optional files); anything else is a read error.
  virtual Result<std::string> read_file(const std::string& path) = 0;
};

/// The shared config and credentials files as the chain needs them.
struct SharedConfig {
  /// Where they are (config_file_paths); empty when unknown (no HOME).
  ConfigFilePaths paths;
  ParsedFile config_file;
  ParsedFile credentials_file;
  /// merge_profiles(config_file, credentials_file): what the CLI calls full_config.
  ProfileSet profiles;
  /// Profiles of the config file alone (ConfigProvider reads only it).
  SectionMap config_profiles;
  /// Sections of the credentials file alone, by raw name (SharedCredentialProvider).
  SectionMap credentials_profiles;
};

/// Builds a SharedConfig from parsed files (pass ParsedFile{} for a missing one).
SharedConfig make_shared_config(ParsedFile config_file, ParsedFile credentials_file, ConfigFilePaths paths = {});

/// Reads and parses both files at config_file_paths(env). A missing file is
/// empty; without HOME (and without AWS_CONFIG_FILE/…) both are empty.
/// Errors: credential_file_unreadable (a read error other than "not found"),
/// the config_* parse codes (message "<path>: line N: ...").
CredentialResult<SharedConfig> load_shared_config(const Environment& env, FileReader& files);

/// Everything the resolver uses.
struct ResolverInput {
  Environment env;
  /// --profile (the plugin's argv[4]); empty = not given. When given, the
  /// environment provider and the web-identity environment variables are off.
  std::string cli_profile;
  /// --region (the plugin's argv[2]); picks the STS endpoint. Empty = from
  /// AWS_REGION / AWS_DEFAULT_REGION / the profile, else the global endpoint.
  std::string cli_region;
  /// The files, when the caller already parsed them; nullopt = read them
  /// through `files` with load_shared_config.
  std::optional<SharedConfig> config;
  /// Required; not owned, must outlive the resolver.
  FileReader* files = nullptr;
  /// Wall-clock time (signing, expiry checks, default session names).
  std::chrono::system_clock::time_point now{};
};

// --- Actions ------------------------------------------------------------------------

/// Send this request and feed the answer back with on_http_response (any
/// status) or on_http_error (no answer: connection, TLS, timeout; pass
/// std::errc::timed_out for a timeout). Complete as is: Host and every other
/// header are in `headers`, STS AssumeRole is already SigV4-signed.
struct HttpAction {
  /// What this is, for logs: "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity",
  /// "sso:GetRoleCredentials", "sso-oidc:CreateToken", "container",
  /// "imds:token", "imds:role", "imds:credentials".
  std::string purpose;
  /// "https" or "http".
  std::string scheme;
  /// Host to connect to: a name or an IP address, IPv6 without brackets.
  std::string host;
  std::uint16_t port = 443;
  std::string method;
  /// Request target path ("/..."), as on the wire.
  std::string path = "/";
  /// Query without '?', as on the wire; may be empty.
  std::string query;
  /// Headers to send, Host first; Content-Length when there is a body (an
  /// HTTP layer that sets it itself must replace it, not add a second one).
  /// Secret (tokens, signatures).
  Headers headers;
  /// Body. Secret (web identity token, SSO refresh token).
  std::string body;
  /// Give up after this long (connect + answer) and report std::errc::timed_out.
  std::chrono::milliseconds timeout{0};
  /// Wait this long before sending (retry backoff); usually zero.
  std::chrono::milliseconds delay{0};

  /// `scheme://host[:port]path[?query]` (IPv6 hosts bracketed), for logs.
  std::string url() const;
};

/// Run this program (no shell; argv[0] looked up in PATH), with the caller's
/// environment and stdin, capturing stdout and stderr; then call
/// on_process_result, or on_process_error if it could not be started.
struct RunProcessAction {
  std::vector<std::string> argv;
  /// The credential_process value as configured (for messages).
  std::string command;
  std::string profile;
};

/// Ask the user for an MFA code (the CLI prompts `Enter MFA code for
/// <serial>: ` without echo) and call on_mfa_code, or on_mfa_unavailable when
/// there is no terminal.
struct PromptMfaAction {
  std::string mfa_serial;
  std::string prompt;
  std::string profile;
};

/// Optional: store `contents` at `path` (create the directory, mode 0600),
/// as the CLI does for its caches. Nothing is fed back; ignoring it only costs
/// a later STS/SSO call. Secret.
struct WriteCacheAction {
  std::string path;
  std::string contents;
};

/// Success.
struct Done {
  Credentials credentials;
  std::optional<std::string> account_id;
  /// The CLI's provider name (`Credentials.method`): "env", "assume-role",
  /// "assume-role-with-web-identity", "sso", "shared-credentials-file",
  /// "custom-process", "config-file", "ec2-credentials-file", "boto-config",
  /// "container-role", "iam-role".
  std::string method;
  /// Human-readable origin, e.g. "assume-role via profile 'dev' (source:
  /// shared credentials file, profile 'base')".
  std::string source;
};

/// Failure: a code (errors.hpp) and one line saying what and what to do.
struct Failed {
  std::error_code code;
  std::string message;
};

using ResolverAction = std::variant<HttpAction, RunProcessAction, PromptMfaAction, WriteCacheAction, Done, Failed>;

// --- The plan (pure; exposed for tests) ----------------------------------------------------

/// Credentials known without I/O (environment, files).
struct StaticSource {
  Credentials credentials;
  std::optional<std::string> account_id;
  std::string method;
  std::string description;
};
struct ProcessSource {
  std::string profile;
  std::string command;
  std::vector<std::string> argv;
  /// The profile's aws_account_id: used when the output has no AccountId.
  std::optional<std::string> account_id;
};
/// Where AWS_CONTAINER_CREDENTIALS_*_URI points.
struct ContainerEndpoint {
  /// The full URL as given / built.
  std::string url;
  std::string scheme;
  /// Without IPv6 brackets.
  std::string host;
  std::uint16_t port = 80;
  /// Host header value (IPv6 bracketed, port when not default).
  std::string host_header;
  std::string path;
  std::string query;
};
struct ContainerSource {
  ContainerEndpoint endpoint;
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read when fetching), preferred.
  std::optional<std::string> auth_token_file;
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN.
  std::optional<std::string> auth_token;
};
/// EC2 instance metadata settings.
struct ImdsConfig {
  /// Base URL ending in '/', e.g. "http://169.254.169.254/".
  std::string base_url;
  std::string scheme;
  std::string host;
  std::uint16_t port = 80;
  std::string host_header;
  /// Path prefix of base_url, ending in '/'.
  std::string base_path = "/";
  std::chrono::milliseconds timeout = kImdsDefaultTimeout;
  int attempts = kImdsDefaultAttempts;
  /// ec2_metadata_v1_disabled / AWS_EC2_METADATA_V1_DISABLED.
  bool v1_disabled = false;
  /// AWS_EC2_METADATA_DISABLED=true.
  bool disabled = false;
};
struct ImdsSource {
  ImdsConfig config;
};
struct WebIdentitySource {
  std::string profile;
  std::string token_file;
  std::string role_arn;
  /// Configured (non-empty) name; else botocore-session-<unix seconds>.
  std::optional<std::string> role_session_name;
};
struct SsoSource {
  std::string profile;
  std::string start_url;
  std::string sso_region;
  std::string account_id;
  std::string role_name;
  /// The sso-session name; empty for a legacy profile.
  std::string session_name;
};
using CredentialSource =
    std::variant<StaticSource, ProcessSource, ContainerSource, ImdsSource, WebIdentitySource, SsoSource>;

/// One sts:AssumeRole on top of the credentials before it.
struct AssumeRoleStep {
  std::string profile;
  std::string role_arn;
  /// Configured (non-empty) name; else botocore-session-<unix seconds>.
  std::optional<std::string> role_session_name;
  std::optional<std::string> external_id;
  std::optional<std::string> mfa_serial;
  /// duration_seconds when it parses as a Python int (else ignored, as the CLI).
  std::optional<std::int64_t> duration_seconds;
};

struct CredentialPlan {
  /// The selected profile.
  std::string profile;
  CredentialSource source;
  /// How the source was reached, for Done::source and messages, e.g.
  /// "source_profile 'base'" or "credential_source Ec2InstanceMetadata of
  /// profile 'dev'"; empty for a top-level provider.
  std::string source_origin;
  /// Set when the source is a profile's credential_source (an empty source
  /// is then credential_source_empty instead of no_credentials).
  bool from_credential_source = false;
  /// Roles to assume, first one with the source's credentials.
  std::vector<AssumeRoleStep> roles;
};

/// Decides, without I/O (files other than the config files aside: the
/// legacy AWS_CREDENTIAL_FILE and boto config are read through
/// input.files), which provider supplies credentials, by the CLI's rules:
/// - the selected profile must exist when named by --profile, AWS_PROFILE or
///   AWS_DEFAULT_PROFILE (profile_not_found); an absent implicit "default" is
///   fine;
/// - IMDS settings are validated first, as the CLI builds its provider
///   eagerly (imds_bad_endpoint, credential_config_invalid_value);
/// - environment: AWS_ACCESS_KEY_ID non-empty (" " counts, as in the CLI),
///   then AWS_SECRET_ACCESS_KEY must be non-empty; token AWS_SECURITY_TOKEN
///   then AWS_SESSION_TOKEN; AWS_CREDENTIAL_EXPIRATION; AWS_ACCOUNT_ID;
/// - assume role: source_profile XOR credential_source
///   (credential_config_conflict / credential_config_incomplete);
///   credential_source is one of Environment, Ec2InstanceMetadata,
///   EcsContainer (case-sensitive; invalid_credential_source →
///   credential_config_invalid_value); a source profile with static keys, or
///   without role_arn, is resolved by the profile providers (steps 3-7, env
///   off), otherwise by another AssumeRole; a profile may be its own
///   source_profile only if it has static keys; other revisits → profile_loop;
/// - SSO: as botocore `SSOProvider` (missing keys → credential_config_incomplete,
///   values differing from the sso-session → credential_config_conflict,
///   unknown session → sso_session_not_found). Deviation: a profile that
///   reaches SSO as a source_profile uses its own sso_session (CLI 2.9.19
///   looks at the selected profile's and crashes);
/// - shared credentials file / config file: aws_access_key_id present needs
///   aws_secret_access_key in the same file (credential_config_incomplete);
///   token aws_security_token then aws_session_token; aws_account_id;
/// - container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI set;
/// - IMDS unless AWS_EC2_METADATA_DISABLED=true; else no_credentials.
CredentialResult<CredentialPlan> plan_credentials(const ResolverInput& input, const SharedConfig& config);

/// The container endpoint from the environment: RELATIVE_URI →
/// http://169.254.170.2<uri> (wins over FULL_URI); FULL_URI: https to any
/// host; http only to a loopback address (localhost, 127.0.0.0/8, ::1),
/// 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (the cross-SDK rule the
/// current CLI follows). Errors: container_bad_endpoint.
CredentialResult<ContainerEndpoint> container_endpoint(const Environment& env);

/// IMDS settings from the environment and the selected profile's
/// properties (`profile` may be null): endpoint (`endpoint_override`, then
/// AWS_EC2_METADATA_SERVICE_ENDPOINT, then ec2_metadata_service_endpoint,
/// a '/' appended when missing) else mode (`mode_override`, then
/// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, then
/// ec2_metadata_service_endpoint_mode; IPv4/IPv6 in any case; else
/// imds_use_ipv6) → kImdsIpv4Endpoint / kImdsIpv6Endpoint; timeout
/// (AWS_METADATA_SERVICE_TIMEOUT / metadata_service_timeout, seconds) and
/// attempts (AWS_METADATA_SERVICE_NUM_ATTEMPTS / metadata_service_num_attempts).
/// Errors: imds_bad_endpoint (bad URL or mode), credential_config_invalid_value
/// (a number that does not parse, or attempts < 1).
CredentialResult<ImdsConfig> imds_config(const Environment& env, const Properties* profile,
                                         std::string_view endpoint_override = {}, std::string_view mode_override = {});

// --- The resolver -------------------------------------------------------------------------

class CredentialResolver {
 public:
  explicit CredentialResolver(ResolverInput input);
  ~CredentialResolver();
  CredentialResolver(CredentialResolver&&) noexcept;
  CredentialResolver& operator=(CredentialResolver&&) noexcept;

  /// The next thing to do. After an HttpAction, RunProcessAction or
  /// PromptMfaAction, the resolver waits for the matching on_* call; asking
  /// again meanwhile returns the same action. A WriteCacheAction needs no
  /// answer. Done and Failed are final and repeat.
  ResolverAction next_action();

  /// Answers to the pending HttpAction. Calls that do not match the pending
  /// action are ignored (a caller bug; debug builds assert).
  void on_http_response(int status, Headers headers, std::string body);
  void on_http_error(std::error_code error);
  /// Answer to the pending RunProcessAction (exit status 0 = success).
  void on_process_result(int exit_code, std::string stdout_text, std::string stderr_text);
  void on_process_error(std::error_code error);
  /// Answer to the pending PromptMfaAction.
  void on_mfa_code(std::string code);
  void on_mfa_unavailable();
  /// Updates the clock (e.g. after a slow MFA prompt), for signing and expiry.
  void set_time(std::chrono::system_clock::time_point now);

  /// The plan, once the first next_action() has made it (nullptr before, or
  /// when planning failed).
  const CredentialPlan* plan() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when `expiration - now < window`, computed without overflow (times
/// parsed from files may be clamped to TimePoint::min() / max()).
bool expires_within(TimePoint expiration, TimePoint now, std::chrono::system_clock::duration window);

/// True when `credentials` expire within kCredentialRefreshWindow of `now`
/// (then resolve again); false for credentials without an expiration.
bool needs_refresh(const Credentials& credentials, std::chrono::system_clock::time_point now);

/// The region the CLI uses: `cli_region` (--region) if non-empty, else
/// AWS_REGION, else AWS_DEFAULT_REGION, else the selected profile's `region`
/// (selected_profile(env, cli_profile)); empty values count as unset.
/// Errors: no_region, with a message naming the profile and the three ways
/// to set one.
CredentialResult<std::string> resolve_region(const Environment& env, const ProfileSet& profiles,
                                             std::string_view cli_profile, std::string_view cli_region);

}  // namespace ssmc::aws
