// Error codes of the AWS codec half: SigV4 signing and verification, the
// WebSocket-upgrade signer, the shared config/credentials file parser, file
// locations, endpoint resolution and the JSON 1.1 API codecs.
#pragma once

#include <system_error>

namespace ssmc::aws {

/// Why a signing request or a config file was rejected. Every code is a
/// value: nothing in src/aws throws on bad input. Messages say what is wrong
/// and what to do; they never contain secrets.
enum class Errc {
  ok = 0,

  // --- SigV4 (sigv4.hpp) ---
  /// Access key id or secret access key is empty.
  missing_credentials,
  /// The signing time is outside the years 1970..9999.
  bad_signing_time,
  /// Region or service (signing name) is empty.
  missing_scope,
  /// The request has no Host header (SigV4 always signs `host`).
  missing_host_header,
  /// A '%' in the path or query is not followed by two hex digits.
  bad_percent_encoding,
  /// The request already carries X-Amz-Date, X-Amz-Security-Token or
  /// x-amz-content-sha256 with a value other than the one being signed.
  conflicting_header,
  /// Presigned-URL lifetime outside 1 s .. 7 days.
  bad_expiry,
  /// The URL does not parse (RFC 3986).
  bad_url,
  /// The URL scheme is not ws or wss.
  unsupported_url_scheme,
  /// The URL has no host.
  missing_url_host,
  /// The URL is already presigned (02 §1.3): send it unchanged, unsigned.
  url_already_presigned,

  // --- Shared config / credentials files (config_file.hpp) ---
  /// The file is not valid UTF-8 (the AWS CLI refuses it too).
  config_not_utf8,
  /// A property (or any non-comment line) appears before the first section.
  config_missing_section_header,
  /// A line starts with '[' but is not a valid section header.
  config_bad_section_header,
  /// A line inside a section is neither a section header nor `name = value`.
  config_missing_equals,
  /// `= value` with nothing before the '='.
  config_empty_property_name,
  /// An indented line under `name =` (sub-property block) has no '='.
  config_bad_sub_property,
  /// The same section header appears twice in one file.
  config_duplicate_section,
  /// The same property appears twice in one section of one file.
  config_duplicate_property,

  // --- File locations ---
  /// The home directory is needed (for `~`) but not in the environment.
  no_home_directory,

  // --- Endpoint resolution (endpoints.hpp) ---
  /// A configured endpoint URL does not parse, has no host, or has user
  /// info, a query or a fragment.
  endpoint_bad_url,
  /// A configured endpoint URL's scheme is not https or http.
  endpoint_unsupported_scheme,
  /// A configured endpoint URL's port is not a number in 1..65535.
  endpoint_bad_port,
  /// No region to build an endpoint (or sign) for.
  endpoint_missing_region,
  /// The region is not a DNS label (letters, digits, '-').
  endpoint_invalid_region,
  /// The profile's `services = NAME` names a section that does not exist.
  endpoint_missing_services_section,
  /// An endpoint setting has an invalid value (sts_regional_endpoints).
  endpoint_bad_setting,

  // --- JSON 1.1 API codecs (api.hpp) ---
  /// A body is not a JSON object.
  api_bad_json,
  /// A member has the wrong JSON type or breaks a model constraint.
  api_bad_member,
  /// A member the caller needs is absent or empty.
  api_missing_member,
  /// A blob member is not valid base64.
  api_bad_base64,

  // --- SigV4 verification (sigv4_verify.hpp) ---
  /// Neither an Authorization header nor X-Amz-Algorithm in the query.
  sigv4_missing_authentication,
  /// The Authorization header or the presigned query is malformed or lacks a part.
  sigv4_incomplete_signature,
  /// The recomputed signature differs (or the credential scope is wrong).
  sigv4_signature_mismatch,
  /// The access key id is unknown.
  sigv4_unknown_access_key,
  /// The session token is missing, unexpected or wrong for the access key.
  sigv4_invalid_token,
  /// The credentials of the access key have expired.
  sigv4_expired_token,
  /// X-Amz-Date is too far from the server clock, or a presigned URL expired.
  sigv4_request_time_skewed,

  // --- Credential chain and region (credential_chain.hpp, credential_codecs.hpp,
  //     sts_codec.hpp). Failed::message names the profile/key and says what to do.
  /// No provider of the AWS CLI chain found credentials.
  no_credentials,
  /// The profile given by --profile / AWS_PROFILE / AWS_DEFAULT_PROFILE is in neither file.
  profile_not_found,
  /// A `source_profile` names a profile that does not exist.
  source_profile_not_found,
  /// A profile's `sso_session` names an [sso-session] section that does not exist.
  sso_session_not_found,
  /// Settings contradict each other (source_profile and credential_source, SSO values).
  credential_config_conflict,
  /// Settings are incomplete (one of a key pair, role_arn without a source, SSO keys).
  credential_config_incomplete,
  /// A setting has a value the CLI rejects (credential_source name, number, mode).
  credential_config_invalid_value,
  /// `source_profile` references form a loop.
  profile_loop,
  /// A `source_profile` yields no credentials.
  source_profile_without_credentials,
  /// A `credential_source` yields no credentials.
  credential_source_empty,
  /// A file the chain needs (token file, legacy credentials file) cannot be read.
  credential_file_unreadable,
  /// `credential_process` is empty or not a valid shell-like command line.
  credential_process_bad_command,
  /// `credential_process` could not be started or exited with a non-zero status.
  credential_process_failed,
  /// `credential_process` printed something other than Version 1 credentials JSON.
  credential_process_bad_output,
  /// STS answered with an error (the message carries its code and request id).
  sts_error,
  /// No cached SSO token for the profile's session / start URL (or it is unusable).
  sso_token_missing,
  /// The cached SSO token expired (or was rejected) and could not be refreshed.
  sso_token_expired,
  /// The SSO portal answered GetRoleCredentials with an error.
  sso_error,
  /// AWS_CONTAINER_CREDENTIALS_*_URI is missing, malformed or not an allowed host.
  container_bad_endpoint,
  /// The container credentials endpoint failed (status, body, connection).
  container_error,
  /// The EC2 metadata endpoint or mode setting is invalid.
  imds_bad_endpoint,
  /// The EC2 metadata service failed in a way the CLI reports (IMDSv1 disabled).
  imds_error,
  /// A credentials service answered 200 with a body that is not the expected shape.
  bad_credential_response,
  /// The HTTP request to a credentials service failed (connection, timeout).
  credential_service_unreachable,
  /// The resolved credentials have already expired.
  credentials_expired,
  /// AssumeRole needs an MFA code but there is no terminal to ask on.
  mfa_unavailable,
  /// No region from --region, AWS_REGION, AWS_DEFAULT_REGION or the profile.
  no_region,
  /// A timestamp is not ISO-8601.
  bad_timestamp,
};

const std::error_category& aws_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace ssmc::aws

template <>
struct std::is_error_code_enum<ssmc::aws::Errc> : std::true_type {};
