// Version gates between client and agent (05 §5, 06 §3.3, §4.4).
#pragma once

#include <string_view>

namespace ssmc::session {

/// Port sessions use smux iff AgentVersion > this (05 §5, 06 §4).
inline constexpr std::string_view kSmuxMinAgentVersion = "3.0.196.0";
/// The client disables smux keep-alive iff AgentVersion > this (06 §4.4).
inline constexpr std::string_view kSmuxKeepAliveOffAgentVersion = "3.1.1511.0";
/// Basic mode: Ctrl-C sends the TerminateSession flag iff AgentVersion > this,
/// else calls the TerminateSession API (06 §3.3).
inline constexpr std::string_view kTerminateFlagMinAgentVersion = "2.3.722.0";

/// True when dotted version `a` is strictly greater than `b`, comparing
/// numeric components left to right (missing components count as 0; a
/// non-numeric component makes the comparison false, as the agent's
/// validator fails closed).
bool version_greater(std::string_view a, std::string_view b);

}  // namespace ssmc::session
