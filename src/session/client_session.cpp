#include "session/client_session.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "aws/sigv4.hpp"
#include "util/log.hpp"

namespace ssmc::session {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}
}  // namespace

ClientSession::ClientSession(asio::any_io_executor ex, ClientOptions options, AwsClient* aws,
                             std::unique_ptr<Mode> mode)
    : ex_(ex), options_(std::move(options)), aws_(aws), mode_(std::move(mode)) {}

ClientSession::~ClientSession() = default;

void ClientSession::say(const std::string& text) const {
  if (options_.notify) {
    options_.notify(SessionNotice::message, text);
    return;
  }
  FILE* out = options_.plugin_mode ? stdout : stderr;
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

asio::awaitable<int> ClientSession::run() {
  ClientSource::Options so;
  so.websocket.client.tls = options_.tls;
  so.websocket.idle_timeout = options_.idle_timeout;
  so.reconnect_budget = options_.reconnect_budget;
  ClientSource::Hooks hooks;
  if (aws_ && options_.sign_upgrade) {
    hooks.sign = [this](const net::Endpoint& ep) -> asio::awaitable<Result<net::HttpHeaders>> {
      auto headers = co_await aws_->sign_upgrade(ep);
      if (!headers) {
        log::info("upgrade not signed: {}", headers.error().message);
        co_return headers.error().code;
      }
      co_return *headers;
    };
  }
  if (aws_ && options_.can_resume) {
    hooks.resume = [this]() -> asio::awaitable<Result<SessionTicket>> {
      // Credentials are re-resolved (refreshed if expiring) by the call (02 §5).
      auto r = co_await aws_->resume_session(session_id());
      if (!r) {
        log::info("ResumeSession: {}", r.error().message);
        if (r.error().api_error && r.error().api_error->code == "DoesNotExistException") {
          co_return make_error_code(SourceErrc::session_timed_out);
        }
        co_return r.error().code;
      }
      co_return SessionTicket{r->session_id, r->stream_url, r->token_value};
    };
  }
  hooks.status = [this](const std::string& line) { say("ssmc: " + line + "\n"); };
  if (aws_) hooks.transport_options = [this](const net::Endpoint& ep) { return aws_->http_options(ep); };
  hooks.cancelled = [this] { return finishing_; };
  source_ = std::make_unique<ClientSource>(ex_, options_.ticket, so, std::move(hooks), crypto::system_random());

  RunnerOptions ro;
  ro.engine.role = channel::Role::client;
  ro.engine.session_id = session_id();
  ro.engine.target_id = options_.target;
  ro.engine.legacy_cli = options_.legacy_cli;
  ro.engine.unix_ms_at_start = unix_ms_now();
  ro.engine.newline_quirk = false;  // applied by the terminal mode only (05 §2.3)
  ro.engine.adaptive_window = options_.adaptive_window;
  runner_ = std::make_unique<ChannelRunner>(ex_, std::move(ro), crypto::system_random(), *source_, *this);

  // No session type within start_timeout: say so instead of hanging (02 §2).
  asio::steady_timer start_timer(ex_);
  start_timer.expires_after(options_.start_timeout);
  start_timer.async_wait([this](boost::system::error_code ec) {
    if (ec || started_ || finishing_) return;
    say("ssmc: no answer from the agent within the start timeout: the session did not start "
        "(is the agent on the target running and up to date?)\n");
    finish(kExitProtocol, true);
  });

  auto ec = co_await runner_->run();
  start_timer.cancel();
  if (ec && !finishing_) {
    if (ec == make_error_code(SourceErrc::session_timed_out)) {
      say(options_.plugin_mode ? "Session: " + session_id() + " timed out.\n"
                               : "ssmc: session " + session_id() + " timed out and cannot be resumed\n");
      exit_code_ = options_.plugin_mode ? kExitOk : kExitConnection;
    } else if (ec == make_error_code(SourceErrc::invalid_stream_url)) {
      say("Cannot perform start session: invalid StreamUrl: " + source_->ticket().stream_url + "\n");
      exit_code_ = options_.plugin_mode ? kExitOk : kExitConnection;
    } else {
      std::string why = ec.message();
      if (source_->last_error()) why += " (last error: " + source_->last_error().message();
      if (source_->last_refused_status()) why += ", HTTP " + std::to_string(source_->last_refused_status());
      if (source_->last_error()) why += ")";
      say((options_.plugin_mode ? "Cannot perform start session: " : "ssmc: connection to the session failed: ") + why +
          "\n");
      exit_code_ = options_.plugin_mode ? kExitOk : kExitConnection;
    }
  }
  mode_->on_closed(*this);
  if (terminate_requested_ && aws_ && !channel_closed_) {
    auto r = co_await aws_->terminate_session(session_id());
    if (!r) log::info("TerminateSession: {}", r.error().message);
  }
  co_return exit_code_;
}

std::error_code ClientSession::send(wire::PayloadType type, std::span<const std::uint8_t> payload) {
  if (finishing_) return make_error_code(channel::Errc::closed);
  return runner_->send(type, payload);
}

std::error_code ClientSession::send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill) {
  if (finishing_) return make_error_code(channel::Errc::closed);
  return runner_->send_with(type, max_size, fill);
}

void ClientSession::set_receive_ready(bool ready) {
  runner_->engine().set_receive_ready(ready, channel::Clock::now());
  runner_->pump();
}

void ClientSession::finish(int exit_code, bool terminate) {
  if (finishing_) return;
  finishing_ = true;
  exit_code_ = exit_code;
  terminate_requested_ = terminate;
  // Let what is queued (e.g. a TerminateSession flag) go out briefly.
  runner_->stop(std::chrono::milliseconds(300));
}

void ClientSession::on_event(channel::Event& event) {
  if (auto* data = std::get_if<channel::DataReceived>(&event)) {
    mode_->on_data(*this, data->type, data->bytes);
  } else if (auto* started = std::get_if<channel::SessionStarted>(&event)) {
    started_ = true;
    agent_version_ = started->agent_version;
    if (started->encrypted && !started->customer_message.empty()) say(started->customer_message + "\n");
    mode_->on_started(*this, *started);
  } else if (auto* closed = std::get_if<channel::ChannelClosedEvent>(&event)) {
    channel_closed_ = true;
    const std::string& output = closed->payload.output;
    if (options_.notify) options_.notify(SessionNotice::closed, output);
    // 03 §8: with a reason the official client prints "SessionId: <id> : <reason>".
    if (!output.empty()) {
      say("\n\nSessionId: " + session_id() + " : " + output + "\n\n");
      // Ended by the service or agent with a reason (idle timeout, handshake
      // failure, ...): not a success for ssmc's own commands.
      if (!options_.plugin_mode && exit_code_ == kExitOk) exit_code_ = started_ ? kExitConnection : kExitProtocol;
    } else {
      banner("\n\nExiting session with sessionId: " + session_id() + ".\n\n");
    }
    if (!finishing_) finish(exit_code_);
  } else if (auto* failed = std::get_if<channel::HandshakeFailed>(&event)) {
    say("ssmc: the session handshake failed: " + failed->reason + "\n");
    finish(kExitProtocol, true);
  } else if (std::get_if<channel::ResendTimeout>(&event)) {
    say("ssmc: the agent stopped acknowledging data; ending the session\n");
    finish(kExitConnection, true);
  } else if (std::get_if<channel::Writable>(&event)) {
    mode_->on_writable(*this);
  } else if (auto* drop = std::get_if<channel::FrameDropped>(&event)) {
    log::debug("dropped a frame: {} {}", drop->error.message(), drop->detail);
  }
}

void ClientSession::on_transport_lost(std::error_code error) {
  if (finishing_) return;
  log::info("connection lost: {}", error.message());
  if (options_.notify) options_.notify(SessionNotice::connection_lost, error.message());
  if (!options_.plugin_mode) say("ssmc: connection lost (" + error.message() + "), reconnecting…\n");
}

void ClientSession::on_transport_restored(unsigned attempt) {
  log::info("reconnected (replacement {})", attempt);
  if (options_.notify) options_.notify(SessionNotice::reconnected, std::to_string(attempt));
  if (!options_.plugin_mode) banner("ssmc: reconnected\n");
}

asio::awaitable<Result<channel::KmsResult>> ClientSession::kms(const channel::KmsRequest& request) {
  if (!aws_) co_return std::make_error_code(std::errc::operation_not_supported);
  aws::GenerateDataKeyRequest req;
  req.key_id = request.key_id;
  req.encryption_context = request.encryption_context;
  auto r = co_await aws_->generate_data_key(std::move(req));
  if (!r) {
    say("ssmc: KMS GenerateDataKey failed: " + r.error().message + "\n");
    co_return r.error().code;
  }
  co_return channel::KmsResult{r->plaintext, r->ciphertext_blob};
}

}  // namespace ssmc::session
