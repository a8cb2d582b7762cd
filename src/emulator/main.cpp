// ssmc-emulator: run a local SSM API + message gateway + agent.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "emulator/emulator.hpp"
#include "util/log.hpp"

namespace {

using namespace ssmc;

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
}

/// "i-0abc[,name=web][,platform=Windows][,agent=3.0.196.0][,offline][,tag:K=V]"
bool parse_target(const std::string& text, emulator::Target& t, std::string& error) {
  std::size_t pos = 0;
  bool first = true;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string part = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (first) {
      t.id = part;
      first = false;
      if (!(part.starts_with("i-") || part.starts_with("mi-") || part.starts_with("ecs:"))) {
        error = "target id '" + part + "' must start with i-, mi- or ecs:";
        return false;
      }
      continue;
    }
    auto eq = part.find('=');
    std::string key = part.substr(0, eq), value = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (key == "name") {
      t.name = value;
    } else if (key == "platform") {
      t.platform = value;
    } else if (key == "agent") {
      t.agent_version = value;
    } else if (key == "offline") {
      t.online = false;
    } else if (key.starts_with("tag:")) {
      t.tags[key.substr(4)] = value;
    } else {
      error = "unknown target attribute '" + key + "' (name=, platform=, agent=, offline, tag:K=V)";
      return false;
    }
  }
  return true;
}

/// "ID:SECRET[:SECONDS]" (the secret may not contain ':').
std::optional<emulator::Config::ExtraCredential> parse_extra_credential(const std::string& text) {
  const auto a = text.find(':');
  if (a == std::string::npos || a == 0) return std::nullopt;
  const auto b = text.find(':', a + 1);
  emulator::Config::ExtraCredential c;
  c.access_key_id = text.substr(0, a);
  c.secret_access_key = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (c.secret_access_key.empty()) return std::nullopt;
  if (b != std::string::npos) {
    try {
      std::size_t used = 0;
      const double s = std::stod(text.substr(b + 1), &used);
      if (used != text.size() - b - 1 || !(s >= 0)) return std::nullopt;
      c.valid_for = seconds_to_ms(s);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return c;
}

/// Upper end of --delay/--jitter: a minute is already far past any real path.
constexpr double kMaxFaultDelayMs = 60'000;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ssmc-emulator: a local AWS Session Manager (SSM API + message gateway + agent) for tests and demos"};
  emulator::Config config;
  std::vector<std::string> targets;
  double drop_every = 0, drop_agent_every = 0, agent_outage = 1.0, pause_every = 0, idle = 0, max_duration = 0;
  double stall_every = 0, stall_for = 2.0;
  double delay_ms = 0, jitter_ms = 0;
  std::optional<double> primary_valid_for;
  std::vector<std::string> extra_credentials;
  std::string cert_out;
  std::string log_level = "info";
  bool ready_json = false;
  app.add_option("--host", config.host, "Address to listen on (loopback unless you mean it)")->capture_default_str();
  app.add_option("--port", config.port, "Port (0 = any free port)")->capture_default_str();
  app.add_flag("--tls", config.tls, "Serve https/wss with a generated self-signed certificate");
  app.add_option("--cert-out", cert_out, "With --tls: write the generated certificate (PEM) here, for --ca-bundle");
  app.add_option("--region", config.region, "Region the API claims")->capture_default_str();
  app.add_option("--access-key-id", config.access_key_id, "Access key the API accepts")->capture_default_str();
  app.add_option("--secret-access-key", config.secret_access_key, "Its secret (test use only)");
  app.add_option("--expire-access-key-after", primary_valid_for,
                 "Stop accepting --access-key-id S seconds after start (ExpiredTokenException), for credential "
                 "refresh tests");
  app.add_option("--extra-credential", extra_credentials,
                 "Another key the API accepts: ID:SECRET[:SECONDS valid after start] (repeatable, test use only)");
  app.add_flag("!--no-verify-signature", config.require_signed_api,
               "Accept unsigned or wrongly signed API calls and upgrades");
  app.add_flag("--require-signed-upgrade", config.require_signed_upgrade, "Refuse unsigned WebSocket upgrades (403)");
  app.add_option("--target", targets,
                 "Target: ID[,name=N][,platform=Linux|Windows][,agent=VERSION][,offline][,tag:K=V] (repeatable)");
  app.add_option("--profile", config.profile, "Agent pacing: faithful (1 KiB + 1 ms, like the real agent) or fast")
      ->check(CLI::IsMember({"faithful", "fast"}))
      ->capture_default_str();
  app.add_option("--payload-size", config.payload_size,
                 "Largest agent payload in bytes (default: the profile's, 1024 faithful, 32768 fast)")
      ->check(CLI::Range(std::size_t{1}, ssmc::emulator::kMaxPayloadSize));
  app.add_option("--allow-host", config.allow_hosts, "Hosts port sessions may reach (default: loopback)");
  app.add_option("--kms-key-id", config.kms_key_id, "Encrypt every session with KMS using this key id (04)");
  app.add_option("--shell", config.shell, "Shell for shell sessions")->capture_default_str();
  app.add_option("--record-dir", config.record_dir, "Write a JSONL transcript of every session here");
  app.add_flag("--resume-new-url", config.resume_new_url, "ResumeSession returns a different StreamUrl");
  auto* faults = app.add_option_group("faults", "Fault injection (seeded, per session)");
  faults->add_option("--seed", config.faults.seed, "Random seed")->capture_default_str();
  faults->add_option("--loss", config.faults.loss, "Frame loss probability (0..1)")->check(CLI::Range(0.0, 1.0));
  faults->add_option("--duplicate", config.faults.duplicate, "Frame duplication probability")
      ->check(CLI::Range(0.0, 1.0));
  faults->add_option("--reorder", config.faults.reorder, "Frame reordering probability")->check(CLI::Range(0.0, 1.0));
  faults->add_option("--corrupt", config.faults.corrupt, "Digest corruption probability")->check(CLI::Range(0.0, 1.0));
  faults->add_option("--delay", delay_ms, "Extra one-way latency of every frame, milliseconds (both directions)")
      ->check(CLI::Range(0.0, kMaxFaultDelayMs));
  faults->add_option("--jitter", jitter_ms, "Uniform random extra latency up to this many milliseconds (reorders)")
      ->check(CLI::Range(0.0, kMaxFaultDelayMs));
  faults->add_option("--drop-client-after", config.faults.drop_client_after,
                     "Drop the client WebSocket after N frames");
  faults->add_option("--drop-client-every", drop_every, "Drop the client WebSocket every S seconds");
  faults->add_option("--drop-agent-every", drop_agent_every,
                     "Take the agent's own leg down every S seconds (client WebSocket stays up)");
  faults->add_option("--agent-outage", agent_outage, "How long each agent-leg drop lasts, seconds")
      ->capture_default_str();
  faults->add_option("--pause-every", pause_every, "pause_publication/start_publication every S seconds");
  faults->add_option("--stall-consumer-every", stall_every,
                     "Stalled consumer: every S seconds the agent stops taking client input (no delivery, no acks)");
  faults->add_option("--stall-consumer-for", stall_for, "How long each consumer stall lasts, seconds")
      ->capture_default_str();
  faults->add_flag("--short-channel-closed", config.faults.short_channel_closed,
                   "channel_closed with HL 112 (02 §9.5)");
  faults->add_option("--idle-timeout", idle, "Service idle timeout in seconds (0 = off)");
  faults->add_option("--max-session-duration", max_duration, "Service maximum session duration in seconds (0 = off)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_flag("--ready-json", ready_json, "Print one JSON line with the endpoint once listening");
  CLI11_PARSE(app, argc, argv);

  for (const auto& text : targets) {
    emulator::Target t;
    std::string error;
    if (!parse_target(text, t, error)) {
      std::cerr << "ssmc-emulator: --target " << text << ": " << error << "\n";
      return 2;
    }
    config.targets.push_back(t);
  }
  config.faults.drop_client_every = seconds_to_ms(drop_every);
  config.faults.pause_every = seconds_to_ms(pause_every);
  config.faults.stall_consumer_every = seconds_to_ms(stall_every);
  if (primary_valid_for) config.primary_valid_for = seconds_to_ms(*primary_valid_for);
  for (const auto& text : extra_credentials) {
    auto c = parse_extra_credential(text);
    if (!c) {
      std::fprintf(stderr, "ssmc-emulator: --extra-credential: expected ID:SECRET[:SECONDS], got an invalid value\n");
      return 2;
    }
    config.extra_credentials.push_back(std::move(*c));
  }
  config.faults.delay = seconds_to_ms(delay_ms / 1000);
  config.faults.jitter = seconds_to_ms(jitter_ms / 1000);
  config.faults.stall_consumer_for = seconds_to_ms(stall_for);
  config.faults.drop_agent_every = seconds_to_ms(drop_agent_every);
  config.faults.agent_outage = seconds_to_ms(agent_outage);
  if (!cert_out.empty() && !config.tls) {
    std::cerr << "ssmc-emulator: --cert-out needs --tls\n";
    return 2;
  }
  config.faults.idle_timeout = seconds_to_ms(idle);
  config.faults.max_duration = seconds_to_ms(max_duration);
  static const std::map<std::string, log::Level> levels{{"trace", log::Level::trace},
                                                        {"debug", log::Level::debug},
                                                        {"info", log::Level::info},
                                                        {"warn", log::Level::warn},
                                                        {"error", log::Level::error}};
  if (auto it = levels.find(log_level); it != levels.end()) {
    log::set_level(it->second);
  } else {
    std::cerr << "ssmc-emulator: --log-level " << log_level << ": expected trace, debug, info, warn or error\n";
    return 2;
  }

  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_1};  // one thread runs the loop
  auto emu = emulator::Emulator::start(io.get_executor(), config);
  if (!emu) {
    std::cerr << "ssmc-emulator: cannot listen on " << config.host << ":" << config.port << ": "
              << emu.error().message() << "\n";
    return 1;
  }
  const std::string url = (*emu)->endpoint_url();
  if (!cert_out.empty()) {
    // A certificate is public: 0644 is fine; write-then-rename so readers never see half a file.
    const std::string tmp = cert_out + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    const auto& pem = (*emu)->certificate_pem();
    if (!f || std::fwrite(pem.data(), 1, pem.size(), f) != pem.size() || std::fclose(f) != 0 ||
        std::rename(tmp.c_str(), cert_out.c_str()) != 0) {
      std::cerr << "ssmc-emulator: --cert-out " << cert_out << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  if (ready_json) {
    boost::json::object ready{{"endpoint", url},
                              {"port", (*emu)->port()},
                              {"region", config.region},
                              {"access_key_id", config.access_key_id}};
    if (!cert_out.empty()) ready["ca_file"] = cert_out;
    std::printf("%s\n", boost::json::serialize(ready).c_str());
  } else {
    std::printf("ssmc-emulator listening on %s (region %s)\n", url.c_str(), config.region.c_str());
  }
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  // On SIGINT/SIGTERM: end every session (clients get channel_closed), then exit.
  boost::asio::steady_timer grace(io);
  signals.async_wait([&](boost::system::error_code, int) {
    (*emu)->end_sessions();
    grace.expires_after(std::chrono::milliseconds(2500));  // agent drain (2 s) + channel_closed
    grace.async_wait([&](boost::system::error_code) { io.stop(); });
  });
  io.run();
  return 0;
}
