#include "aws/errors.hpp"

#include <string>

namespace ssmc::aws {
namespace {

class AwsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.aws"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "ok";
      case Errc::missing_credentials:
        return "AWS credentials have an empty access key id or secret access key; check the profile or environment";
      case Errc::bad_signing_time:
        return "signing time is outside 1970-9999; check the system clock";
      case Errc::missing_scope:
        return "SigV4 region or service name is empty; pass a region (e.g. --region)";
      case Errc::missing_host_header:
        return "request to sign has no Host header; add one";
      case Errc::bad_percent_encoding:
        return "URL path or query has a '%' not followed by two hex digits; percent-encode it as %25";
      case Errc::conflicting_header:
        return "request already carries an X-Amz-Date, X-Amz-Security-Token or x-amz-content-sha256 header with a "
               "different value; remove it before signing";
      case Errc::bad_expiry:
        return "presigned URL lifetime must be between 1 second and 7 days";
      case Errc::bad_url:
        return "URL does not parse; check the StreamUrl returned by the API";
      case Errc::unsupported_url_scheme:
        return "URL scheme must be wss or ws";
      case Errc::missing_url_host:
        return "URL has no host";
      case Errc::url_already_presigned:
        return "URL is already presigned; connect with it unchanged and unsigned";
      case Errc::config_not_utf8:
        return "AWS config file is not valid UTF-8; save it as UTF-8";
      case Errc::config_missing_section_header:
        return "AWS config file has a line before the first section header; add [default] or [profile NAME]";
      case Errc::config_bad_section_header:
        return "AWS config file has a malformed section header; write it as [NAME]";
      case Errc::config_missing_equals:
        return "AWS config file has a line that is not 'name = value'";
      case Errc::config_empty_property_name:
        return "AWS config file has a property without a name";
      case Errc::config_bad_sub_property:
        return "AWS config file has an indented sub-property line without '='; write it as 'key = value'";
      case Errc::config_duplicate_section:
        return "AWS config file repeats a section (the AWS CLI rejects this); merge the two sections";
      case Errc::config_duplicate_property:
        return "AWS config file repeats a property in one section (the AWS CLI rejects this); keep one";
      case Errc::no_home_directory:
        return "HOME is not set; set HOME or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE";
      case Errc::endpoint_bad_url:
        return "endpoint URL does not parse; write it as https://host[:port][/path] without user, query or fragment";
      case Errc::endpoint_unsupported_scheme:
        return "endpoint URL must start with https:// (or http:// for a local emulator)";
      case Errc::endpoint_bad_port:
        return "endpoint URL port must be a number from 1 to 65535";
      case Errc::endpoint_missing_region:
        return "no AWS region; pass --region or set AWS_REGION or region in the profile";
      case Errc::endpoint_invalid_region:
        return "AWS region is not a valid name (letters, digits and '-', e.g. us-east-1); check --region";
      case Errc::endpoint_missing_services_section:
        return "the profile names a [services NAME] section that does not exist; add it or remove 'services'";
      case Errc::endpoint_bad_setting:
        return "sts_regional_endpoints must be 'regional' or 'legacy'";
      case Errc::api_bad_json:
        return "AWS API body is not a JSON object; check the endpoint URL points at the AWS service";
      case Errc::api_bad_member:
        return "AWS API body has a member of the wrong type or out of range";
      case Errc::api_missing_member:
        return "AWS API response lacks a required member";
      case Errc::api_bad_base64:
        return "AWS API response has a binary member that is not valid base64";
      case Errc::sigv4_missing_authentication:
        return "request is not signed (no Authorization header or X-Amz-Algorithm query parameter)";
      case Errc::sigv4_incomplete_signature:
        return "request's SigV4 Authorization header or presigned query is malformed";
      case Errc::sigv4_signature_mismatch:
        return "request's SigV4 signature does not match; check the secret key and the signing code";
      case Errc::sigv4_unknown_access_key:
        return "request is signed with an unknown access key id";
      case Errc::sigv4_invalid_token:
        return "request's session token is missing or wrong for its access key";
      case Errc::sigv4_expired_token:
        return "request is signed with expired credentials; refresh them";
      case Errc::sigv4_request_time_skewed:
        return "request's signing time is too far from the server clock (or the presigned URL expired); check the "
               "clock";
      // --- Credential chain and region ---
      case Errc::no_credentials:
        return "no AWS credentials found; run 'aws configure', set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pick "
               "a profile with --profile";
      case Errc::profile_not_found:
        return "the AWS profile does not exist in ~/.aws/config or ~/.aws/credentials; add it or fix --profile / "
               "AWS_PROFILE";
      case Errc::source_profile_not_found:
        return "a source_profile names a profile that does not exist; add it or fix source_profile";
      case Errc::sso_session_not_found:
        return "a profile's sso_session names a missing [sso-session] section; add it or fix sso_session";
      case Errc::credential_config_conflict:
        return "AWS profile settings contradict each other; keep only one of them";
      case Errc::credential_config_incomplete:
        return "AWS profile settings are incomplete; add the missing key";
      case Errc::credential_config_invalid_value:
        return "an AWS credential setting has an invalid value; fix it";
      case Errc::profile_loop:
        return "source_profile references form a loop; break the cycle";
      case Errc::source_profile_without_credentials:
        return "a source_profile has no credentials; add keys, credential_process or SSO settings to it";
      case Errc::credential_source_empty:
        return "the credential_source of a profile found no credentials; configure that source or use "
               "source_profile";
      case Errc::credential_file_unreadable:
        return "a file needed for AWS credentials cannot be read; check the path and its permissions";
      case Errc::credential_process_bad_command:
        return "credential_process is empty or has unbalanced quotes; fix the command line";
      case Errc::credential_process_failed:
        return "credential_process failed; run the command by hand to see why";
      case Errc::credential_process_bad_output:
        return "credential_process did not print Version 1 credentials JSON; fix the program's output";
      case Errc::sts_error:
        return "AWS STS refused the request; check the role, its trust policy and the source credentials";
      case Errc::sso_token_missing:
        return "no cached AWS SSO token; run 'aws sso login' for the profile";
      case Errc::sso_token_expired:
        return "the AWS SSO session has expired; run 'aws sso login' for the profile";
      case Errc::sso_error:
        return "AWS SSO GetRoleCredentials failed; check sso_account_id and sso_role_name";
      case Errc::container_bad_endpoint:
        return "the container credentials URI is missing, malformed or not an allowed host; fix "
               "AWS_CONTAINER_CREDENTIALS_FULL_URI";
      case Errc::container_error:
        return "the container credentials endpoint failed; check the task role and the endpoint";
      case Errc::imds_bad_endpoint:
        return "the EC2 metadata endpoint or endpoint mode is invalid; fix ec2_metadata_service_endpoint(_mode)";
      case Errc::imds_error:
        return "the EC2 instance metadata service could not be used; check the instance role and IMDS settings";
      case Errc::bad_credential_response:
        return "a credentials service sent a malformed response; check the endpoint URL";
      case Errc::credential_service_unreachable:
        return "a credentials service could not be reached; check the network, proxy and endpoint settings";
      case Errc::credentials_expired:
        return "the AWS credentials have expired; refresh them at their source";
      case Errc::mfa_unavailable:
        return "an MFA code is required but there is no terminal to ask on; run interactively";
      case Errc::no_region:
        return "no AWS region; pass --region, set AWS_REGION, or add region to the profile";
      case Errc::bad_timestamp:
        return "a timestamp is not ISO-8601 (e.g. 2025-01-31T12:00:00Z)";
    }
    return "unknown AWS error";
  }
};

}  // namespace

const std::error_category& aws_category() noexcept {
  static const AwsCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), aws_category()}; }

}  // namespace ssmc::aws
