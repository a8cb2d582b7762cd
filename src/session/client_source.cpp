#include "session/client_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>

#include "session/stream_url.hpp"
#include "wire/payloads.hpp"
#include "wire/uuid.hpp"

namespace ssmc::session {

namespace {

class SourceCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.session"; }
  std::string message(int ev) const override {
    switch (static_cast<SourceErrc>(ev)) {
      case SourceErrc::ok: return "success";
      case SourceErrc::invalid_stream_url: return "invalid StreamUrl";
      case SourceErrc::session_timed_out: return "the session timed out and can no longer be resumed";
      case SourceErrc::cannot_resume:
        return "the connection was lost and this session cannot be resumed (presigned StreamUrl or no credentials)";
      case SourceErrc::reconnect_budget_spent: return "could not reconnect within the reconnect budget";
    }
    return "unknown session error";
  }
};

}  // namespace

const std::error_category& source_category() noexcept {
  static const SourceCategory category;
  return category;
}
std::error_code make_error_code(SourceErrc e) noexcept { return {static_cast<int>(e), source_category()}; }

ClientSource::ClientSource(asio::any_io_executor ex, SessionTicket ticket, Options options, Hooks hooks,
                           crypto::RandomSource& rng)
    : ex_(ex),
      ticket_(std::move(ticket)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      rng_(rng),
      client_id_(wire::Uuid::random_v4(rng).to_string()),
      backoff_(ex) {}

asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> ClientSource::open(std::string url, std::string token) {
  if (auto problem = stream_url_problem(url); !problem.empty()) {
    co_return make_error_code(SourceErrc::invalid_stream_url);
  }
  auto endpoint = net::parse_endpoint(url);
  if (!endpoint) co_return endpoint.error();
  net::WebSocketOptions ws_options = options_.websocket;
  if (hooks_.transport_options) {
    auto tls = ws_options.client.tls;
    ws_options.client = hooks_.transport_options(*endpoint);  // proxy (HTTPS_PROXY, NO_PROXY), AWS_CA_BUNDLE
    if (!tls.ca_file.empty()) ws_options.client.tls.ca_file = tls.ca_file;
    if (!tls.ca_pem.empty()) ws_options.client.tls.ca_pem = tls.ca_pem;
  }
  if (hooks_.sign) {
    // A signing failure falls back to an unsigned upgrade, as the official client does (02 §1.4).
    auto headers = co_await hooks_.sign(*endpoint);
    if (headers) ws_options.headers.insert(ws_options.headers.end(), headers->begin(), headers->end());
  }
  refused_status_ = 0;
  auto ws = co_await net::WebSocket::connect(ex_, *endpoint, std::move(ws_options), &refused_status_);
  if (!ws) co_return ws.error();
  // The official client pings first, then sends OpenDataChannel (02 §2, §4).
  (void)co_await (*ws)->ping();
  wire::OpenDataChannel open;
  open.request_id = wire::Uuid::random_v4(rng_).to_string();
  open.token_value = token;
  open.client_id = client_id_;
  open.client_version = options_.client_version;
  const std::string text = wire::to_json(open);
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  if (auto ec = co_await (*ws)->write(bytes, false)) {
    co_return ec;
  }
  co_return std::move(*ws);
}

asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> ClientSource::next(unsigned attempt) {
  if (attempt == 0) {
    auto ws = co_await open(ticket_.stream_url, ticket_.token);
    if (!ws) last_error_ = ws.error();
    co_return ws;
  }
  if (!hooks_.resume) co_return make_error_code(SourceErrc::cannot_resume);
  const auto give_up_at = std::chrono::steady_clock::now() + options_.reconnect_budget;
  auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kReconnectInitialDelay);
  for (unsigned tries = 1;; ++tries) {
    if (hooks_.cancelled && hooks_.cancelled()) co_return make_error_code(net::Errc::closed);
    // Full jitter in [delay/2, delay).
    std::uint8_t r[2];
    rng_.fill(r);
    const auto jitter = delay / 2 * ((r[0] << 8 | r[1]) % 1000) / 1000;
    backoff_.expires_after(delay / 2 + jitter);
    co_await backoff_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (hooks_.cancelled && hooks_.cancelled()) co_return make_error_code(net::Errc::closed);
    // Attempt 1 follows the "connection lost, reconnecting…" line at once; say more only when it drags on.
    if (hooks_.status && tries > 1) hooks_.status("reconnecting… (attempt " + std::to_string(tries) + ")");
    auto ticket = co_await hooks_.resume();
    if (!ticket && ticket.error().category() == source_category()) co_return ticket.error();  // e.g. timed out
    if (ticket) {
      if (ticket->token.empty()) co_return make_error_code(SourceErrc::session_timed_out);
      std::string url = ticket->stream_url.empty() ? ticket_.stream_url : ticket->stream_url;
      if (!stream_url_problem(url).empty()) url = ticket_.stream_url;  // 02 §1.1.1 rule 5: keep the old URL
      auto ws = co_await open(url, ticket->token);
      if (ws) {
        ticket_.stream_url = url;
        ticket_.token = ticket->token;
        co_return ws;
      }
      last_error_ = ws.error();
    } else {
      last_error_ = ticket.error();
    }
    if (std::chrono::steady_clock::now() >= give_up_at) {
      co_return make_error_code(SourceErrc::reconnect_budget_spent);
    }
    delay = std::min<std::chrono::steady_clock::duration>(delay * 2, kReconnectMaxDelay);
  }
}

}  // namespace ssmc::session
