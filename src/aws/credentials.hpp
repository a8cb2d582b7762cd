// AWS credentials as the signer consumes them. Resolution (env, files, STS,
// SSO, ...) lives elsewhere; this header is only the value type.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>

namespace ssmc::aws {

/// A set of AWS credentials. The secret and the token are secrets: never log,
/// print or put them in an error message; use `redacted()` instead.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  /// Present for temporary credentials (STS, SSO, ...). An empty string is
  /// treated like "no token" (the AWS CLI does the same).
  std::optional<std::string> session_token;
  /// When temporary credentials stop working; nullopt = never expires.
  std::optional<std::chrono::system_clock::time_point> expiration;

  friend bool operator==(const Credentials&, const Credentials&) = default;
};

/// Text safe for logs: the access key id, "****" for the secret and (if any)
/// the token, and the expiration in UTC, e.g.
/// `AKIDEXAMPLE secret=**** token=**** expires=2015-08-30T13:36:00Z`.
std::string redacted(const Credentials& credentials);

/// Streams `redacted(credentials)` (so gtest and logs never show a secret).
std::ostream& operator<<(std::ostream& os, const Credentials& credentials);

}  // namespace ssmc::aws
