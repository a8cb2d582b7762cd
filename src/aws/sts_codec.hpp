// AWS STS over the Query protocol (stack.md §1.4, §1.11): the form-encoded
// request bodies of AssumeRole and AssumeRoleWithWebIdentity, and the XML
// answers (<AssumeRoleResponse>, <AssumeRoleWithWebIdentityResponse>,
// <ErrorResponse>), read with a small XML parser of our own.
//
// Pure functions: no I/O, no clock. Parsed credentials are secrets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credential_codecs.hpp"
#include "aws/credentials.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

/// Query protocol version of STS (service model `apiVersion`).
inline constexpr std::string_view kStsApiVersion = "2011-06-15";
/// Content-Type of Query protocol requests, as botocore sends it.
inline constexpr std::string_view kQueryContentType = "application/x-www-form-urlencoded; charset=utf-8";
/// Deepest XML nesting accepted (STS answers nest 4 levels).
inline constexpr std::size_t kMaxXmlDepth = 64;

/// Percent-encodes a form value as botocore's Query serializer does
/// (`percent_encode`, safe characters `-_.~`; space is %20, not '+').
std::string form_urlencode(std::string_view value);

/// Parameters of sts:AssumeRole. Optional ones are sent only when set.
struct AssumeRoleParams {
  std::string role_arn;
  std::string role_session_name;
  std::optional<std::int64_t> duration_seconds;
  std::optional<std::string> external_id;
  std::optional<std::string> serial_number;
  std::optional<std::string> token_code;
};

/// `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…` then
/// DurationSeconds, ExternalId, SerialNumber, TokenCode when set: the
/// members in service-model order, as botocore serializes them.
std::string assume_role_body(const AssumeRoleParams& params);

/// Parameters of sts:AssumeRoleWithWebIdentity (sent unsigned). The token is
/// a secret.
struct WebIdentityParams {
  std::string role_arn;
  std::string role_session_name;
  std::string web_identity_token;
};

/// `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=…&RoleSessionName=…&WebIdentityToken=…`.
std::string assume_role_with_web_identity_body(const WebIdentityParams& params);

/// One XML element: local name (namespace prefix dropped), its character
/// data (entities and CDATA decoded, pieces around children concatenated)
/// and children in order. Attributes are parsed and dropped.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  /// The first child named `name`, or nullptr.
  const XmlElement* child(std::string_view child_name) const;
  /// The first element named `name` at any depth below this one (pre-order),
  /// or nullptr.
  const XmlElement* find(std::string_view descendant_name) const;
};

/// Parses one XML document: optional BOM, XML declaration, comments,
/// processing instructions and a DOCTYPE without internal subset; one root
/// element; the five predefined entities and numeric character references.
/// Strict about well-formedness (matching end tags, quoted attributes).
/// Errors: bad_credential_response (malformed, deeper than kMaxXmlDepth, or
/// a DOCTYPE with an internal subset).
Result<XmlElement> parse_xml(std::string_view text);

/// Credentials from a successful AssumeRole / AssumeRoleWithWebIdentity.
struct StsCredentials {
  /// With expiration; session token always present.
  Credentials credentials;
  std::string assumed_role_id;
  std::string assumed_role_arn;
  /// From assumed_role_arn.
  std::optional<std::string> account_id;
};

/// Parses a 2xx answer of `action` ("AssumeRole" or
/// "AssumeRoleWithWebIdentity"): <{action}Response><{action}Result>
/// <Credentials> with AccessKeyId, SecretAccessKey, SessionToken, Expiration
/// (ISO-8601), and <AssumedRoleUser> AssumedRoleId / Arn (optional).
/// Errors: bad_credential_response (names the missing element).
CredentialResult<StsCredentials> parse_sts_credentials(std::string_view xml, std::string_view action);

/// An error answer of a Query service.
struct StsServiceError {
  /// "Sender" or "Receiver" (may be empty).
  std::string type;
  /// e.g. "AccessDenied", "InvalidIdentityToken", "Throttling".
  std::string code;
  std::string message;
  std::string request_id;
};

/// Parses `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`
/// (also the EC2-style `<Response><Errors><Error>…`). nullopt when the body
/// is not XML or has no Error element with a Code.
std::optional<StsServiceError> parse_sts_error(std::string_view xml);

/// True for error codes the CLI's standard retry mode retries (throttling
/// and transient codes, botocore `retries/standard.py`).
bool is_retryable_error_code(std::string_view code);

}  // namespace ssmc::aws
