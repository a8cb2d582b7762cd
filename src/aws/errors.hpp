// Error codes of the AWS codec half: SigV4 signing, the WebSocket-upgrade
// signer, the shared config/credentials file parser and file locations.
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
};

const std::error_category& aws_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace ssmc::aws

template <>
struct std::is_error_code_enum<ssmc::aws::Errc> : std::true_type {};
