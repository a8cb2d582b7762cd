// The public ssmc::Client (include/ssmc/client.hpp) over the session layer:
// AwsClient for credentials and the SSM API, ClientSession for the data
// channel, and library modes that hand streams to the caller instead of
// terminals and listeners.
#include "ssmc/client.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <variant>

#include "crypto/random.hpp"
#include "crypto/sha256.hpp"
#include "session/aws_client.hpp"
#include "session/client_session.hpp"
#include "session/modes.hpp"
#include "session/mux_bridge.hpp"
#include "session/version.hpp"
#include "wire/payloads.hpp"

extern char** environ;

namespace ssmc {

namespace asio = boost::asio;
using session::ClientSession;
using session::SessionNotice;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kShellReadSize = 4096;
constexpr std::size_t kPortChunk = 1024;  // what the official client sends per message (06)

Error make_error(errc e, std::string message) { return Error{make_error_code(e), std::move(message)}; }

/// Runs `handler(args...)` later (never inline), on the handler's associated
/// executor (asio::post honours it; append keeps the association).
template <class Handler, class... Args>
void complete(asio::any_io_executor ex, Handler handler, Args... args) {
  asio::post(ex, asio::append(std::move(handler), std::move(args)...));
}

SessionStats stats_of(const ClientSession* s, std::uint64_t reconnects) {
  SessionStats out;
  out.reconnects = reconnects;
  if (!s) return out;
  const auto& st = const_cast<ClientSession*>(s)->runner().engine().stats();
  out.messages_sent = st.stream_messages_sent;
  out.bytes_received = st.bytes_delivered;
  out.frames_in = st.frames_in;
  out.frames_out = st.frames_out;
  out.retransmissions = st.retransmissions;
  out.duplicates_received = st.duplicates_received;
  out.rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      const_cast<ClientSession*>(s)->runner().engine().rtt().srtt());
  return out;
}

/// Turns how a session ended into an Error (none: a normal end).
Error end_error(int rc, const std::string& closed_reason, const std::string& last_message) {
  if (!closed_reason.empty()) return make_error(errc::session_closed, closed_reason);
  switch (rc) {
    case session::kExitOk:
      return {};
    case session::kExitProtocol:
      return make_error(errc::protocol, last_message);
    case session::kExitInterrupted:
      return {};
    default:
      return make_error(errc::connection_lost, last_message);
  }
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '\n' || s[i] == '\r')) ++i;
  s.erase(0, i);
  if (s.starts_with("ssmc: ")) s.erase(0, 6);
  return s;
}

}  // namespace

// ====================================================================== shared

/// What every live session shares: its ClientSession, notices, end.
struct SessionCore {
  std::unique_ptr<ClientSession> session;
  std::string session_id;
  std::string closed_reason;
  std::string last_message;
  std::uint64_t reconnects = 0;
  bool running = false;         ///< the session type arrived
  bool channel_closed = false;  ///< the service ended the session (with or without a reason)
  bool ended = false;
  Error end;
  std::vector<asio::any_completion_handler<void(Error)>> waiters;

  void finish_waiters(asio::any_io_executor ex) {
    for (auto& w : waiters) complete(ex, std::move(w), end);
    waiters.clear();
  }
};

namespace detail {

struct ClientImpl : std::enable_shared_from_this<ClientImpl> {
  asio::any_io_executor ex;
  ClientConfig config;
  EventHandler events;
  std::unique_ptr<session::AwsClient> aws;
  bool initialised = false;

  ClientImpl(asio::any_io_executor e, ClientConfig c) : ex(std::move(e)), config(std::move(c)) {
    if (!config.environment) {  // the process environment as it is now (documented: at construction)
      config.environment.emplace();
      for (char** env = environ; env && *env; ++env) {
        const char* eq = std::strchr(*env, '=');
        if (eq)
          config.environment->emplace(std::string(*env, static_cast<std::size_t>(eq - *env)), std::string(eq + 1));
      }
    }
  }

  aws::Environment environment() const {
    aws::Environment env;
    for (const auto& [k, v] : *config.environment) env.emplace(k, v);
    if (config.credentials) {
      // In memory only: the resolver's environment step picks them up first.
      env["AWS_ACCESS_KEY_ID"] = config.credentials->access_key_id;
      env["AWS_SECRET_ACCESS_KEY"] = config.credentials->secret_access_key;
      if (config.credentials->session_token.empty()) {
        env.erase("AWS_SESSION_TOKEN");
      } else {
        env["AWS_SESSION_TOKEN"] = config.credentials->session_token;
      }
    }
    if (!config.ca_bundle.empty()) env["AWS_CA_BUNDLE"] = config.ca_bundle;
    return env;
  }

  /// Config, credentials, StartSession. Ok: the options for a ClientSession.
  asio::awaitable<std::variant<Error, session::ClientOptions>> start(std::string target, std::string document,
                                                                     aws::SessionParameters parameters) {
    auto self = shared_from_this();
    if (target.empty()) co_return make_error(errc::invalid_argument, "no target given");
    if (!initialised) {
      session::AwsSettings settings;
      settings.env = environment();
      settings.profile = config.profile;
      settings.region = config.region;
      settings.ssm_endpoint = config.endpoint_url;
      aws = std::make_unique<session::AwsClient>(ex, settings);
      if (auto r = aws->init(); !r) {
        aws.reset();
        co_return make_error(errc::config, r.error().message);
      }
      initialised = true;
    }
    auto creds = co_await aws->credentials();
    if (!creds) co_return make_error(errc::credentials, creds.error().message);
    aws::StartSessionRequest req;
    req.target = target;
    if (!document.empty()) req.document_name = document;
    req.parameters = std::move(parameters);
    auto res = co_await aws->start_session(req);
    if (!res) {
      const auto& f = res.error();
      co_return make_error(f.api_error ? errc::api : f.transport ? errc::unreachable : errc::config, f.message);
    }
    session::ClientOptions o;
    o.ticket = session::SessionTicket{res->session_id, res->stream_url, res->token_value};
    o.target = target;
    o.quiet = true;
    o.reconnect_budget = config.reconnect_budget;
    o.idle_timeout = config.keepalive_timeout;
    if (!config.ca_bundle.empty()) o.tls.ca_file = config.ca_bundle;
    co_return o;
  }

  /// Wires a session's notices to `core` and the client's event handler.
  void observe(session::ClientOptions& o, const std::shared_ptr<SessionCore>& core) {
    core->session_id = o.ticket.session_id;
    std::weak_ptr<SessionCore> weak = core;
    auto self = shared_from_this();
    o.notify = [weak, self](SessionNotice notice, const std::string& text) {
      auto c = weak.lock();
      if (!c) return;
      SessionEvent ev{SessionEvent::Type::message, c->session_id, trim(text)};
      switch (notice) {
        case SessionNotice::message:
          if (!ev.text.empty()) c->last_message = ev.text;
          break;
        case SessionNotice::connection_lost:
          ev.type = SessionEvent::Type::connection_lost;
          break;
        case SessionNotice::reconnected:
          ev.type = SessionEvent::Type::reconnected;
          ++c->reconnects;
          break;
        case SessionNotice::closed:
          ev.type = SessionEvent::Type::closed;
          c->closed_reason = text;
          c->channel_closed = true;
          break;
      }
      if (self->events && !(notice == SessionNotice::message && ev.text.empty())) self->events(ev);
    };
  }

  asio::awaitable<void> exec(ExecRequest request, asio::any_completion_handler<void(Error, ExecResult)> handler) {
    auto self = shared_from_this();
    ExecResult result;
    if (request.argv.empty()) {
      complete(ex, std::move(handler), make_error(errc::invalid_argument, "no command given"), std::move(result));
      co_return;
    }
    std::string doc = request.document.empty() ? "AWS-StartNonInteractiveCommand" : request.document;
    std::string command = session::shell_join(request.argv);
    std::string marker;
    if (doc == "AWS-StartNonInteractiveCommand") {
      std::array<std::uint8_t, 8> r{};
      crypto::system_random().fill(r);
      marker = "__SSMC_" + crypto::to_hex(r) + "__";
      command = session::wrap_command(command, marker);
    }
    aws::SessionParameters params{{"command", {command}}};
    auto started = co_await start(request.target, doc, std::move(params));
    if (auto* err = std::get_if<Error>(&started)) {
      complete(ex, std::move(handler), *err, std::move(result));
      co_return;
    }
    auto options = std::get<session::ClientOptions>(std::move(started));
    auto core = std::make_shared<SessionCore>();
    observe(options, core);
    result.session_id = core->session_id;
    std::optional<int> exit_code;
    session::CommandOptions co;
    co.marker = marker;
    co.write = [&result](int stream, std::span<const std::uint8_t> bytes) {
      (stream == 2 ? result.stderr_data : result.stdout_data).append(bytes.begin(), bytes.end());
    };
    co.on_exit_code = [&exit_code](std::optional<int> c) { exit_code = c; };
    auto mode = session::make_command_mode(std::move(co));
    core->session = std::make_unique<ClientSession>(ex, std::move(options), aws.get(), std::move(mode));
    const int rc = co_await core->session->run();
    result.stats = stats_of(core->session.get(), core->reconnects);
    Error error;
    if (exit_code) {
      result.exit_code = *exit_code < 0 ? 255 : (*exit_code & 0xff);
    } else {
      // A normal end without a status is no_exit_code; the mode's own "unknown is not success" code is not
      // an error of the session.
      error = core->channel_closed && core->closed_reason.empty()
                  ? Error{}
                  : end_error(rc, core->closed_reason, core->last_message);
      if (!error)
        error = make_error(errc::no_exit_code,
                           core->last_message.empty() ? "the target reported no exit status" : core->last_message);
    }
    complete(ex, std::move(handler), std::move(error), std::move(result));
  }
};

// ====================================================================== shared by sessions

/// The Mode a ClientSession calls, forwarded to an impl that outlives the session.
template <class Impl>
struct ForwardMode final : session::Mode {
  Impl* p;
  explicit ForwardMode(Impl* impl) : p(impl) {}
  void on_started(ClientSession& s, const channel::SessionStarted& st) override { p->on_started(s, st); }
  void on_data(ClientSession& s, wire::PayloadType t, std::vector<std::uint8_t>& b) override { p->on_data(s, t, b); }
  void on_writable(ClientSession& s) override { p->on_writable(s); }
  void on_closed(ClientSession& s) override { p->on_closed(s); }
};

/// Runs a started session to its end, then records how it ended and tells
/// whoever still waits (the start handler, async_wait_closed).
template <class Impl>
asio::awaitable<void> drive(Impl& impl, session::ClientOptions options) {
  auto& core = impl.core;
  impl.client->observe(options, core);
  core->session = std::make_unique<ClientSession>(impl.ex, std::move(options), impl.client->aws.get(),
                                                  std::make_unique<ForwardMode<Impl>>(&impl));
  const int rc = co_await core->session->run();
  core->ended = true;
  if (!core->end) core->end = end_error(rc, core->closed_reason, core->last_message);
  if (impl.start_pending()) {
    impl.fail_start(core->end ? core->end : make_error(errc::protocol, "the session ended before it started"));
  }
  core->finish_waiters(impl.ex);
}

// ====================================================================== port

struct PortImpl : session::Mode, session::MuxBridge::Owner, std::enable_shared_from_this<PortImpl> {
  asio::any_io_executor ex;
  std::shared_ptr<ClientImpl> client;
  std::shared_ptr<SessionCore> core = std::make_shared<SessionCore>();
  std::shared_ptr<session::MuxBridge> bridge;
  std::optional<asio::any_completion_handler<void(Error, PortSession)>> on_ready;
  bool multiplexed = false;

  explicit PortImpl(std::shared_ptr<ClientImpl> c) : ex(c->ex), client(std::move(c)) {}

  // Mode
  void on_started(ClientSession& s, const channel::SessionStarted& started) override {
    std::string type;
    if (started.properties.is_object()) {
      if (auto* t = started.properties.as_object().if_contains("type"); t && t->is_string()) type = t->as_string();
    }
    multiplexed =
        type == "LocalPortForwarding" && session::version_greater(started.agent_version, session::kSmuxMinAgentVersion);
    core->running = true;
    if (!multiplexed) {
      core->end = make_error(errc::unsupported, "agent " + started.agent_version +
                                                    " has no multiplexed port sessions (needs > " +
                                                    std::string(session::kSmuxMinAgentVersion) + ")");
      s.finish(session::kExitProtocol, true);
      return;
    }
    session::MuxBridge::Options bo;
    bo.role = mux::Role::client;
    bo.chunk = kPortChunk;
    bo.keep_alive = !session::version_greater(started.agent_version, session::kSmuxKeepAliveOffAgentVersion);
    bridge = session::MuxBridge::create(s.executor(), bo, *this);
    bridge->start();
    if (on_ready) {
      complete(ex, std::move(*on_ready), Error{}, PortSession(shared_from_this()));
      on_ready.reset();
    }
  }
  void on_data(ClientSession&, wire::PayloadType type, std::vector<std::uint8_t>& bytes) override {
    if (type == wire::PayloadType::output && bridge) bridge->on_payload(bytes);
  }
  void on_writable(ClientSession&) override {
    if (bridge) bridge->on_writable();
  }
  void on_closed(ClientSession&) override {
    if (bridge) bridge->stop();
  }
  // MuxBridge::Owner
  std::error_code send_payload(std::size_t max_size, channel::PayloadFill fill) override {
    return core->session->send_with(wire::PayloadType::output, max_size, fill);
  }
  void pause_input(bool paused) override { core->session->set_receive_ready(!paused); }
  void session_failed(std::error_code ec) override {
    core->end = make_error(errc::protocol, "multiplexer failed: " + ec.message());
    core->session->finish(session::kExitProtocol, true);
  }

  asio::awaitable<void> run(std::string target, std::string host, std::uint16_t port) {
    auto self = shared_from_this();
    aws::SessionParameters params{{"portNumber", {std::to_string(port)}}};
    std::string doc = "AWS-StartPortForwardingSession";
    if (!host.empty()) {
      doc = "AWS-StartPortForwardingSessionToRemoteHost";
      params.push_back({"host", {host}});
    }
    auto started = co_await client->start(std::move(target), doc, std::move(params));
    if (auto* err = std::get_if<Error>(&started)) {
      fail_start(*err);
      co_return;
    }
    co_await drive(*this, std::get<session::ClientOptions>(std::move(started)));
  }
  bool start_pending() const { return on_ready.has_value(); }

  void fail_start(Error e) {
    core->ended = true;
    core->end = e;
    if (on_ready) {
      complete(ex, std::move(*on_ready), std::move(e), PortSession());
      on_ready.reset();
    }
  }
};

// ====================================================================== shell, ssh

/// A session whose data is one byte stream handed to the user: a shell
/// (Standard_Stream with a terminal size) or an SSH stream (no terminal).
struct ShellImpl : session::Mode, std::enable_shared_from_this<ShellImpl> {
  asio::any_io_executor ex;
  std::shared_ptr<ClientImpl> client;
  std::shared_ptr<SessionCore> core = std::make_shared<SessionCore>();
  std::optional<asio::any_completion_handler<void(Error, Shell)>> on_ready;
  std::optional<asio::any_completion_handler<void(Error, SshSession)>> on_ready_ssh;
  bool terminal = true;
  asio::local::stream_protocol::socket ours;
  Stream theirs;
  std::deque<std::vector<std::uint8_t>> to_user;
  bool writing = false;
  bool closing = false;  ///< the session ended; the user side closes once to_user is written
  wire::TerminalSize size;
  asio::steady_timer writable;

  ShellImpl(std::shared_ptr<ClientImpl> c, unsigned cols, unsigned rows)
      : ex(c->ex), client(std::move(c)), ours(ex), theirs(ex), size{cols, rows}, writable(ex) {}

  void send_size() {
    if (!core->session || !core->running) return;
    const std::string json = wire::to_json(size);
    (void)core->session->send(wire::PayloadType::size,
                              {reinterpret_cast<const std::uint8_t*>(json.data()), json.size()});
  }

  void on_started(ClientSession&, const channel::SessionStarted&) override {
    core->running = true;
    if (terminal) send_size();
    asio::co_spawn(ex, read_user(shared_from_this()), asio::detached);
    if (on_ready) {
      complete(ex, std::move(*on_ready), Error{}, Shell(shared_from_this()));
      on_ready.reset();
    }
    if (on_ready_ssh) {
      complete(ex, std::move(*on_ready_ssh), Error{}, SshSession(shared_from_this()));
      on_ready_ssh.reset();
    }
  }
  void on_data(ClientSession&, wire::PayloadType type, std::vector<std::uint8_t>& bytes) override {
    if (type != wire::PayloadType::output || bytes.empty()) return;
    to_user.push_back(std::move(bytes));
    if (!writing) asio::co_spawn(ex, write_user(shared_from_this()), asio::detached);
  }
  void on_writable(ClientSession&) override { writable.cancel(); }
  void on_closed(ClientSession&) override {
    closing = true;
    writable.cancel();
    if (!writing) end_user_side();  // else write_user does it after the last queued output
  }

  /// The session is over and its output delivered: the user reads EOF, and
  /// read_user stops waiting for input (it holds this object alive otherwise).
  void end_user_side() {
    boost::system::error_code ec;
    ours.shutdown(asio::socket_base::shutdown_send, ec);
    ours.cancel(ec);
  }

  static asio::awaitable<void> write_user(std::shared_ptr<ShellImpl> self) {
    self->writing = true;
    while (!self->to_user.empty()) {
      auto chunk = std::move(self->to_user.front());
      self->to_user.pop_front();
      auto [ec, n] = co_await asio::async_write(self->ours, asio::buffer(chunk), use_tuple);
      if (ec) {
        self->to_user.clear();  // the user closed their end: nobody reads the rest
        break;
      }
    }
    self->writing = false;
    if (self->closing) self->end_user_side();
  }

  static asio::awaitable<void> read_user(std::shared_ptr<ShellImpl> self) {
    std::vector<std::uint8_t> buf(kShellReadSize);
    for (;;) {
      auto [ec, n] = co_await self->ours.async_read_some(asio::buffer(buf), use_tuple);
      if (ec || self->core->ended) break;
      std::span<const std::uint8_t> data(buf.data(), n);
      while (!self->core->ended) {
        auto sec = self->core->session->send(wire::PayloadType::output, data);
        if (sec != make_error_code(channel::Errc::would_block)) break;
        self->writable.expires_after(std::chrono::seconds(1));
        co_await self->writable.async_wait(use_tuple);
      }
    }
    // The user closed the stream: end the session.
    if (!self->core->ended && self->core->session) self->core->session->finish(session::kExitOk, true);
  }

  asio::awaitable<void> run(std::string target, std::string document, aws::SessionParameters parameters) {
    auto self = shared_from_this();
    asio::local::stream_protocol::socket user_end(ex);
    asio::local::connect_pair(ours, user_end);
    theirs = Stream(std::move(user_end));
    auto started = co_await client->start(std::move(target), std::move(document), std::move(parameters));
    if (auto* err = std::get_if<Error>(&started)) {
      fail_start(*err);
      co_return;
    }
    co_await drive(*this, std::get<session::ClientOptions>(std::move(started)));
  }
  bool start_pending() const { return on_ready.has_value() || on_ready_ssh.has_value(); }

  void fail_start(Error e) {
    core->ended = true;
    core->end = e;
    if (on_ready) {
      complete(ex, std::move(*on_ready), std::move(e), Shell());
      on_ready.reset();
    } else if (on_ready_ssh) {
      complete(ex, std::move(*on_ready_ssh), std::move(e), SshSession());
      on_ready_ssh.reset();
    }
  }
};

}  // namespace detail

// ====================================================================== Client

Client::Client(executor_type ex, ClientConfig config)
    : impl_(std::make_shared<detail::ClientImpl>(std::move(ex), std::move(config))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::executor_type Client::get_executor() const { return impl_->ex; }
void Client::set_event_handler(EventHandler handler) { impl_->events = std::move(handler); }

void Client::exec_impl(ExecRequest request, asio::any_completion_handler<void(Error, ExecResult)> handler) {
  auto impl = impl_;
  // The lambda (and so `impl`) lives as long as the coroutine, which starts only when the loop runs it.
  asio::co_spawn(
      impl->ex,
      [impl, r = std::move(request), h = std::move(handler)]() mutable {
        return impl->exec(std::move(r), std::move(h));
      },
      asio::detached);
}

void Client::port_impl(std::string target, std::string host, std::uint16_t port,
                       asio::any_completion_handler<void(Error, PortSession)> handler) {
  if (port == 0) {
    complete(impl_->ex, std::move(handler), make_error(errc::invalid_argument, "port 0"), PortSession());
    return;
  }
  auto p = std::make_shared<detail::PortImpl>(impl_);
  p->on_ready.emplace(std::move(handler));
  asio::co_spawn(
      impl_->ex,
      [p, t = std::move(target), h = std::move(host), port]() mutable {
        return p->run(std::move(t), std::move(h), port);
      },
      asio::detached);
}

void Client::shell_impl(std::string target, unsigned cols, unsigned rows,
                        asio::any_completion_handler<void(Error, Shell)> handler) {
  if (cols == 0 || rows == 0) {
    complete(impl_->ex, std::move(handler), make_error(errc::invalid_argument, "a terminal size of 0"), Shell());
    return;
  }
  auto s = std::make_shared<detail::ShellImpl>(impl_, cols, rows);
  s->on_ready.emplace(std::move(handler));
  asio::co_spawn(
      impl_->ex, [s, t = std::move(target)]() mutable { return s->run(std::move(t), "", {}); }, asio::detached);
}

void Client::ssh_impl(std::string target, std::uint16_t port,
                      asio::any_completion_handler<void(Error, SshSession)> handler) {
  if (port == 0) {
    complete(impl_->ex, std::move(handler), make_error(errc::invalid_argument, "port 0"), SshSession());
    return;
  }
  auto s = std::make_shared<detail::ShellImpl>(impl_, 0, 0);
  s->terminal = false;
  s->on_ready_ssh.emplace(std::move(handler));
  aws::SessionParameters params{{"portNumber", {std::to_string(port)}}};
  asio::co_spawn(
      impl_->ex,
      [s, t = std::move(target), pr = std::move(params)]() mutable {
        return s->run(std::move(t), "AWS-StartSSHSession", std::move(pr));
      },
      asio::detached);
}

// ====================================================================== handles

namespace {
const std::string kNoSession;
/// Handles that did not come from a Client are a programming error.
void require(bool session) {
  if (!session) throw std::logic_error("ssmc: this session handle was not obtained from a Client");
}
// What PortSession, Shell and SshSession share, over their impl's SessionCore.
template <class Impl>
const std::string& id_of(const std::shared_ptr<Impl>& impl) {
  return impl ? impl->core->session_id : kNoSession;
}
template <class Impl>
bool open_of(const std::shared_ptr<Impl>& impl) {
  return impl && !impl->core->ended;
}
template <class Impl>
SessionStats stats_of(const std::shared_ptr<Impl>& impl) {
  return impl ? stats_of(impl->core->session.get(), impl->core->reconnects) : SessionStats{};
}
template <class Impl>
void wait_closed(const std::shared_ptr<Impl>& impl, asio::any_completion_handler<void(Error)> handler) {
  require(impl != nullptr);
  if (impl->core->ended) {
    complete(impl->ex, std::move(handler), impl->core->end);
    return;
  }
  impl->core->waiters.push_back(std::move(handler));
}
template <class Impl>
void close_of(const std::shared_ptr<Impl>& impl) {
  if (impl && impl->core->session && !impl->core->ended) impl->core->session->finish(session::kExitOk, true);
}
}  // namespace

const std::string& PortSession::session_id() const { return id_of(impl_); }
bool PortSession::is_open() const { return open_of(impl_); }
SessionStats PortSession::stats() const { return stats_of(impl_); }
void PortSession::wait_closed_impl(asio::any_completion_handler<void(Error)> handler) {
  wait_closed(impl_, std::move(handler));
}
void PortSession::close() { close_of(impl_); }

void PortSession::open_stream_impl(asio::any_completion_handler<void(Error, Stream)> handler) {
  require(impl_ != nullptr);
  auto& p = *impl_;
  Stream user(p.ex);
  if (p.core->ended || !p.bridge) {
    complete(p.ex, std::move(handler), make_error(errc::closed, "the session has ended"), std::move(user));
    return;
  }
  asio::local::stream_protocol::socket a(p.ex), b(p.ex);
  asio::local::connect_pair(a, b);
  if (auto ec = p.bridge->add_connection(session::LocalSocket(std::move(a)))) {
    complete(p.ex, std::move(handler), make_error(errc::protocol, "cannot open a stream: " + ec.message()),
             std::move(user));
    return;
  }
  user = Stream(std::move(b));
  complete(p.ex, std::move(handler), Error{}, std::move(user));
}

const std::string& Shell::session_id() const { return id_of(impl_); }
bool Shell::is_open() const { return open_of(impl_); }
SessionStats Shell::stats() const { return stats_of(impl_); }
void Shell::wait_closed_impl(asio::any_completion_handler<void(Error)> handler) {
  wait_closed(impl_, std::move(handler));
}
void Shell::close() { close_of(impl_); }
Stream& Shell::stream() {
  require(impl_ != nullptr);
  return impl_->theirs;
}
void Shell::resize(unsigned cols, unsigned rows) {
  if (!impl_ || cols == 0 || rows == 0) return;
  impl_->size = wire::TerminalSize{cols, rows};
  impl_->send_size();
}

const std::string& SshSession::session_id() const { return id_of(impl_); }
bool SshSession::is_open() const { return open_of(impl_); }
SessionStats SshSession::stats() const { return stats_of(impl_); }
void SshSession::wait_closed_impl(asio::any_completion_handler<void(Error)> handler) {
  wait_closed(impl_, std::move(handler));
}
void SshSession::close() { close_of(impl_); }
Stream& SshSession::stream() {
  require(impl_ != nullptr);
  return impl_->theirs;
}

}  // namespace ssmc
