// The step machine of the credential chain (credential_chain.hpp): runs a
// CredentialPlan, one action at a time.
#include <algorithm>
#include <cassert>
#include <deque>

#include "aws/credential_chain.hpp"
#include "aws/endpoints.hpp"
#include "aws/errors.hpp"
#include "aws/sts_codec.hpp"

namespace ssmc::aws {
namespace {

/// Base of the retry backoff of STS/SSO calls: the expected value of botocore
/// standard mode's `random() * 2**(attempt-1)` seconds (we draw no random).
constexpr std::chrono::milliseconds kRetryBaseDelay{500};
/// Secrets shorter than this are not scrubbed from messages (they would
/// mangle ordinary words; real secrets are 16+ characters).
constexpr std::size_t kMinScrubbedSecret = 4;
/// Longest piece of a credential_process's stderr quoted in a message.
constexpr std::size_t kMaxQuotedStderr = 300;

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

const std::string* env_get(const Environment& env, std::string_view name) {
  const auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

bool retryable_status(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

std::string header_value(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      const char a = h.name[i] >= 'A' && h.name[i] <= 'Z' ? static_cast<char>(h.name[i] - 'A' + 'a') : h.name[i];
      const char b = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
      same = a == b;
    }
    if (same) return h.value;
  }
  return {};
}

// First line of `text`, trimmed and shortened, for quoting in a message.
std::string first_line(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
    text.remove_prefix(1);
  const auto nl = text.find_first_of("\r\n");
  text = text.substr(0, nl);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() > kMaxQuotedStderr) return std::string(text.substr(0, kMaxQuotedStderr)) + "...";
  return std::string(text);
}

// A path segment safe in a request target: bytes that cannot appear there
// raw are percent-encoded, everything else (IAM names: letters, digits,
// + = , . @ _ -) is kept as botocore sends it.
std::string path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || std::string_view("\"#%<>?\\^`{|}/").find(ch) != std::string_view::npos) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    } else {
      out += ch;
    }
  }
  return out;
}

HttpAction request_for(const Endpoint& endpoint, std::string purpose, std::string method, std::string_view path) {
  HttpAction a;
  a.purpose = std::move(purpose);
  a.scheme = endpoint.scheme;
  a.host = endpoint.host;
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  a.port = endpoint.port;
  a.method = std::move(method);
  a.path = endpoint.request_path(path);
  a.headers.push_back({"Host", endpoint.host_header()});
  a.timeout = kServiceTimeout;
  return a;
}

class NoFiles final : public FileReader {
 public:
  Result<std::string> read_file(const std::string&) override { return make_error_code(std::errc::io_error); }
};

}  // namespace

std::string HttpAction::url() const {
  std::string out = scheme + "://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::uint16_t default_port = scheme == "https" ? 443 : 80;
  if (port != default_port) out += ":" + std::to_string(port);
  out += path;
  if (!query.empty()) out += "?" + query;
  return out;
}

struct CredentialResolver::Impl {
  enum class State {
    plan,
    source,
    process_wait,
    container_send,
    container_wait,
    imds_token_send,
    imds_token_wait,
    imds_role_send,
    imds_role_wait,
    imds_creds_send,
    imds_creds_wait,
    web_identity_wait,
    sso_refresh_wait,
    sso_credentials,
    sso_credentials_wait,
    role_begin,
    role_mfa_wait,
    role_send,
    role_wait,
    finish,
  };
  enum class Waiting { none, http, process, mfa };

  explicit Impl(ResolverInput input) : in(std::move(input)) {
    if (!in.files) in.files = &no_files;
  }

  ResolverInput in;
  NoFiles no_files;
  SharedConfig cfg;
  std::optional<CredentialPlan> plan;
  State state = State::plan;
  Waiting waiting = Waiting::none;
  std::optional<ResolverAction> pending;
  std::optional<ResolverAction> final_action;
  std::deque<WriteCacheAction> writes;

  // The last answer.
  int status = 0;
  Headers response_headers;
  std::string response_body;
  std::error_code http_error;
  int exit_code = 0;
  std::string process_stdout;
  std::string process_stderr;
  std::error_code process_error;
  std::optional<std::string> mfa_code;

  // What we have so far.
  Credentials creds;
  std::optional<std::string> account_id;
  std::string method;
  std::string description;
  std::size_t role_index = 0;

  // The exchange in flight.
  HttpAction request;
  int attempt = 0;
  int max_attempts = kDefaultMaxAttempts;
  std::string sts_region;

  // Per-source scratch.
  std::optional<std::string> imds_token;
  std::string imds_role;
  SsoToken sso_token;
  std::string sso_token_path;
  std::string cache_path;
  AssumeRoleParams role_params;
  std::vector<std::string> secrets;

  // --- helpers -------------------------------------------------------------

  const Properties* selected_properties() const {
    const auto it = cfg.profiles.profiles.find(plan->profile);
    return it == cfg.profiles.profiles.end() ? nullptr : &it->second;
  }

  void remember(const std::string& secret) {
    if (secret.size() >= kMinScrubbedSecret) secrets.push_back(secret);
  }
  void remember(const Credentials& c) {
    remember(c.secret_access_key);
    if (c.session_token) remember(*c.session_token);
  }

  // The message as returned: every secret seen replaced by "****", and on
  // one line (service messages may contain line breaks).
  std::string scrub(std::string message) const {
    std::vector<std::string> sorted = secrets;  // longest first, so a secret containing another goes whole
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& s : sorted) {
      for (auto pos = message.find(s); pos != std::string::npos; pos = message.find(s, pos + 4))
        message.replace(pos, s.size(), "****");
    }
    for (char& c : message)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return message;
  }

  void fail(Errc code, std::string message) { final_action = Failed{make_error_code(code), scrub(std::move(message))}; }
  void fail(std::error_code code, std::string message) { final_action = Failed{code, scrub(std::move(message))}; }
  void fail(const CredentialError& e) { final_action = Failed{e.code, scrub(e.message)}; }

  std::optional<std::string> home() const {
    const std::string* h = env_get(in.env, "HOME");
    if (!h || h->empty()) return std::nullopt;
    std::string out = *h;
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  }

  std::string cli_cache_path(const std::string& key) const {
    const auto h = home();
    return h ? *h + "/.aws/cli/cache/" + key + ".json" : std::string();
  }

  // A usable entry of the CLI cache (>= 15 minutes left), if any.
  std::optional<CachedCredentials> read_cache(const std::string& path) {
    if (path.empty()) return std::nullopt;
    auto text = in.files->read_file(path);
    if (!text) return std::nullopt;
    auto cached = parse_cached_credentials(*text);
    if (!cached || needs_refresh(cached->credentials, in.now)) return std::nullopt;
    remember(cached->credentials);
    return std::move(*cached);
  }

  void write_cache(const std::string& path, std::string contents) {
    if (!path.empty()) writes.push_back({path, std::move(contents)});
  }

  bool expired(const Credentials& c) const { return c.expiration && *c.expiration <= in.now; }

  // Sets the running result; false (and Failed) when already expired.
  bool set_result(Credentials c, std::optional<std::string> account, std::string how, std::string what) {
    remember(c);
    if (c.session_token && c.session_token->empty()) c.session_token.reset();
    if (expired(c)) {
      fail(Errc::credentials_expired, what + " returned credentials that expired at " + format_iso8601(*c.expiration) +
                                          "; refresh them at that source (and check the system clock)");
      return false;
    }
    creds = std::move(c);
    account_id = std::move(account);
    method = std::move(how);
    description = std::move(what);
    return true;
  }

  void send(HttpAction action) {
    request = std::move(action);
    pending = request;
    waiting = Waiting::http;
  }

  void resend(std::chrono::milliseconds delay) {
    ++attempt;
    request.delay = delay;
    send(request);
  }

  std::chrono::milliseconds backoff() const {
    auto d = kRetryBaseDelay * (1 << std::min(attempt - 1, 10));
    return std::min<std::chrono::milliseconds>(d, kMaxRetryBackoff);
  }

  std::string no_credentials_text(std::string_view reason) const {
    return "no AWS credentials found for profile " + quoted(plan->profile) +
           " (environment, config files, container and EC2 metadata checked; " + std::string(reason) +
           "); run 'aws configure" + (plan->profile == "default" ? std::string() : " --profile " + plan->profile) +
           "', set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose another profile";
  }

  void imds_none(std::string_view reason) {
    if (plan->from_credential_source)
      fail(Errc::credential_source_empty, plan->source_origin + " found no credentials (" + std::string(reason) +
                                              "); run on an EC2 instance with an instance profile or change "
                                              "credential_source");
    else
      fail(Errc::no_credentials, no_credentials_text(reason));
  }

  bool resolve_service_endpoint(Service service, std::string_view region, Endpoint& out) {
    EndpointInputs inputs;
    inputs.region = region.empty() ? std::string_view("aws-global") : region;
    inputs.env = &in.env;
    inputs.profile = selected_properties();
    inputs.services = &cfg.profiles.services;
    auto endpoint = resolve_endpoint(service, inputs);
    if (!endpoint) {
      fail(CredentialError{endpoint.error().code, endpoint.error().message});
      return false;
    }
    out = std::move(*endpoint);
    if (out.signing_region == "aws-global") out.signing_region = "us-east-1";
    return true;
  }

  // --- the machine --------------------------------------------------------------

  void step() {
    switch (state) {
      case State::plan:
        return do_plan();
      case State::source:
        return do_source();
      case State::process_wait:
        return on_process();
      case State::container_send:
        return container_send();
      case State::container_wait:
        return container_wait();
      case State::imds_token_send:
        return imds_token_send();
      case State::imds_token_wait:
        return imds_token_wait();
      case State::imds_role_send:
        return imds_get(imds_role_path(), "imds:role", State::imds_role_wait);
      case State::imds_role_wait:
        return imds_role_wait();
      case State::imds_creds_send:
        return imds_get(imds_role_path() + path_segment(imds_role), "imds:credentials", State::imds_creds_wait);
      case State::imds_creds_wait:
        return imds_creds_wait();
      case State::web_identity_wait:
        return web_identity_wait();
      case State::sso_refresh_wait:
        return sso_refresh_wait();
      case State::sso_credentials:
        return sso_credentials();
      case State::sso_credentials_wait:
        return sso_credentials_wait();
      case State::role_begin:
        return role_begin();
      case State::role_mfa_wait:
        return role_mfa_wait();
      case State::role_send:
        return role_send();
      case State::role_wait:
        return role_wait();
      case State::finish:
        return finish();
    }
  }

  void do_plan() {
    if (in.config) {
      cfg = std::move(*in.config);
      in.config.reset();
    } else {
      auto loaded = load_shared_config(in.env, *in.files);
      if (!loaded) return fail(loaded.error());
      cfg = std::move(*loaded);
    }
    auto planned = plan_credentials(in, cfg);
    if (!planned) return fail(planned.error());
    plan = std::move(*planned);

    const Properties* props = selected_properties();
    auto profile_value = [&](std::string_view key) -> const std::string* {
      if (!props) return nullptr;
      const Property* p = find_property(*props, key);
      return p ? &p->value : nullptr;
    };
    sts_region = in.cli_region;
    for (std::string_view name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      if (!sts_region.empty()) break;
      if (const std::string* v = env_get(in.env, name)) sts_region = *v;
    }
    if (sts_region.empty())
      if (const std::string* r = profile_value("region")) sts_region = *r;
    const std::string* attempts = env_get(in.env, "AWS_MAX_ATTEMPTS");
    if (!attempts) attempts = profile_value("max_attempts");
    if (attempts && !attempts->empty()) {
      int value = 0;
      bool ok = attempts->size() <= 3;
      for (char c : *attempts) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) value = value * 10 + (c - '0');
      }
      if (!ok || value < 1)
        return fail(Errc::credential_config_invalid_value,
                    "max_attempts / AWS_MAX_ATTEMPTS must be a whole number from 1 to 999; fix it");
      max_attempts = value;
    }
    state = State::source;
  }

  void do_source() {
    std::visit([this](auto& source) { start_source(source); }, plan->source);
  }

  void start_source(StaticSource& s) {
    if (set_result(s.credentials, s.account_id, s.method, s.description)) state = State::role_begin;
  }

  void start_source(ProcessSource& s) {
    pending = RunProcessAction{s.argv, s.command, s.profile};
    waiting = Waiting::process;
    state = State::process_wait;
  }

  void on_process() {
    const auto& s = std::get<ProcessSource>(plan->source);
    const std::string who = "profile " + quoted(s.profile) + ": credential_process";
    if (process_error)
      return fail(Errc::credential_process_failed, who + " could not be started (" + s.argv.front() + ": " +
                                                       process_error.message() +
                                                       "); check that the program exists and is executable");
    remember(process_stdout);  // whole output: it holds the secret
    if (exit_code != 0) {
      std::string message = who + " exited with status " + std::to_string(exit_code);
      const std::string err = first_line(process_stderr);
      if (!err.empty()) message += " (" + err + ")";
      return fail(Errc::credential_process_failed, message + "; run the command by hand to see why");
    }
    auto parsed = parse_credential_process_output(process_stdout);
    if (!parsed) return fail(parsed.error().code, "profile " + quoted(s.profile) + ": " + parsed.error().message);
    if (!parsed->account_id) parsed->account_id = s.account_id;
    if (set_result(std::move(parsed->credentials), std::move(parsed->account_id), "custom-process",
                   "credential_process of profile " + quoted(s.profile)))
      state = State::role_begin;
  }

  // --- container ---

  void start_source(ContainerSource&) { state = State::container_send; }

  void container_send() {
    const auto& c = std::get<ContainerSource>(plan->source);
    HttpAction a;
    a.purpose = "container";
    a.scheme = c.endpoint.scheme;
    a.host = c.endpoint.host;
    a.port = c.endpoint.port;
    a.method = "GET";
    a.path = c.endpoint.path;
    a.query = c.endpoint.query;
    a.timeout = kContainerTimeout;
    a.headers.push_back({"Host", c.endpoint.host_header});
    a.headers.push_back({"Accept", "application/json"});
    std::optional<std::string> token = c.auth_token;
    if (c.auth_token_file) {
      auto text = in.files->read_file(*c.auth_token_file);
      if (!text)
        return fail(Errc::credential_file_unreadable, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                                                          *c.auth_token_file + " (" + text.error().message() +
                                                          "); fix the path or unset the variable");
      token = std::move(*text);
    }
    if (token) {
      remember(*token);
      if (token->find_first_of("\r\n") != std::string::npos)
        return fail(Errc::container_bad_endpoint,
                    "the container authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) contains a line "
                    "break, which is not a legal header value; remove it");
      a.headers.push_back({"Authorization", *token});
    }
    attempt = 1;
    send(std::move(a));
    state = State::container_wait;
  }

  void container_wait() {
    const auto& c = std::get<ContainerSource>(plan->source);
    std::string problem;
    if (http_error)
      problem = http_error.message();
    else if (status != 200)
      problem = "HTTP " + std::to_string(status);
    else if (!is_valid_json(response_body))
      problem = "the answer is not JSON";
    if (!problem.empty()) {
      if (attempt < kContainerAttempts) return resend(kContainerRetryPause);
      return fail(Errc::container_error, "the container credentials endpoint " + c.endpoint.url + " failed after " +
                                             std::to_string(attempt) + " attempts (" + problem +
                                             "); check the task role or pod identity association");
    }
    auto parsed = parse_metadata_credentials(response_body);
    if (!parsed)
      return fail(parsed.error().code, parsed.error().message + " (from container endpoint " + c.endpoint.url + ")");
    if (set_result(std::move(parsed->credentials), std::move(parsed->account_id), "container-role",
                   "container endpoint " + c.endpoint.url))
      state = State::role_begin;
  }

  // --- IMDS ---

  const ImdsConfig& imds() const { return std::get<ImdsSource>(plan->source).config; }
  std::string imds_role_path() const { return imds().base_path + "latest/meta-data/iam/security-credentials/"; }

  HttpAction imds_request(std::string verb, std::string path, std::string purpose) const {
    HttpAction a;
    a.purpose = std::move(purpose);
    a.scheme = imds().scheme;
    a.host = imds().host;
    a.port = imds().port;
    a.method = std::move(verb);
    a.path = std::move(path);
    a.timeout = imds().timeout;
    a.headers.push_back({"Host", imds().host_header});
    return a;
  }

  void start_source(ImdsSource&) {
    if (imds().attempts < 1) return imds_none("metadata_service_num_attempts is 0");
    state = State::imds_token_send;
  }

  void imds_token_send() {
    HttpAction a = imds_request("PUT", imds().base_path + "latest/api/token", "imds:token");
    a.headers.push_back({"x-aws-ec2-metadata-token-ttl-seconds", std::string(kImdsTokenTtlSeconds)});
    attempt = 1;
    send(std::move(a));
    state = State::imds_token_wait;
  }

  void imds_token_wait() {
    bool retry = false;
    if (http_error) {
      retry = http_error != std::errc::timed_out;  // a read timeout means "no IMDSv2": fall back at once
    } else if (status == 200) {
      imds_token = response_body;
      remember(response_body);
    } else if (status == 400) {
      return imds_none("the EC2 metadata service rejected the token request with HTTP 400");
    } else if (status != 403 && status != 404 && status != 405) {
      retry = true;
    }
    if (retry && attempt < imds().attempts) return resend(std::chrono::milliseconds(0));
    if (!imds_token && imds().v1_disabled)
      return fail(Errc::imds_error, "could not get an IMDSv2 token from " + imds().base_url +
                                        " and IMDSv1 is disabled (ec2_metadata_v1_disabled); enable the instance "
                                        "metadata service or unset that setting");
    state = State::imds_role_send;
  }

  void imds_get(std::string path, std::string purpose, State next) {
    HttpAction a = imds_request("GET", std::move(path), std::move(purpose));
    if (imds_token) a.headers.push_back({"x-aws-ec2-metadata-token", *imds_token});
    attempt = 1;
    send(std::move(a));
    state = next;
  }

  // Common IMDS GET outcome: true when the answer is usable; otherwise
  // retried or reported.
  bool imds_answer_ok(bool need_json, std::string_view what) {
    std::string problem;
    if (http_error)
      problem = "no answer from " + imds().base_url + " (" + http_error.message() + ")";
    else if (status != 200)
      problem = "the EC2 metadata service answered HTTP " + std::to_string(status) + " for the " + std::string(what);
    else if (response_body.empty())
      problem = "the EC2 metadata service sent an empty " + std::string(what);
    else if (need_json && !is_valid_json(response_body))
      problem = "the EC2 metadata service sent " + std::string(what) + " that is not JSON";
    if (problem.empty()) return true;
    if (attempt < imds().attempts)
      resend(std::chrono::milliseconds(0));
    else
      imds_none(problem);
    return false;
  }

  void imds_role_wait() {
    if (!imds_answer_ok(false, "instance role name")) return;
    imds_role = response_body.substr(0, response_body.find_first_of("\r\n"));
    state = State::imds_creds_send;
  }

  void imds_creds_wait() {
    if (!imds_answer_ok(true, "role credentials")) return;
    auto parsed = parse_metadata_credentials(response_body);
    if (!parsed) return imds_none("the instance role's credentials are incomplete: " + parsed.error().message);
    if (set_result(std::move(parsed->credentials), std::move(parsed->account_id), "iam-role",
                   "EC2 instance metadata, role " + quoted(imds_role)))
      state = State::role_begin;
  }

  // --- STS (web identity and assume role) ---

  bool sts_request(std::string action, std::string body, HttpAction& out) {
    Endpoint endpoint;
    if (!resolve_service_endpoint(Service::sts, sts_region, endpoint)) return false;
    out = request_for(endpoint, "sts:" + action, "POST", "/");
    out.headers.push_back({"Content-Type", std::string(kQueryContentType)});
    out.body = std::move(body);
    sts_signing_region = endpoint.signing_region;
    return true;
  }
  std::string sts_signing_region;

  void add_content_length(HttpAction& a) { a.headers.push_back({"Content-Length", std::to_string(a.body.size())}); }

  // Handles an STS answer; on success returns the parsed credentials.
  std::optional<StsCredentials> sts_answer(std::string_view action, const std::string& role_arn,
                                           const std::string& profile) {
    const std::string what =
        "STS " + std::string(action) + " for role " + role_arn + " (profile " + quoted(profile) + ")";
    if (http_error) {
      if (attempt < max_attempts) {
        resend(backoff());
        return std::nullopt;
      }
      fail(Errc::credential_service_unreachable, what + " could not reach " + request.url() + " (" +
                                                     http_error.message() +
                                                     "); check the network, proxy and the STS endpoint settings");
      return std::nullopt;
    }
    if (status >= 200 && status < 300) {
      auto parsed = parse_sts_credentials(response_body, action);
      if (!parsed) {
        fail(parsed.error().code, parsed.error().message + " (from " + request.url() + ")");
        return std::nullopt;
      }
      remember(parsed->credentials);
      return std::move(*parsed);
    }
    const auto error = parse_sts_error(response_body);
    if (retryable_status(status) || (error && is_retryable_error_code(error->code))) {
      if (attempt < max_attempts) {
        resend(backoff());
        return std::nullopt;
      }
    }
    std::string request_id = error ? error->request_id : std::string();
    if (request_id.empty()) request_id = header_value(response_headers, "x-amzn-RequestId");
    std::string message = what + " failed: ";
    if (error) {
      message += error->code + (error->message.empty() ? std::string() : ": " + error->message);
      message += " (HTTP " + std::to_string(status);
    } else {
      message += "HTTP " + std::to_string(status) + " (no error details";
    }
    if (!request_id.empty()) message += ", request id " + request_id;
    message += ")";
    const std::string code = error ? error->code : std::string();
    if (code == "AccessDenied")
      message += "; check that the source credentials may call sts:AssumeRole on the role and the role's trust policy";
    else if (code == "InvalidIdentityToken" || code == "ExpiredTokenException" || code == "IDPRejectedClaim")
      message += "; check the web identity token and the role's OIDC identity provider";
    else if (code == "ExpiredToken" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch")
      message += "; the source credentials are invalid or expired: refresh them";
    else
      message += "; check the role ARN, its trust policy and the STS endpoint";
    fail(Errc::sts_error, message);
    return std::nullopt;
  }

  std::string default_session_name() const {
    return "botocore-session-" +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(in.now.time_since_epoch()).count());
  }

  void start_source(WebIdentitySource& w) {
    // The CLI reads the token file only when its cache has no usable entry.
    AssumeRoleCacheArgs key;
    key.role_arn = w.role_arn;
    key.role_session_name = w.role_session_name;
    cache_path = cli_cache_path(assume_role_cache_key(key));
    const std::string what = "web identity role " + w.role_arn;
    if (auto cached = read_cache(cache_path)) {
      auto account = cached->assumed_role_arn ? account_id_from_arn(*cached->assumed_role_arn) : std::nullopt;
      if (set_result(std::move(cached->credentials), std::move(account), "assume-role-with-web-identity",
                     what + " (cached)"))
        state = State::role_begin;
      return;
    }
    auto token = in.files->read_file(w.token_file);
    if (!token)
      return fail(Errc::credential_file_unreadable,
                  "cannot read the web identity token file " + w.token_file + " of profile " + quoted(w.profile) +
                      " (" + token.error().message() + "); fix web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE");
    remember(*token);
    WebIdentityParams params{w.role_arn, w.role_session_name.value_or(default_session_name()), std::move(*token)};
    HttpAction a;
    if (!sts_request("AssumeRoleWithWebIdentity", assume_role_with_web_identity_body(params), a)) return;
    add_content_length(a);
    attempt = 1;
    send(std::move(a));
    state = State::web_identity_wait;
  }

  void web_identity_wait() {
    const auto& w = std::get<WebIdentitySource>(plan->source);
    auto result = sts_answer("AssumeRoleWithWebIdentity", w.role_arn, w.profile);
    if (!result) return;
    write_cache(cache_path, serialize_cached_credentials(result->credentials, result->assumed_role_id,
                                                         result->assumed_role_arn, ""));
    if (set_result(std::move(result->credentials), std::move(result->account_id), "assume-role-with-web-identity",
                   "web identity role " + w.role_arn))
      state = State::role_begin;
  }

  // --- SSO ---

  void start_source(SsoSource& s) {
    // The CLI looks at its credential cache first and loads the token only
    // when it has to call the portal.
    cache_path = cli_cache_path(sso_credentials_cache_key(s.account_id, s.role_name, s.session_name, s.start_url));
    if (auto cached = read_cache(cache_path)) {
      if (set_result(std::move(cached->credentials), s.account_id, "sso", sso_description(s) + " (cached)"))
        state = State::role_begin;
      return;
    }
    const auto h = home();
    const std::string login = "run 'aws sso login --profile " + s.profile + "'";
    if (!h)
      return fail(Errc::sso_token_missing, "profile " + quoted(s.profile) +
                                               " uses SSO but HOME is not set, so the token cache "
                                               "(~/.aws/sso/cache) cannot be found; set HOME and " +
                                               login);
    sso_token_path = *h + "/.aws/sso/cache/" + sso_token_cache_key(s.session_name, s.start_url) + ".json";
    auto text = in.files->read_file(sso_token_path);
    if (!text) {
      if (text.error() == std::errc::no_such_file_or_directory)
        return fail(Errc::sso_token_missing, "no cached SSO token for profile " + quoted(s.profile) + " (" +
                                                 sso_token_path + " does not exist); " + login);
      return fail(Errc::credential_file_unreadable, "cannot read the SSO token cache " + sso_token_path + " (" +
                                                        text.error().message() +
                                                        "); fix its "
                                                        "permissions or " +
                                                        login);
    }
    auto token = parse_sso_token(*text);
    if (!token)
      return fail(Errc::sso_token_missing, "the cached SSO token " + sso_token_path + " for profile " +
                                               quoted(s.profile) + " is unusable (" + token.error().message + "); " +
                                               login);
    sso_token = std::move(*token);
    remember(sso_token.access_token);
    if (sso_token.refresh_token) remember(*sso_token.refresh_token);
    if (sso_token.client_secret) remember(*sso_token.client_secret);
    if (!s.session_name.empty() && expires_within(sso_token.expires_at, in.now, kCredentialRefreshWindow) &&
        sso_token.refresh_token && sso_token.client_id && sso_token.client_secret &&
        sso_token.registration_expires_at) {
      auto registration = parse_iso8601(*sso_token.registration_expires_at);
      if (registration && *registration > in.now) {
        Endpoint endpoint;
        if (!resolve_service_endpoint(Service::sso_oidc, s.sso_region, endpoint)) return;
        HttpAction a = request_for(endpoint, "sso-oidc:CreateToken", "POST", "/token");
        a.headers.push_back({"Content-Type", "application/json"});
        a.body = create_token_refresh_body(sso_token);
        add_content_length(a);
        attempt = 1;
        send(std::move(a));
        state = State::sso_refresh_wait;
        return;
      }
    }
    state = State::sso_credentials;
  }

  void sso_refresh_wait() {
    const auto& s = std::get<SsoSource>(plan->source);
    const bool transient = http_error || retryable_status(status) || status == 429;
    if (transient && attempt < max_attempts) return resend(backoff());
    if (!http_error && status == 200) {
      auto refreshed = parse_create_token_response(response_body);
      if (refreshed) {
        remember(refreshed->access_token);
        if (refreshed->refresh_token) remember(*refreshed->refresh_token);
        SsoToken next;
        next.start_url = s.start_url;
        next.region = s.sso_region;
        next.access_token = std::move(refreshed->access_token);
        next.expires_at =
            in.now > TimePoint::max() - refreshed->expires_in ? TimePoint::max() : in.now + refreshed->expires_in;
        next.client_id = sso_token.client_id;
        next.client_secret = sso_token.client_secret;
        next.registration_expires_at = sso_token.registration_expires_at;
        next.refresh_token = std::move(refreshed->refresh_token);
        sso_token = std::move(next);
        write_cache(sso_token_path, serialize_sso_token(sso_token));
      }
    }
    // A failed refresh keeps the cached token (botocore logs and goes on).
    state = State::sso_credentials;
  }

  void sso_credentials() {
    const auto& s = std::get<SsoSource>(plan->source);
    if (sso_token.expires_at <= in.now)
      return fail(Errc::sso_token_expired, "the SSO session for profile " + quoted(s.profile) + " expired at " +
                                               format_iso8601(sso_token.expires_at) +
                                               "; run 'aws sso login --profile " + s.profile + "'");
    Endpoint endpoint;
    if (!resolve_service_endpoint(Service::sso_portal, s.sso_region, endpoint)) return;
    HttpAction a = request_for(endpoint, "sso:GetRoleCredentials", "GET", "/federation/credentials");
    a.query = "role_name=" + form_urlencode(s.role_name) + "&account_id=" + form_urlencode(s.account_id);
    a.headers.push_back({"x-amz-sso_bearer_token", sso_token.access_token});
    attempt = 1;
    send(std::move(a));
    state = State::sso_credentials_wait;
  }

  static std::string sso_description(const SsoSource& s) {
    return "SSO profile " + quoted(s.profile) + " (account " + s.account_id + ", role " + s.role_name + ")";
  }

  void sso_credentials_wait() {
    const auto& s = std::get<SsoSource>(plan->source);
    const std::string what = "SSO GetRoleCredentials for account " + s.account_id + ", role " + s.role_name +
                             " (profile " + quoted(s.profile) + ")";
    if (http_error) {
      if (attempt < max_attempts) return resend(backoff());
      return fail(Errc::credential_service_unreachable, what + " could not reach " + request.url() + " (" +
                                                            http_error.message() + "); check the network and proxy");
    }
    if (status == 200) {
      auto parsed = parse_sso_role_credentials(response_body);
      if (!parsed) return fail(parsed.error().code, parsed.error().message + " (from " + request.url() + ")");
      remember(*parsed);
      write_cache(cache_path, serialize_cached_credentials(*parsed, "", "", "sso"));
      if (set_result(std::move(*parsed), s.account_id, "sso", sso_description(s))) state = State::role_begin;
      return;
    }
    std::string type = header_value(response_headers, "x-amzn-ErrorType");
    type = type.substr(0, type.find(':'));
    const std::string message = json_error_message(response_body);
    const std::string detail =
        "HTTP " + std::to_string(status) + (type.empty() ? "" : " " + type) + (message.empty() ? "" : ": " + message);
    if (status == 401 || type == "UnauthorizedException")
      return fail(Errc::sso_token_expired, what + " was refused (" + detail +
                                               "): the SSO session has expired or is invalid; run 'aws sso login "
                                               "--profile " +
                                               s.profile + "'");
    if ((retryable_status(status) || status == 429) && attempt < max_attempts) return resend(backoff());
    fail(Errc::sso_error, what + " failed (" + detail + "); check sso_account_id and sso_role_name");
  }

  // --- assume role ---

  void role_begin() {
    if (role_index == plan->roles.size()) {
      state = State::finish;
      return;
    }
    const AssumeRoleStep& r = plan->roles[role_index];
    role_params = AssumeRoleParams{};
    role_params.role_arn = r.role_arn;
    role_params.role_session_name = r.role_session_name.value_or(default_session_name());
    role_params.duration_seconds = r.duration_seconds;
    role_params.external_id = r.external_id;
    role_params.serial_number = r.mfa_serial;
    AssumeRoleCacheArgs key{r.role_arn, r.role_session_name, r.external_id, r.mfa_serial, r.duration_seconds};
    cache_path = cli_cache_path(assume_role_cache_key(key));
    if (auto cached = read_cache(cache_path)) {
      auto account = cached->assumed_role_arn ? account_id_from_arn(*cached->assumed_role_arn) : std::nullopt;
      if (!set_result(std::move(cached->credentials), std::move(account), "assume-role",
                      role_description(r) + " (cached)"))
        return;
      ++role_index;
      return;
    }
    if (r.mfa_serial) {
      mfa_code.reset();
      pending = PromptMfaAction{*r.mfa_serial, "Enter MFA code for " + *r.mfa_serial + ": ", r.profile};
      waiting = Waiting::mfa;
      state = State::role_mfa_wait;
      return;
    }
    state = State::role_send;
  }

  std::string role_description(const AssumeRoleStep& r) const {
    return "assume-role via profile " + quoted(r.profile) + " (role " + r.role_arn + ", source: " + description + ")";
  }

  void role_mfa_wait() {
    const AssumeRoleStep& r = plan->roles[role_index];
    if (!mfa_code)
      return fail(Errc::mfa_unavailable, "profile " + quoted(r.profile) + " needs an MFA code for " + *r.mfa_serial +
                                             " (mfa_serial) but there is no terminal to ask on; run it once "
                                             "interactively (the role credentials are then cached) or remove "
                                             "mfa_serial");
    role_params.token_code = *mfa_code;
    state = State::role_send;
  }

  void role_send() {
    const AssumeRoleStep& r = plan->roles[role_index];
    if (expired(creds))
      return fail(Errc::credentials_expired, "the source credentials for profile " + quoted(r.profile) + " (" +
                                                 description + ") expired at " + format_iso8601(*creds.expiration) +
                                                 "; refresh them at their source");
    HttpAction a;
    if (!sts_request("AssumeRole", assume_role_body(role_params), a)) return;
    HttpRequest to_sign;
    to_sign.method = a.method;
    to_sign.path = a.path;
    to_sign.query = a.query;
    to_sign.headers = a.headers;
    to_sign.body = a.body;
    SigningParams params;
    params.region = sts_signing_region;
    params.service = "sts";
    params.time = in.now;
    auto signing = sign_headers(to_sign, creds, params);
    if (!signing)
      return fail(static_cast<Errc>(signing.error().value()), "cannot sign STS AssumeRole for profile " +
                                                                  quoted(r.profile) + " with the source credentials (" +
                                                                  description + "): " + signing.error().message());
    for (auto& h : signing->headers) a.headers.push_back(std::move(h));
    add_content_length(a);
    attempt = 1;
    send(std::move(a));
    state = State::role_wait;
  }

  void role_wait() {
    const AssumeRoleStep& r = plan->roles[role_index];
    auto result = sts_answer("AssumeRole", r.role_arn, r.profile);
    if (!result) return;
    write_cache(cache_path, serialize_cached_credentials(result->credentials, result->assumed_role_id,
                                                         result->assumed_role_arn, ""));
    const std::string what = role_description(r);
    if (!set_result(std::move(result->credentials), std::move(result->account_id), "assume-role", what)) return;
    ++role_index;
    state = State::role_begin;
  }

  void finish() {
    Done done;
    done.credentials = creds;
    done.account_id = account_id;
    done.method = method;
    done.source = description;
    final_action = std::move(done);
  }
};

CredentialResolver::CredentialResolver(ResolverInput input) : impl_(std::make_unique<Impl>(std::move(input))) {}
CredentialResolver::~CredentialResolver() = default;
CredentialResolver::CredentialResolver(CredentialResolver&&) noexcept = default;
CredentialResolver& CredentialResolver::operator=(CredentialResolver&&) noexcept = default;

ResolverAction CredentialResolver::next_action() {
  Impl& d = *impl_;
  while (true) {
    if (d.final_action) return *d.final_action;
    if (!d.writes.empty()) {
      WriteCacheAction w = std::move(d.writes.front());
      d.writes.pop_front();
      return w;
    }
    if (d.waiting != Impl::Waiting::none) return *d.pending;
    d.step();
  }
}

void CredentialResolver::on_http_response(int status, Headers headers, std::string body) {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::http);
  if (d.waiting != Impl::Waiting::http) return;
  d.status = status;
  d.response_headers = std::move(headers);
  d.response_body = std::move(body);
  d.http_error.clear();
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::on_http_error(std::error_code error) {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::http);
  if (d.waiting != Impl::Waiting::http) return;
  d.status = 0;
  d.response_headers.clear();
  d.response_body.clear();
  d.http_error = error ? error : make_error_code(std::errc::io_error);
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::on_process_result(int exit_code, std::string stdout_text, std::string stderr_text) {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::process);
  if (d.waiting != Impl::Waiting::process) return;
  d.exit_code = exit_code;
  d.process_stdout = std::move(stdout_text);
  d.process_stderr = std::move(stderr_text);
  d.process_error.clear();
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::on_process_error(std::error_code error) {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::process);
  if (d.waiting != Impl::Waiting::process) return;
  d.process_error = error ? error : make_error_code(std::errc::io_error);
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::on_mfa_code(std::string code) {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::mfa);
  if (d.waiting != Impl::Waiting::mfa) return;
  d.mfa_code = std::move(code);
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::on_mfa_unavailable() {
  Impl& d = *impl_;
  assert(d.waiting == Impl::Waiting::mfa);
  if (d.waiting != Impl::Waiting::mfa) return;
  d.mfa_code.reset();
  d.waiting = Impl::Waiting::none;
  d.pending.reset();
}

void CredentialResolver::set_time(std::chrono::system_clock::time_point now) { impl_->in.now = now; }

const CredentialPlan* CredentialResolver::plan() const { return impl_->plan ? &*impl_->plan : nullptr; }

}  // namespace ssmc::aws
