// ssmc: AWS Session Manager client. Also a drop-in `session-manager-plugin`
// (when invoked under that name, or as `ssmc plugin ...`; spec 07).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <regex>

#include "aws/sigv4.hpp"
#include "channel/data_channel.hpp"
#include "crypto/random.hpp"
#include "crypto/sha256.hpp"
#include "session/client_session.hpp"
#include "session/modes.hpp"
#include "util/log.hpp"
#include "wire/go_json.hpp"

extern char** environ;

namespace {

using namespace ssmc;
using namespace ssmc::session;
namespace asio = boost::asio;

constexpr std::string_view kEnvResponse = "AWS_SSM_START_SESSION_RESPONSE";
constexpr std::string_view kExitCodesHelp =
    "Exit codes: 0 ok (exec: the remote command's status), 2 usage, 3 credentials/config, 4 AWS API error,\n"
    "5 connection lost or refused, 6 protocol/handshake, 7 local (port in use, terminal), 130 interrupted.\n"
    "As session-manager-plugin, every handled path exits 0 (spec 07).";

aws::Environment environment() {
  aws::Environment env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

/// Picks the mode once the session type is known (plugin mode, spec 07).
class AutoMode final : public Mode {
 public:
  explicit AutoMode(bool plugin) : plugin_(plugin) {}
  void on_started(ClientSession& s, const channel::SessionStarted& started) override {
    std::string type;
    if (started.properties.is_object()) {
      if (auto* t = started.properties.as_object().if_contains("type"); t && t->is_string()) type = t->as_string();
    }
    if (started.session_type == "Port" && type == "LocalPortForwarding") {
      PortOptions po;
      po.plugin_mode = plugin_;
      const auto& props = started.properties.as_object();
      auto str = [&](std::string_view k) {
        auto* v = props.if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      if (str("localConnectionType") == "unix") {
        po.listen.unix_socket = true;
        po.listen.bind = str("localUnixSocket");
      } else {
        po.listen.port = static_cast<std::uint16_t>(std::atoi(str("localPortNumber").c_str()));
      }
      po.label = "port " + str("portNumber");
      inner_ = make_port_mode(po);
    } else if (started.session_type == "Port") {
      inner_ = make_stdio_mode();
    } else {
      inner_ = make_terminal_mode(TerminalOptions{plugin_, true});
    }
    inner_->on_started(s, started);
  }
  void on_data(ClientSession& s, wire::PayloadType t, std::vector<std::uint8_t>& b) override {
    if (inner_) inner_->on_data(s, t, b);
  }
  void on_writable(ClientSession& s) override {
    if (inner_) inner_->on_writable(s);
  }
  void on_closed(ClientSession& s) override {
    if (inner_) inner_->on_closed(s);
  }

 private:
  bool plugin_;
  std::unique_ptr<Mode> inner_;
};

/// Runs one coroutine to completion on a fresh io_context; returns its int.
int run_main(std::function<asio::awaitable<int>(asio::io_context&)> body) {
  // One thread runs the loop (BOOST_ASIO_CONCURRENCY_HINT_1): handlers
  // posted from the loop skip the scheduler's lock and wake-ups.
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_1};
  int rc = kExitOk;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e, int r) {
    rc = r;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "ssmc: internal error: %s\n", ex.what());
        rc = 70;
      }
    }
    io.stop();
  });
  io.run();
  return rc;
}

// ------------------------------------------------------------------ plugin

int plugin_main(std::vector<std::string> args) {
  // args[0] is the program name (ignored, 07 §1).
  const std::size_t n = args.size();
  if (n == 1) {
    std::printf("\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n");
    return 0;
  }
  if (n == 2 && args[1] == "--version") {
    std::printf("%s\n", std::string(channel::kClientVersion).c_str());
    return 0;
  }
  if (n <= 3) {
    std::printf("\nUnknown operation %s. \nUse session-manager-plugin --version to check the version.\n\n",
                args[1].c_str());
    return 0;
  }
  std::string response = args[1];
  if (response.starts_with(kEnvResponse)) {
    const char* v = std::getenv(response.c_str());
    response = v ? v : "";
    ::unsetenv(args[1].c_str());  // never let children see the token (07 §2.2)
  }
  const std::string region = args[2];
  const std::string profile = n >= 5 ? args[4] : "";
  std::string target;
  if (n >= 6) {
    boost::system::error_code ec;
    auto req = boost::json::parse(args[5], ec);
    if (ec || !req.is_object() || !req.as_object().contains("Target") || !req.as_object().at("Target").is_string()) {
      std::printf("Cannot perform start session: the request parameters (argument 5) have no Target\n");
      return 0;
    }
    target = req.as_object().at("Target").as_string();
  }
  const std::string endpoint = n >= 7 ? args[6] : "";
  if (args[3] != "StartSession") {
    std::printf("Invalid Operation");
    return 0;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(response, ec);
  if (ec || !parsed.is_object()) {
    std::printf("Cannot perform start session: %s\n", ec ? ec.message().c_str() : "response is not a JSON object");
    return 0;
  }
  const auto& obj = parsed.as_object();
  const auto sid = wire::go_json::get_string(obj, "SessionId");
  const auto url = wire::go_json::get_string(obj, "StreamUrl");
  const auto token = wire::go_json::get_string(obj, "TokenValue");
  if (!sid || !url || !token) {
    std::printf("Cannot perform start session: the response lacks SessionId, StreamUrl or TokenValue\n");
    return 0;
  }
  ClientOptions co;
  co.ticket = SessionTicket{std::string(*sid), std::string(*url), std::string(*token)};
  co.target = target;
  co.plugin_mode = true;
  co.legacy_cli = n == 4;
  std::printf("\nStarting session with SessionId: %s\n", co.ticket.session_id.c_str());
  std::fflush(stdout);
  const auto presigned_result = aws::is_presigned_url(co.ticket.stream_url);
  const bool presigned = presigned_result && *presigned_result;
  const char* skip = std::getenv("SSM_PLUGIN_SKIP_CLIENT_CONFIGURE");
  co.sign_upgrade = !presigned && !(skip && std::string_view(skip) == "true");
  co.can_resume = !presigned;
  // The AWS CLI runs us with SIGINT/SIGQUIT/SIGTSTP ignored (07 §4): the
  // terminal runs in raw mode (keys arrive as bytes); port mode installs its own.
  return run_main([&](asio::io_context& io) -> asio::awaitable<int> {
    AwsSettings settings;
    settings.env = environment();
    settings.profile = profile;
    settings.region = region;
    settings.ssm_endpoint = endpoint;
    auto aws = std::make_unique<AwsClient>(io.get_executor(), settings);
    if (auto r = aws->init(); !r) log::info("AWS configuration: {}", r.error().message);
    ClientSession session(io.get_executor(), co, aws.get(), std::make_unique<AutoMode>(true));
    asio::signal_set stop(io, SIGTERM, SIGHUP);
    stop.async_wait([&](boost::system::error_code e, int) {
      if (!e) session.finish(kExitOk, true);
    });
    int rc = co_await session.run();
    stop.cancel();
    co_return rc == kExitOk ? 0 : 0;  // every handled path exits 0 (07 §5)
  });
}

// ------------------------------------------------------------------ commands

struct Global {
  std::string profile, region, endpoint_url;
  int verbose = 0;
  bool quiet = false;
  double reconnect_budget = 600;
  double idle_timeout = 20;
  std::size_t payload_size = channel::kStreamDataPayloadSize;
  std::string ca_bundle;
};

/// Upper end of --payload-size: one smux frame's largest data length rounded
/// up; far beyond what the spec calls safe for the real gateway (1024).
constexpr std::size_t kMaxPayloadSizeOption = 64 * 1024;

void apply_logging(const Global& g) {
  log::set_level(g.verbose >= 2 ? log::Level::debug : g.verbose == 1 ? log::Level::info : log::Level::warn);
}

struct Started {
  std::unique_ptr<AwsClient> aws;
  ClientOptions options;
};

/// The DescribeInstanceInformation filter of a name:NAME / tag:KEY=VALUE
/// target; nullopt for plain ids. Sets `error` for a malformed one.
std::optional<aws::InstanceInformationFilter> target_filter(const std::string& target, std::string& error) {
  aws::InstanceInformationFilter f;
  if (target.starts_with("name:")) {
    f.key = "tag:Name";
    f.values.push_back(target.substr(5));
    return f;
  }
  if (!target.starts_with("tag:")) return std::nullopt;
  const auto eq = target.find('=');
  if (eq == std::string::npos || eq <= 4) {
    error = "--target " + target + ": expected tag:KEY=VALUE";
    return std::nullopt;
  }
  f.key = "tag:" + target.substr(4, eq - 4);
  f.values.push_back(target.substr(eq + 1));
  return f;
}

/// Exactly one match becomes the target; none or several is an error listing them.
int pick_target(const aws::DescribeInstanceInformationResponse& found, std::string& target) {
  if (found.instances.empty()) {
    std::fprintf(stderr, "ssmc: no managed instance matches %s\n", target.c_str());
    return kExitApi;
  }
  if (found.instances.size() > 1) {
    std::fprintf(stderr, "ssmc: %s matches %zu instances; pick one:\n", target.c_str(), found.instances.size());
    for (const auto& i : found.instances) {
      std::fprintf(stderr, "  %s  %s  %s  %s\n", i.instance_id.c_str(), i.name.c_str(), i.ping_status.c_str(),
                   i.platform_type.c_str());
    }
    return kExitUsage;
  }
  target = found.instances.front().instance_id;
  return kExitOk;
}

/// Resolves the target (tag lookups), calls StartSession. Prints the error and
/// returns its exit code on failure.
asio::awaitable<std::variant<int, Started>> start(asio::io_context& io, const Global& g, std::string target,
                                                  std::optional<std::string> document,
                                                  aws::SessionParameters parameters) {
  AwsSettings settings;
  settings.env = environment();
  settings.profile = g.profile;
  settings.region = g.region;
  settings.ssm_endpoint = g.endpoint_url;
  if (!g.ca_bundle.empty()) settings.env["AWS_CA_BUNDLE"] = g.ca_bundle;
  auto aws = std::make_unique<AwsClient>(io.get_executor(), settings);
  if (auto r = aws->init(); !r) {
    std::fprintf(stderr, "ssmc: %s\n", r.error().message.c_str());
    co_return kExitConfig;
  }
  auto creds = co_await aws->credentials();
  if (!creds) {
    std::fprintf(stderr, "ssmc: %s\n", creds.error().message.c_str());
    co_return kExitConfig;
  }
  // name:NAME / tag:KEY=VALUE → DescribeInstanceInformation.
  std::string error;
  auto filter = target_filter(target, error);
  if (!error.empty()) {
    std::fprintf(stderr, "ssmc: %s\n", error.c_str());
    co_return kExitUsage;
  }
  if (filter) {
    std::vector<aws::InstanceInformationFilter> filters{*filter};
    auto found = co_await aws->describe_instances(std::move(filters));
    if (!found) {
      std::fprintf(stderr, "ssmc: %s\n", found.error().message.c_str());
      co_return kExitApi;
    }
    const int rc = pick_target(*found, target);
    if (rc != kExitOk) co_return rc;
  }
  aws::StartSessionRequest req;
  req.target = target;
  req.document_name = std::move(document);
  req.parameters = std::move(parameters);
  auto res = co_await aws->start_session(req);
  if (!res) {
    std::fprintf(stderr, "ssmc: %s\n", res.error().message.c_str());
    // Distinct codes: the service said no (4), it could not be reached (5),
    // or the configuration (endpoint URL, credentials) is unusable (3).
    co_return res.error().api_error ? kExitApi : res.error().transport ? kExitConnection : kExitConfig;
  }
  Started st;
  st.options.ticket = SessionTicket{res->session_id, res->stream_url, res->token_value};
  st.options.target = target;
  st.options.quiet = g.quiet;
  st.options.reconnect_budget = std::chrono::milliseconds(static_cast<long long>(g.reconnect_budget * 1000));
  st.options.idle_timeout = std::chrono::milliseconds(static_cast<long long>(g.idle_timeout * 1000));
  st.options.payload_size = g.payload_size;
  if (!g.ca_bundle.empty()) st.options.tls.ca_file = g.ca_bundle;
  st.aws = std::move(aws);
  co_return std::move(st);
}

/// Runs a started session with `mode`; SIGTERM/SIGHUP (and SIGINT when
/// `sigint_stops`) end it with TerminateSession.
asio::awaitable<int> drive(asio::io_context& io, Started st, std::unique_ptr<Mode> mode, bool sigint_stops) {
  if (!st.options.quiet) std::fprintf(stderr, "ssmc: session %s started\n", st.options.ticket.session_id.c_str());
  // (session banners respect --quiet; errors are always shown)
  ClientSession session(io.get_executor(), st.options, st.aws.get(), std::move(mode));
  asio::signal_set stop(io, SIGTERM, SIGHUP);
  if (sigint_stops) stop.add(SIGINT);
  stop.async_wait([&](boost::system::error_code e, int) {
    if (!e) session.finish(kExitInterrupted, true);
  });
  int rc = co_await session.run();
  stop.cancel();
  co_return rc;
}

aws::SessionParameters parse_parameters(const std::vector<std::string>& kvs, std::string& error) {
  aws::SessionParameters out;
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--parameters " + kv + ": expected NAME=VALUE";
      return {};
    }
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    bool found = false;
    for (auto& [name, values] : out) {
      if (name == k) {
        values.push_back(v);
        found = true;
      }
    }
    if (!found) out.push_back({k, {v}});
  }
  return out;
}

/// [bind:]LPORT:[HOST:]RPORT, bind may be [v6] or unix:PATH.
bool parse_forward(const std::string& spec, ListenSpec& listen, std::string& host, std::string& rport,
                   std::string& error) {
  std::string rest = spec;
  if (rest.starts_with("unix:")) {
    auto colon = rest.find(':', 5);
    if (colon == std::string::npos) {
      error = "-L " + spec + ": expected unix:PATH:[HOST:]RPORT";
      return false;
    }
    listen.unix_socket = true;
    listen.bind = rest.substr(5, colon - 5);
    rest = rest.substr(colon + 1);
  } else {
    std::vector<std::string> parts;
    std::string cur;
    int depth = 0;
    for (char c : rest) {
      if (c == '[') depth++;
      if (c == ']') depth--;
      if (c == ':' && depth == 0) {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    auto strip = [](std::string s) { return s.size() > 2 && s.front() == '[' ? s.substr(1, s.size() - 2) : s; };
    auto port_ok = [](const std::string& p) {
      return !p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), ::isdigit) && std::stoi(p) <= 65535;
    };
    std::size_t i = 0;
    if (parts.size() == 4 || (parts.size() == 3 && !port_ok(parts[0]))) listen.bind = strip(parts[i++]);
    if (i >= parts.size() || !port_ok(parts[i])) {
      error = "-L " + spec + ": expected [BIND:]LPORT:[HOST:]RPORT with numeric ports";
      return false;
    }
    listen.port = static_cast<std::uint16_t>(std::stoi(parts[i++]));
    if (parts.size() - i == 2) host = strip(parts[i++]);
    if (parts.size() - i != 1 || !port_ok(parts[i])) {
      error = "-L " + spec + ": expected [BIND:]LPORT:[HOST:]RPORT with numeric ports";
      return false;
    }
    rport = parts[i];
    return true;
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    host = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
  }
  rport = rest;
  if (rport.empty() || !std::all_of(rport.begin(), rport.end(), ::isdigit)) {
    error = "-L " + spec + ": remote port must be a number";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const std::string self = args[0].substr(args[0].rfind('/') == std::string::npos ? 0 : args[0].rfind('/') + 1);
  if (self == "session-manager-plugin") return plugin_main(args);
  if (argc >= 2 && args[1] == "plugin") {
    args.erase(args.begin() + 1);
    return plugin_main(args);
  }
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"ssmc: a fast, resilient AWS Systems Manager Session Manager client"};
  app.footer(std::string(kExitCodesHelp));
  app.require_subcommand(1);
  Global g;
  app.add_option("--profile", g.profile, "AWS profile (default: AWS_PROFILE, else default)");
  app.add_option("--region", g.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)");
  app.add_option("--endpoint-url", g.endpoint_url, "SSM API endpoint (e.g. the emulator's)");
  app.add_option("--ca-bundle", g.ca_bundle, "PEM file of trusted CAs (like AWS_CA_BUNDLE)");
  app.add_option("--reconnect-budget", g.reconnect_budget, "Seconds to keep trying to resume a lost session")
      ->capture_default_str();
  app.add_option("--keepalive-timeout", g.idle_timeout, "Seconds without traffic before a connection counts as dead")
      ->capture_default_str();
  app.add_option("--payload-size", g.payload_size,
                 "Largest stream payload sent, bytes (port forwarding, ssh-proxy). 1024 is what the real "
                 "gateway is known to take; larger is for ssmc-emulator or at your own risk")
      ->check(CLI::Range(std::size_t{1}, kMaxPayloadSizeOption))
      ->capture_default_str();
  app.add_flag("-v,--verbose", g.verbose, "More diagnostics on stderr (-vv for debug)");
  app.add_flag("-q,--quiet", g.quiet, "No banners");
  app.set_version_flag("--version", std::string(channel::kClientVersion));

  // shell
  auto* shell = app.add_subcommand("shell", "Interactive shell on a target (raw terminal, ~. to disconnect)");
  std::string target, document;
  std::vector<std::string> params;
  bool no_escapes = false;
  shell->add_option("target", target, "i-…, mi-…, ecs:…, name:NAME or tag:KEY=VALUE")->required();
  shell->add_option("--document", document, "Session document (default: the account's shell preferences)");
  shell->add_option("--parameters", params, "Document parameters NAME=VALUE (repeatable)");
  shell->add_flag("--no-escapes", no_escapes, "Do not interpret ~. ~? ~~ after a newline");

  // exec
  auto* exec = app.add_subcommand("exec", "Run one command; stdout/stderr kept apart; its exit code is ssmc's");
  std::vector<std::string> command;
  std::string exec_document;
  exec->add_option("target", target, "Target")->required();
  exec->add_option("--document", exec_document,
                   "Document (default AWS-StartNonInteractiveCommand; one with separateOutputStream is used as is)");
  exec->add_option("command", command, "Command and arguments (after --)")->required();

  // forward
  auto* forward = app.add_subcommand("forward", "Forward local ports to ports reachable from the target");
  std::vector<std::string> forwards;
  bool ready = false;
  forward->add_option("target", target, "Target")->required();
  forward->add_option("-L", forwards, "[BIND:]LPORT:[HOST:]RPORT or unix:PATH:[HOST:]RPORT (repeatable)")->required();
  forward->add_flag("--ready", ready, "Print one JSON line per forward to stdout once it listens");

  // ssh-proxy / ssh-config
  auto* ssh = app.add_subcommand("ssh-proxy", "stdin/stdout to the target's SSH port (for ProxyCommand)");
  std::string ssh_port = "22";
  ssh->add_option("target", target, "Target (%h)")->required();
  ssh->add_option("port", ssh_port, "Port (%p)")->capture_default_str();
  auto* ssh_config = app.add_subcommand("ssh-config", "Print an ssh_config Host block that uses ssmc ssh-proxy");
  std::string host_pattern = "i-* mi-*";
  ssh_config->add_option("--host", host_pattern, "Host pattern")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  apply_logging(g);

  if (ssh_config->parsed()) {
    std::string extra;
    if (!g.profile.empty()) extra += " --profile " + g.profile;
    if (!g.region.empty()) extra += " --region " + g.region;
    std::printf("Host %s\n  ProxyCommand ssmc%s ssh-proxy %%h %%p\n  User ec2-user\n", host_pattern.c_str(),
                extra.c_str());
    return 0;
  }

  if (shell->parsed()) {
    std::string error;
    auto parameters = parse_parameters(params, error);
    if (!error.empty()) {
      std::fprintf(stderr, "ssmc: %s\n", error.c_str());
      return kExitUsage;
    }
    return run_main([&](asio::io_context& io) -> asio::awaitable<int> {
      std::optional<std::string> doc;
      if (!document.empty()) doc = document;
      auto st = co_await start(io, g, target, std::move(doc), parameters);
      if (auto* rc = std::get_if<int>(&st)) co_return *rc;
      TerminalOptions terminal_options{false, !no_escapes};
      auto mode = make_terminal_mode(terminal_options);
      co_return co_await drive(io, std::move(std::get<Started>(st)), std::move(mode), false);
    });
  }

  if (exec->parsed()) {
    return run_main([&](asio::io_context& io) -> asio::awaitable<int> {
      std::string doc = exec_document.empty() ? "AWS-StartNonInteractiveCommand" : exec_document;
      const bool wrap = doc == "AWS-StartNonInteractiveCommand";
      std::string marker;
      std::string cmd = shell_join(command);
      if (wrap) {
        std::array<std::uint8_t, 8> r{};
        crypto::system_random().fill(r);
        marker = "__SSMC_" + crypto::to_hex(r) + "__";
        cmd = wrap_command(cmd, marker);
      }
      aws::SessionParameters params_in{{"command", {cmd}}};
      auto st = co_await start(io, g, target, doc, std::move(params_in));
      if (auto* rc = std::get_if<int>(&st)) co_return *rc;
      // Named first: GCC 12 destroys brace-initialised temporaries of a co_await expression twice.
      CommandOptions command_options{marker};
      auto mode = make_command_mode(std::move(command_options));
      co_return co_await drive(io, std::move(std::get<Started>(st)), std::move(mode), true);
    });
  }

  if (ssh->parsed()) {
    return run_main([&](asio::io_context& io) -> asio::awaitable<int> {
      aws::SessionParameters params_in{{"portNumber", {ssh_port}}};
      auto st = co_await start(io, g, target, std::string("AWS-StartSSHSession"), std::move(params_in));
      if (auto* rc = std::get_if<int>(&st)) co_return *rc;
      std::get<Started>(st).options.quiet = true;  // stdout is the SSH stream
      auto mode = make_stdio_mode();
      co_return co_await drive(io, std::move(std::get<Started>(st)), std::move(mode), true);
    });
  }

  if (forward->parsed()) {
    struct Fwd {
      ListenSpec listen;
      std::string host, rport, label;
    };
    std::vector<Fwd> fwds;
    for (const auto& spec : forwards) {
      Fwd f;
      std::string error;
      if (!parse_forward(spec, f.listen, f.host, f.rport, error)) {
        std::fprintf(stderr, "ssmc: %s\n", error.c_str());
        return kExitUsage;
      }
      f.label = spec;
      fwds.push_back(f);
    }
    return run_main([&](asio::io_context& io) -> asio::awaitable<int> {
      // One session per -L (the remote port is a document parameter), all on this io_context.
      auto remaining = std::make_shared<int>(static_cast<int>(fwds.size()));
      auto worst = std::make_shared<int>(kExitOk);
      auto done = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
      for (const auto& f : fwds) {
        asio::co_spawn(
            io,
            [&io, &g, f, target, remaining, worst, done, ready]() -> asio::awaitable<void> {
              std::string doc =
                  f.host.empty() ? "AWS-StartPortForwardingSession" : "AWS-StartPortForwardingSessionToRemoteHost";
              aws::SessionParameters p{{"portNumber", {f.rport}}, {"localPortNumber", {std::to_string(f.listen.port)}}};
              if (!f.host.empty()) p.push_back({"host", {f.host}});
              auto st = co_await start(io, g, target, std::move(doc), std::move(p));
              int rc;
              if (auto* e = std::get_if<int>(&st)) {
                rc = *e;
              } else {
                PortOptions po;
                po.listen = f.listen;
                po.ready_line = ready;
                po.label = f.label;
                auto mode = make_port_mode(po);
                rc = co_await drive(io, std::move(std::get<Started>(st)), std::move(mode), false);
              }
              if (rc != kExitOk) *worst = rc;
              if (--*remaining == 0) done->cancel();
            },
            asio::detached);
      }
      co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
      co_return *worst;
    });
  }
  return kExitUsage;
}
