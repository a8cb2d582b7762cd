// A small blocking facade over ssmc::Client, for programs without an event
// loop. Each call runs its own io_context on the calling thread.
#pragma once

#include <chrono>

#include "ssmc/client.hpp"

namespace ssmc::blocking {

struct ExecOutcome {
  Error error;  ///< empty on success (the remote command ran; see result.exit_code)
  ExecResult result;
};

/// Runs one command and waits for it. `timeout` bounds the whole call; when it
/// passes the session is terminated and error is errc::connection_lost with a
/// message saying so. Errors: as Client::async_exec.
ExecOutcome exec(const ClientConfig& config, const ExecRequest& request,
                 std::chrono::milliseconds timeout = std::chrono::minutes(10));

}  // namespace ssmc::blocking
