// The client's TransportSource: opens the data-channel WebSocket (signed
// upgrade, OpenDataChannel, 02 §1-§2) and, after a loss, resumes the session
// (ResumeSession → new token and StreamUrl → freshly signed reconnect with the
// same ClientId, 02 §5) with jittered exponential backoff inside a budget.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "crypto/random.hpp"
#include "net/websocket.hpp"
#include "session/runner.hpp"

namespace ssmc::session {

/// First reconnect delay (agent's reconnect policy, 08 §4.7: 100-199 ms, x2, max 5 s).
inline constexpr std::chrono::milliseconds kReconnectInitialDelay{100};
inline constexpr std::chrono::seconds kReconnectMaxDelay{5};
/// Default time allowed to get a lost session back before giving up.
inline constexpr std::chrono::minutes kDefaultReconnectBudget{10};

/// What StartSession / ResumeSession return.
struct SessionTicket {
  std::string session_id;
  std::string stream_url;
  std::string token;
};

/// Errors of the client source.
enum class SourceErrc {
  ok = 0,
  invalid_stream_url = 1,  ///< 02 §1.1.1 rule refused the URL
  session_timed_out,       ///< ResumeSession returned no token (02 §5)
  cannot_resume,           ///< presigned URL or no resume hook
  reconnect_budget_spent,  ///< every reconnect failed within the budget
};
const std::error_category& source_category() noexcept;
std::error_code make_error_code(SourceErrc e) noexcept;

class ClientSource final : public TransportSource {
 public:
  struct Hooks {
    /// Upgrade headers for `url` (SigV4, 02 §1.2); null = unsigned.
    std::function<asio::awaitable<Result<net::HttpHeaders>>(const net::Endpoint&)> sign;
    /// ResumeSession; null = the session cannot be resumed.
    std::function<asio::awaitable<Result<SessionTicket>>()> resume;
    /// One-line progress for the user ("reconnecting… (attempt 3)").
    std::function<void(const std::string&)> status;
    /// Checked while waiting: true = stop trying (the user quit).
    std::function<bool()> cancelled;
    /// Transport settings (proxy, CA bundle) for a URL; null = options.websocket.client.
    std::function<net::ClientOptions(const net::Endpoint&)> transport_options;
  };
  struct Options {
    net::WebSocketOptions websocket;
    std::chrono::steady_clock::duration reconnect_budget = kDefaultReconnectBudget;
    std::string client_version{channel::kClientVersion};
  };

  ClientSource(asio::any_io_executor ex, SessionTicket ticket, Options options, Hooks hooks,
               crypto::RandomSource& rng);

  asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> next(unsigned attempt) override;

  const std::string& client_id() const { return client_id_; }
  const SessionTicket& ticket() const { return ticket_; }
  /// Why the last connection attempt failed (for the final message).
  std::error_code last_error() const { return last_error_; }
  unsigned last_refused_status() const { return refused_status_; }

 private:
  asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> open(std::string url, std::string token);

  asio::any_io_executor ex_;
  SessionTicket ticket_;
  Options options_;
  Hooks hooks_;
  crypto::RandomSource& rng_;
  std::string client_id_;
  asio::steady_timer backoff_;
  std::error_code last_error_;
  unsigned refused_status_ = 0;
};

}  // namespace ssmc::session

template <>
struct std::is_error_code_enum<ssmc::session::SourceErrc> : std::true_type {};
