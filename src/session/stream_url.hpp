// StreamUrl validation before any connection or signing (02 §1.1.1).
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ssmc::session {

/// Returns an empty string when `url` may be connected to, else the reason
/// it is refused (for "Cannot perform start session: invalid StreamUrl: <reason>").
/// Accepted: wss:// to ssmmessages[-fips].<region>.<partition suffix> (or a
/// dual-stack suffix, or vpce-…​.ssmmessages.<region>.vpce.amazonaws.com[.cn]);
/// ws:// or wss:// to loopback hosts (tests, the emulator). Rejected: parse
/// errors, user-info, empty host, other schemes, any other host.
std::string stream_url_problem(std::string_view url);

}  // namespace ssmc::session
