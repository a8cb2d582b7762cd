// Errors of the ssmc library: a std::error_code in the ssmc category plus the
// one-line message a user should see (it never contains a secret).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace ssmc {

/// What went wrong, coarsely; Error::message says exactly what.
enum class errc {
  invalid_argument = 1,  ///< empty target or command, port 0, ...
  config,                ///< no region, unreadable or malformed config/profile
  credentials,           ///< no credentials, or their provider failed
  api,                   ///< an AWS API call was refused (AccessDenied, TargetNotConnected, InvalidDocument...)
  unreachable,           ///< an endpoint could not be reached (DNS, connect, TLS, proxy)
  connection_lost,       ///< the data channel was lost and could not be resumed within the budget
  session_closed,        ///< the service or agent ended the session with a reason (idle timeout, ...)
  protocol,              ///< handshake failure, no session type, multiplexer failure
  no_exit_code,          ///< exec: the target reported no exit status
  unsupported,           ///< the agent cannot do this (e.g. multiplexed streams need agent > 3.0.196.0)
  closed,                ///< the session handle is closed
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// A failure: `code` to branch on, `message` to show. Empty (false) on success.
struct Error {
  std::error_code code;
  std::string message;
  explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

}  // namespace ssmc

template <>
struct std::is_error_code_enum<ssmc::errc> : std::true_type {};
