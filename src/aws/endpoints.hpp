// AWS endpoint resolution for the services ssmc talks to: SSM, SSM Message
// Gateway (ssmmessages), KMS, STS, IAM Identity Center (SSO portal, OIDC).
//
// Pure: the environment and the shared-config profile come in as values
// (config_file.hpp); nothing here calls getenv or reads a file.
//
// Default endpoints follow the endpoint rule sets of botocore 1.43.11
// (`data/<service>/*/endpoint-rule-set-1.json`, `data/partitions.json`):
//   https://<prefix>.<region>.<dnsSuffix>                   plain
//   https://<prefix>-fips.<region>.<dnsSuffix>              FIPS
//   https://<prefix>.<region>.<dualStackDnsSuffix>          dual-stack
//   https://<prefix>-fips.<region>.<dualStackDnsSuffix>     FIPS + dual-stack
// with the exceptions of those rule sets: in aws-us-gov the FIPS-only
// endpoint of ssm, sts, portal.sso and oidc is the plain host
// (`ssm.us-gov-west-1.amazonaws.com`); STS uses the global
// `https://sts.amazonaws.com` (signing region us-east-1) for the region
// `aws-global`, and for the 16 legacy regions when `sts_regional_endpoints =
// legacy`. ssmmessages has no public rule set; it follows the generic
// pattern (its FIPS and dual-stack hosts are UNVERIFIED).
//
// Configured endpoints ("service-specific endpoints", botocore
// `ConfiguredEndpointProvider`, AWS SDKs and Tools reference guide), highest
// precedence first:
//   1. the explicit URL of the caller (`--endpoint-url`, plugin argv[6]);
//      only the caller decides which service it applies to (01 §1: SSM only);
//   2. AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_SSM);
//   3. AWS_ENDPOINT_URL;
//   4. `endpoint_url` under the service key of the `[services NAME]` section
//      named by the profile's `services = NAME`;
//   5. `endpoint_url` in the profile;
//   6. the default endpoint above.
// 2-5 are skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
// `ignore_configured_endpoint_urls`) is true. Empty values count as unset.
// A configured endpoint turns FIPS and dual-stack off (botocore
// `compute_endpoint_resolver_builtin_defaults`).
//
// Booleans (use_fips_endpoint, ...) are true only for "true" in any case
// (botocore `ensure_boolean`); the environment variable, when set (even to
// ""), wins over the profile.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "aws/config_file.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

enum class Service { ssm, ssmmessages, kms, sts, sso_portal, sso_oidc };

/// Naming facts of one service.
struct ServiceInfo {
  /// Host label(s) before the region: "ssm", "portal.sso", "oidc".
  std::string_view endpoint_prefix;
  /// SigV4 signing name: "ssm", "ssmmessages", "kms", "sts", "awsssoportal",
  /// "sso-oauth" (service models' `signingName`, else the endpoint prefix).
  std::string_view signing_name;
  /// Suffix of the service-specific variable: AWS_ENDPOINT_URL_<env_suffix>
  /// ("SSM", "SSMMESSAGES", "KMS", "STS", "SSO", "SSO_OIDC").
  std::string_view env_suffix;
  /// Key inside a `[services NAME]` section ("ssm", ..., "sso", "sso_oidc").
  std::string_view config_key;
};
const ServiceInfo& service_info(Service service);

/// One AWS partition (botocore 1.43.11 `partitions.json`).
struct Partition {
  std::string_view id;                    // "aws", "aws-cn", ...
  std::string_view dns_suffix;            // "amazonaws.com"
  std::string_view dualstack_dns_suffix;  // "api.aws"
};

/// The partition of `region`: an exact match of a partition's global pseudo
/// region (`aws-global`, `aws-cn-global`, ...), else the first partition
/// whose region pattern matches (`cn-*` aws-cn, `us-gov-*` aws-us-gov,
/// `us-iso-*` aws-iso, `us-isob-*` aws-iso-b, `eu-isoe-*` aws-iso-e,
/// `us-isof-*` aws-iso-f, `eusc-de-*` aws-eusc, `us|eu|ap|sa|ca|me|af|il|mx-*`
/// aws), else aws (as the rule-set function `aws.partition` does).
const Partition& partition_of(std::string_view region);

/// Where an endpoint came from (for `--debug` output and messages).
enum class EndpointSource { explicit_url, env_service, env_global, config_service, config_global, builtin };
std::string_view to_string(EndpointSource source);

/// A resolved endpoint.
struct Endpoint {
  /// "https" or "http" (lower case).
  std::string scheme = "https";
  /// Host as written in the URL, percent-encoded form; an IPv6 literal keeps
  /// its brackets ("[::1]").
  std::string host;
  /// The port to connect to (the scheme default when the URL has none).
  std::uint16_t port = 443;
  /// Path prefix of a configured endpoint, encoded, as written ("" or
  /// "/prefix" or "/prefix/"); "/" alone is stored as "".
  std::string base_path;
  /// SigV4 region and signing name to use with this endpoint.
  std::string signing_region;
  std::string signing_name;
  EndpointSource source = EndpointSource::builtin;

  /// `scheme://host[:port]base_path`, the port only when not the default.
  std::string url() const;
  /// The Host header (and SigV4 `host`): host, plus ":port" when the port is
  /// not the scheme's default (what botocore and the Go SDK sign).
  std::string host_header() const;
  /// The request path for an operation path (botocore `_urljoin`): "/" gives
  /// base_path (or "/"); otherwise base_path + path without a doubled '/'.
  std::string request_path(std::string_view path = "/") const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// A resolution failure: the Errc and one line that names the setting to fix.
struct EndpointError {
  std::error_code code;
  std::string message;
};
/// Only for result<T, EndpointError>::value() on an error (a caller bug).
[[noreturn]] void throw_exception_from_error(const EndpointError& error, const boost::source_location& location);
template <class T>
using EndpointResult = boost::system::result<T, EndpointError>;

/// Parses a configured endpoint URL (`https://host[:port][/path]`, http
/// allowed for local emulators). scheme/host/port/base_path are filled,
/// signing fields are left empty. Errors: endpoint_bad_url (does not parse,
/// no host, user info, query or fragment), endpoint_unsupported_scheme,
/// endpoint_bad_port.
Result<Endpoint> parse_endpoint_url(std::string_view url);

/// FIPS / dual-stack / STS switches of the default endpoint.
struct EndpointVariant {
  bool fips = false;
  bool dualstack = false;
  /// sts_regional_endpoints = legacy: the 16 legacy regions use the global
  /// STS endpoint.
  bool sts_legacy_global = false;
};

/// The default endpoint of `service` in `region` (step 6 above).
/// Errors: endpoint_missing_region, endpoint_invalid_region (not a DNS label:
/// letters, digits, '-', 1-63 characters, no leading/trailing '-').
Result<Endpoint> default_endpoint(Service service, std::string_view region, const EndpointVariant& variant = {});

/// Everything resolution reads. Null pointers mean "none".
struct EndpointInputs {
  std::string_view region;
  /// Step 1; empty = none.
  std::string_view explicit_url;
  const Environment* env = nullptr;
  /// The selected profile's properties (ProfileSet::profiles[name]).
  const Properties* profile = nullptr;
  /// ProfileSet::services.
  const SectionMap* services = nullptr;
};

/// The switches of `inputs`' environment and profile: AWS_USE_FIPS_ENDPOINT /
/// use_fips_endpoint, AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint,
/// AWS_STS_REGIONAL_ENDPOINTS / sts_regional_endpoints ("regional" default,
/// or "legacy"). Errors: endpoint_bad_setting (another STS value).
EndpointResult<EndpointVariant> endpoint_variant(const EndpointInputs& inputs);

/// Resolves the endpoint of `service` by the precedence above. The signing
/// region is `inputs.region` (us-east-1 for the global STS endpoint), which
/// is required even for a configured endpoint (SigV4 needs it). Errors:
/// endpoint_missing_region, the parse errors of the chosen URL (the message
/// names its source, e.g. "AWS_ENDPOINT_URL_SSM: endpoint URL '...' is not
/// usable (...)"), endpoint_missing_services_section (the profile names a
/// `[services NAME]` section that does not exist, as botocore reports),
/// endpoint_bad_setting, and those of default_endpoint.
EndpointResult<Endpoint> resolve_endpoint(Service service, const EndpointInputs& inputs);

}  // namespace ssmc::aws
