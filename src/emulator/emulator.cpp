// Fake SSM/KMS API (JSON 1.1, SigV4-verified) and message gateway (08 §2-§3).
#include "emulator/emulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <map>

#include "aws/api.hpp"
#include "aws/sigv4_verify.hpp"
#include "crypto/sha256.hpp"
#include "emulator/agent.hpp"
#include "net/http.hpp"
#include "net/websocket.hpp"
#include "util/log.hpp"
#include "wire/payloads.hpp"
#include "wire/uuid.hpp"

namespace ssmc::emulator {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// The client must send OpenDataChannel this soon after the upgrade.
constexpr std::chrono::seconds kOpenDataChannelTimeout{10};
constexpr std::string_view kDataChannelPath = "/v1/data-channel/";
/// Our own document offering NonInteractiveCommands with separate streams
/// (separateOutputStream: true, 05 §4), next to the stock AWS one.
constexpr std::string_view kSeparateStreamsDocument = "SSMC-StartNonInteractiveCommandSeparateStreams";

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> b(bytes);
  crypto::system_random().fill(b);
  return crypto::to_hex(b);
}

net::HttpResponse api_error(int status, std::string code, std::string message) {
  aws::ApiError e;
  e.http_status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  e.request_id = wire::Uuid::random_v4(crypto::system_random()).to_string();
  auto r = aws::build_error_response(e);
  net::HttpResponse out;
  out.status = static_cast<unsigned>(r.status);
  for (auto& h : r.headers) out.headers.push_back({h.name, h.value});
  out.body = std::move(r.body);
  return out;
}

net::HttpResponse api_ok(std::string body) {
  return net::HttpResponse{200,
                           "OK",
                           {{"Content-Type", std::string(aws::kJsonContentType)},
                            {"x-amzn-RequestId", wire::Uuid::random_v4(crypto::system_random()).to_string()}},
                           std::move(body)};
}

const std::vector<std::string>* param(const aws::SessionParameters& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}
std::string param_or(const aws::SessionParameters& params, std::string_view name, std::string fallback) {
  auto* v = param(params, name);
  return v && !v->empty() ? v->front() : std::move(fallback);
}

/// Resolves a document and its parameters (01 §7) into a SessionSpec; an
/// error message means InvalidDocument / ValidationException.
std::string resolve_document(const aws::StartSessionRequest& req, SessionSpec& spec) {
  const std::string doc = req.document_name.value_or("SSM-SessionManagerRunShell");
  spec.document_name = doc;
  auto command_properties = [&](bool separate) {
    boost::json::object platform{{"commands", spec.command}, {"runAsElevated", false}};
    if (separate) platform["separateOutputStream"] = true;
    return boost::json::value(boost::json::object{{"linux", platform}, {"windows", platform}, {"macos", platform}});
  };
  if (doc == "SSM-SessionManagerRunShell") {
    spec.session_type = std::string(wire::kSessionStandardStream);
  } else if (doc == "AWS-StartInteractiveCommand") {
    spec.session_type = std::string(wire::kSessionInteractiveCommands);
    spec.command = param_or(req.parameters, "command", "");
    if (spec.command.empty()) return "parameter 'command' is required by AWS-StartInteractiveCommand";
    spec.properties = command_properties(false);
  } else if (doc == "AWS-StartNonInteractiveCommand" || doc == kSeparateStreamsDocument) {
    spec.session_type = std::string(wire::kSessionNonInteractiveCommands);
    spec.command = param_or(req.parameters, "command", "");
    if (spec.command.empty()) return "parameter 'command' is required by " + doc;
    spec.separate_output = doc == kSeparateStreamsDocument;
    spec.properties = command_properties(spec.separate_output);
  } else if (doc == "AWS-StartSSHSession") {
    spec.session_type = std::string(wire::kSessionPort);
    spec.properties = boost::json::object{{"portNumber", param_or(req.parameters, "portNumber", "22")}};
  } else if (doc == "AWS-StartPortForwardingSession") {
    spec.session_type = std::string(wire::kSessionPort);
    // Keys in Go map order (sorted), as the real agent marshals Properties.
    spec.properties = boost::json::object{{"localPortNumber", param_or(req.parameters, "localPortNumber", "0")},
                                          {"portNumber", param_or(req.parameters, "portNumber", "80")},
                                          {"type", "LocalPortForwarding"}};
  } else if (doc == "AWS-StartPortForwardingSessionToRemoteHost") {
    auto host = param_or(req.parameters, "host", "");
    if (host.empty()) return "parameter 'host' is required by AWS-StartPortForwardingSessionToRemoteHost";
    spec.session_type = std::string(wire::kSessionPort);
    spec.properties = boost::json::object{{"host", host},
                                          {"localPortNumber", param_or(req.parameters, "localPortNumber", "0")},
                                          {"portNumber", param_or(req.parameters, "portNumber", "80")},
                                          {"type", "LocalPortForwarding"}};
  } else if (doc == "AWS-StartPortForwardingSessionToSocket") {
    spec.session_type = std::string(wire::kSessionPort);
    spec.properties = boost::json::object{{"localConnectionType", "unix"},
                                          {"localUnixSocket", param_or(req.parameters, "localUnixSocket", "")},
                                          {"portNumber", param_or(req.parameters, "portNumber", "80")},
                                          {"type", "LocalPortForwarding"}};
  } else {
    return "Document " + doc + " does not exist or is not a Session document";
  }
  return {};
}

aws::HttpRequest to_aws_request(const net::HttpRequest& req) {
  aws::HttpRequest out;
  out.method = req.method;
  const auto q = req.target.find('?');
  out.path = req.target.substr(0, q);
  out.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
  for (const auto& h : req.headers) out.headers.push_back({h.name, h.value});
  out.body = req.body;
  return out;
}

}  // namespace

struct SessionRecord {
  std::shared_ptr<AgentSession> agent;
  std::string token;
  std::chrono::steady_clock::time_point token_expires;
  bool token_used = false;
  bool ended = false;
  std::string stream_url;
};

struct Emulator::Impl : std::enable_shared_from_this<Emulator::Impl> {
  asio::any_io_executor ex;
  Config config;
  std::unique_ptr<net::HttpServer> server;
  std::string cert_pem;
  std::map<std::string, SessionRecord> sessions;
  KmsStore kms;
  Stats stats;
  bool stopped = false;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  std::string base_url(bool websocket) const {
    const bool tls = config.tls;
    std::string host = config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
    return std::string(websocket ? (tls ? "wss" : "ws") : (tls ? "https" : "http")) + "://" + host + ":" +
           std::to_string(server->port());
  }

  aws::VerifyResult<aws::VerifiedRequest> verify(const net::HttpRequest& req, std::string_view service) {
    aws::VerifyOptions options;
    options.service = std::string(service);
    options.now = std::chrono::system_clock::now();
    bool expired = false;
    const auto valid = [&](const std::optional<Duration>& valid_for) {
      if (valid_for && std::chrono::steady_clock::now() - started_at >= *valid_for) {
        expired = true;
        return false;
      }
      return true;
    };
    const auto lookup = [&](std::string_view akid) -> std::optional<aws::Credentials> {
      if (akid == config.access_key_id && valid(config.primary_valid_for))
        return aws::Credentials{config.access_key_id, config.secret_access_key, std::nullopt, std::nullopt};
      for (const auto& c : config.extra_credentials)
        if (akid == c.access_key_id && valid(c.valid_for))
          return aws::Credentials{c.access_key_id, c.secret_access_key, std::nullopt, std::nullopt};
      return std::nullopt;
    };
    auto result = aws::verify_sigv4(to_aws_request(req), lookup, options);
    if (!result && expired) {
      return aws::VerifyError{
          aws::Errc::sigv4_unknown_access_key,
          aws::ApiError{400, "ExpiredTokenException", "The security token included in the request is expired", {}}};
    }
    return result;
  }

  const Target* find_target(std::string_view id) const {
    for (const auto& t : config.targets) {
      if (t.id == id) return &t;
    }
    return nullptr;
  }

  std::string new_token(SessionRecord& record) {
    record.token = random_hex(32);
    record.token_expires = std::chrono::steady_clock::now() + config.token_lifetime;
    record.token_used = false;
    return record.token;
  }

  net::HttpResponse start_session(const std::string& body) {
    auto req = aws::parse_start_session_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    const Target* target = find_target(req->target);
    if (!target || !target->online) {
      return api_error(400, "TargetNotConnected", req->target + " is not connected.");
    }
    SessionSpec spec;
    if (auto problem = resolve_document(*req, spec); !problem.empty()) {
      return api_error(400, "InvalidDocument", problem);
    }
    spec.session_id = "ssmc-" + random_hex(9).substr(0, 17);
    spec.target_id = target->id;
    spec.agent_version = target->agent_version;
    spec.platform = target->platform;
    if (!config.kms_key_id.empty()) spec.kms_key_id = config.kms_key_id;
    SessionRecord record;
    record.stream_url = base_url(true) + std::string(kDataChannelPath) + spec.session_id + "?role=publish_subscribe";
    new_token(record);
    const std::string id = spec.session_id;
    std::weak_ptr<Impl> weak = shared_from_this();
    record.agent = std::make_shared<AgentSession>(ex, std::move(spec), config, kms, [weak](const std::string& sid) {
      if (auto self = weak.lock()) self->session_ended(sid);
    });
    auto agent = record.agent;
    sessions[id] = std::move(record);
    ++stats.sessions_started;
    ++stats.sessions_active;
    agent->begin();
    log::info("emulator: StartSession {} target={} document={}", id, req->target,
              req->document_name.value_or("(shell)"));
    auto& r = sessions[id];
    return api_ok(aws::build_start_session_response({id, r.token, r.stream_url}));
  }

  void session_ended(const std::string& id) {
    auto it = sessions.find(id);
    if (it == sessions.end() || it->second.ended) return;
    it->second.ended = true;
    it->second.agent.reset();
    if (stats.sessions_active > 0) --stats.sessions_active;
  }

  net::HttpResponse resume_session(const std::string& body) {
    auto req = aws::parse_resume_session_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    auto it = sessions.find(req->session_id);
    if (it == sessions.end()) {
      return api_error(400, "DoesNotExistException", "Session " + req->session_id + " does not exist.");
    }
    auto& r = it->second;
    if (r.ended || !r.agent || r.agent->closed()) {
      return api_ok(aws::build_resume_session_response({req->session_id, "", ""}));  // 01 §4: no token
    }
    std::string url = r.stream_url;
    if (config.resume_new_url) url += "&cell-number=" + random_hex(4);
    r.stream_url = url;
    return api_ok(aws::build_resume_session_response({req->session_id, new_token(r), url}));
  }

  net::HttpResponse terminate_session(const std::string& body) {
    auto req = aws::parse_terminate_session_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    auto it = sessions.find(req->session_id);
    if (it != sessions.end() && it->second.agent) it->second.agent->terminate("");
    return api_ok(aws::build_terminate_session_response({req->session_id}));
  }

  net::HttpResponse describe(const std::string& body) {
    auto req = aws::parse_describe_instance_information_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    aws::DescribeInstanceInformationResponse res;
    for (const auto& t : config.targets) {
      bool match = true;
      for (const auto& f : req->filters) {
        auto in = [&](const std::string& v) {
          return std::find(f.values.begin(), f.values.end(), v) != f.values.end();
        };
        if (f.key == "InstanceIds") {
          match = match && in(t.id);
        } else if (f.key == "PingStatus") {
          match = match && in(t.online ? "Online" : "ConnectionLost");
        } else if (f.key == "PlatformTypes") {
          match = match && in(t.platform);
        } else if (f.key.starts_with("tag:")) {
          const std::string key = f.key.substr(4);
          std::string value;
          if (key == "Name") value = t.name;
          if (auto tag = t.tags.find(key); tag != t.tags.end()) value = tag->second;
          match = match && !value.empty() && in(value);
        } else if (f.key == "tag-key") {
          bool any = false;
          for (const auto& v : f.values) any = any || t.tags.count(v) || (v == "Name" && !t.name.empty());
          match = match && any;
        }
      }
      if (!match) continue;
      aws::InstanceInformation info;
      info.instance_id = t.id;
      info.ping_status = t.online ? "Online" : "ConnectionLost";
      info.platform_type = t.platform;
      info.platform_name = t.platform == "Windows" ? "Microsoft Windows Server 2022 Datacenter" : "Debian GNU/Linux";
      info.agent_version = t.agent_version;
      info.computer_name = t.name.empty() ? t.id : t.name;
      info.ip_address = "127.0.0.1";
      info.resource_type = t.id.starts_with("mi-") ? "ManagedInstance" : "EC2Instance";
      info.name = t.name;
      res.instances.push_back(std::move(info));
    }
    return api_ok(aws::build_describe_instance_information_response(res));
  }

  net::HttpResponse generate_data_key(const std::string& body) {
    auto req = aws::parse_generate_data_key_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    if (req->number_of_bytes.value_or(0) != channel::kDataKeySize) {
      return api_error(400, "ValidationException", "NumberOfBytes must be 64 for Session Manager");
    }
    auto [blob, plain] = kms.generate(req->encryption_context);
    aws::GenerateDataKeyResponse res{blob, plain, "arn:aws:kms:" + config.region + ":111122223333:key/" + req->key_id};
    return api_ok(aws::build_generate_data_key_response(res));
  }

  net::HttpResponse decrypt(const std::string& body) {
    auto req = aws::parse_decrypt_request(body);
    if (!req) return api_error(req.error().http_status, req.error().code, req.error().message);
    auto plain = kms.decrypt(req->ciphertext_blob, req->encryption_context);
    if (!plain)
      return api_error(400, "InvalidCiphertextException", "The ciphertext or its encryption context is wrong");
    return api_ok(aws::build_decrypt_response({config.kms_key_id, *plain, "SYMMETRIC_DEFAULT"}));
  }

  asio::awaitable<net::HttpResponse> on_request(net::HttpRequest req, net::PeerInfo peer) {
    if (req.method == "GET" && req.target == "/health") {
      // Counters for tests and operators (e.g. "no orphaned session": sessions_active == 0).
      const boost::json::object health{{"status", "ok"},
                                       {"sessions_started", stats.sessions_started},
                                       {"sessions_active", stats.sessions_active},
                                       {"client_connections", stats.client_connections},
                                       {"tokens_rejected", stats.tokens_rejected},
                                       {"api_rejected", stats.api_rejected}};
      co_return net::HttpResponse{
          200, "OK", {{"Content-Type", "application/json"}}, boost::json::serialize(health) + "\n"};
    }
    if (req.method != "POST" || req.target != "/") co_return net::HttpResponse{404, "Not Found", {}, "not found\n"};
    aws::Headers headers;
    for (const auto& h : req.headers) headers.push_back({h.name, h.value});
    auto op = aws::parse_api_target(headers);
    if (!op) co_return api_error(op.error().http_status, op.error().code, op.error().message);
    if (config.require_signed_api) {
      auto verified = verify(req, aws::service_info(aws::operation_service(*op)).signing_name);
      if (!verified) {
        ++stats.api_rejected;
        log::warn("emulator: rejected {} from {}: {}", aws::operation_name(*op), peer.address,
                  verified.error().error.code);
        const auto& e = verified.error().error;
        co_return api_error(e.http_status, e.code, e.message);
      }
    }
    switch (*op) {
      case aws::Operation::start_session:
        co_return start_session(req.body);
      case aws::Operation::resume_session:
        co_return resume_session(req.body);
      case aws::Operation::terminate_session:
        co_return terminate_session(req.body);
      case aws::Operation::describe_instance_information:
        co_return describe(req.body);
      case aws::Operation::generate_data_key:
        co_return generate_data_key(req.body);
      case aws::Operation::decrypt:
        co_return decrypt(req.body);
    }
    co_return api_error(400, "UnknownOperationException", "unknown operation");
  }

  std::string session_of(std::string_view target) const {
    auto path = target.substr(0, target.find('?'));
    if (!path.starts_with(kDataChannelPath)) return {};
    return std::string(path.substr(kDataChannelPath.size()));
  }

  std::optional<net::HttpResponse> on_upgrade(const net::HttpRequest& req, const net::PeerInfo& peer) {
    const std::string id = session_of(req.target);
    auto it = sessions.find(id);
    if (id.empty() || it == sessions.end() || it->second.ended) {
      return net::HttpResponse{404, "Not Found", {}, "no such session\n"};
    }
    const bool signed_upgrade = !net::find_header(req.headers, "authorization").empty();
    if (signed_upgrade && config.require_signed_api) {  // --no-verify-signature relaxes upgrades too
      auto verified = verify(req, "ssmmessages");
      if (!verified) {
        log::warn("emulator: refused upgrade of {} from {}: {}", id, peer.address, verified.error().error.code);
        return net::HttpResponse{403, "Forbidden", {}, verified.error().error.code + "\n"};
      }
    } else if (config.require_signed_upgrade) {
      log::warn("emulator: refused unsigned upgrade of {} from {}", id, peer.address);
      return net::HttpResponse{403, "Forbidden", {}, "MissingAuthenticationToken\n"};
    }
    return std::nullopt;
  }

  asio::awaitable<void> on_websocket(net::HttpRequest req, std::unique_ptr<net::WebSocket> ws, net::PeerInfo peer) {
    auto self = shared_from_this();
    ++stats.client_connections;
    const std::string id = session_of(req.target);
    // OpenDataChannel must come first, and soon (08 §3.3).
    asio::steady_timer deadline(ex);
    deadline.expires_after(kOpenDataChannelTimeout);
    net::WebSocket* raw = ws.get();
    auto done = std::make_shared<bool>(false);
    deadline.async_wait([raw, done](boost::system::error_code ec) {
      if (!ec && !*done) raw->abort();  // runs before the read completes: ws still alive
    });
    auto first = co_await ws->read();
    *done = true;
    deadline.cancel();
    if (!first) {
      log::info("emulator: {}: client leg closed before OpenDataChannel ({})", id, first.error().message());
      co_return;
    }
    auto refuse = [&](const std::string& why) {
      ++stats.tokens_rejected;
      log::warn("emulator: {}: disconnecting {}: {}", id, peer.address, why);
      ws->abort();
    };
    if (first->binary) {
      refuse("first message is binary, expected the OpenDataChannel text frame");
      co_return;
    }
    auto open = wire::parse_open_data_channel({reinterpret_cast<const char*>(first->data.data()), first->data.size()});
    if (!open) {
      refuse("OpenDataChannel is not valid JSON with a TokenValue");
      co_return;
    }
    auto it = sessions.find(id);
    if (it == sessions.end() || it->second.ended || !it->second.agent) {
      refuse("session is over");
      co_return;
    }
    auto& r = it->second;
    if (!open->client_instance_id.empty()) {
      refuse("agent legs are not served (integrated topology)");
      co_return;
    }
    if (r.token_used || open->token_value != r.token) {
      refuse(r.token_used ? "token already used" : "token does not belong to this session");
      co_return;
    }
    if (std::chrono::steady_clock::now() > r.token_expires) {
      refuse("token expired");
      co_return;
    }
    r.token_used = true;
    log::info("emulator: {}: client leg open (client {} version {})", id, open->client_id,
              open->client_version.empty() ? "-" : open->client_version);
    r.agent->attach(std::move(ws), {reinterpret_cast<const char*>(first->data.data()), first->data.size()});
  }
};

Emulator::Emulator(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Emulator::~Emulator() { stop(); }

Result<std::unique_ptr<Emulator>> Emulator::start(asio::any_io_executor ex, Config config) {
  auto impl = std::make_shared<Impl>();
  impl->ex = ex;
  impl->config = std::move(config);
  if (impl->config.targets.empty()) {
    Target t;
    t.id = "i-0123456789abcdef0";
    t.name = "emulator";
    impl->config.targets.push_back(t);
  }
  std::optional<net::ServerTls> tls;
  if (impl->config.tls) {
    auto cert = net::make_self_signed_certificate({impl->config.host, "localhost"});
    if (!cert) return cert.error();
    impl->cert_pem = cert->certificate_pem;
    tls = *cert;
  }
  net::ServerHandlers handlers;
  std::weak_ptr<Impl> weak = impl;
  handlers.on_request = [weak](net::HttpRequest req, net::PeerInfo peer) -> asio::awaitable<net::HttpResponse> {
    auto self = weak.lock();
    if (!self) co_return net::HttpResponse{503, "Service Unavailable", {}, ""};
    co_return co_await self->on_request(std::move(req), std::move(peer));
  };
  handlers.on_upgrade = [weak](const net::HttpRequest& req,
                               const net::PeerInfo& peer) -> std::optional<net::HttpResponse> {
    auto self = weak.lock();
    if (!self) return net::HttpResponse{503, "Service Unavailable", {}, ""};
    return self->on_upgrade(req, peer);
  };
  handlers.on_websocket = [weak](net::HttpRequest req, std::unique_ptr<net::WebSocket> ws,
                                 net::PeerInfo peer) -> asio::awaitable<void> {
    auto self = weak.lock();
    if (!self) co_return;
    co_await self->on_websocket(std::move(req), std::move(ws), std::move(peer));
  };
  auto server = net::HttpServer::start(ex, impl->config.host, impl->config.port, tls, std::move(handlers));
  if (!server) return server.error();
  impl->server = std::move(*server);
  return std::unique_ptr<Emulator>(new Emulator(std::move(impl)));
}

std::uint16_t Emulator::port() const { return impl_->server->port(); }
std::string Emulator::endpoint_url() const { return impl_->base_url(false); }
const std::string& Emulator::certificate_pem() const { return impl_->cert_pem; }
const Stats& Emulator::stats() const { return impl_->stats; }

void Emulator::end_sessions(const std::string& reason) {
  if (!impl_) return;
  for (auto& [id, r] : impl_->sessions) {
    if (r.agent) r.agent->terminate(reason);
  }
}

void Emulator::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  end_sessions();
  if (impl_->server) impl_->server->stop();
}

}  // namespace ssmc::emulator
