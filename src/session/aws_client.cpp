#include "session/aws_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aws/sigv4.hpp"
#include "crypto/random.hpp"
#include "net/url.hpp"
#include "util/log.hpp"

namespace ssmc::session {

namespace {

/// Credential caches hold secrets: written owner-only (0600, even when an
/// older file had wider permissions) to a temporary name, then renamed over
/// the old one, so a reader never sees half a file. Best effort, like the
/// AWS CLI: a cache that cannot be written is only a lost optimisation.
void write_private_file(const std::string& path, const std::string& contents) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t done = 0;
  while (ok && done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// credential_process gets this long (the AWS CLI has no limit; a hung
/// helper must not hang ssmc forever).
constexpr std::chrono::seconds kProcessTimeout{120};

class DiskFiles final : public aws::FileReader {
 public:
  Result<std::string> read_file(const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (errno == ENOENT || !std::filesystem::exists(path))
        return std::make_error_code(std::errc::no_such_file_or_directory);
      return std::error_code(errno ? errno : EIO, std::generic_category());
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

DiskFiles& disk_files() {
  static DiskFiles files;
  return files;
}

AwsFailure failure(std::error_code code, std::string message) { return AwsFailure{code, std::move(message), {}}; }

/// Runs argv without a shell, capturing stdout/stderr (credential_process).
void run_process(const std::vector<std::string>& argv, int& exit_code, std::string& out, std::string& err,
                 std::error_code& spawn_error) {
  int o[2], e[2];
  if (argv.empty() || ::pipe2(o, O_CLOEXEC) != 0) {
    spawn_error = std::make_error_code(std::errc::invalid_argument);
    return;
  }
  if (::pipe2(e, O_CLOEXEC) != 0) {
    ::close(o[0]);
    ::close(o[1]);
    spawn_error = std::make_error_code(std::errc::too_many_files_open);
    return;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(o[1], 1);
    ::dup2(e[1], 2);
    ::close_range(3, ~0U, 0);  // credential_process inherits no socket or file of ssmc's
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(o[1]);
  ::close(e[1]);
  if (pid < 0) {
    ::close(o[0]);
    ::close(e[0]);
    spawn_error = std::error_code(errno, std::generic_category());
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + kProcessTimeout;
  pollfd fds[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/// Prompts on the controlling terminal without echo (MFA code).
std::optional<std::string> prompt_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  (void)::write(fd, prompt.data(), prompt.size());
  termios old{};
  const bool tty = ::tcgetattr(fd, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSANOW, &quiet);
  }
  std::string code;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') code.push_back(c);
  if (tty) ::tcsetattr(fd, TCSANOW, &old);
  (void)::write(fd, "\n", 1);
  ::close(fd);
  return code;
}

net::HttpHeaders to_net(const aws::Headers& h) {
  net::HttpHeaders out;
  for (const auto& x : h) out.push_back({x.name, x.value});
  return out;
}
aws::Headers to_aws(const net::HttpHeaders& h) {
  aws::Headers out;
  for (const auto& x : h) out.push_back({x.name, x.value});
  return out;
}

}  // namespace

void throw_exception_from_error(const AwsFailure& f, const boost::source_location&) {
  throw std::system_error(f.code, f.message);
}

AwsClient::AwsClient(asio::any_io_executor ex, AwsSettings settings) : ex_(ex), settings_(std::move(settings)) {}

AwsResult<std::string> AwsClient::init() {
  auto shared = aws::load_shared_config(settings_.env, disk_files());
  if (!shared) return failure(shared.error().code, shared.error().message);
  shared_ = std::move(*shared);
  auto region = aws::resolve_region(settings_.env, shared_->profiles, settings_.profile, settings_.region);
  if (!region) return failure(region.error().code, region.error().message);
  region_ = *region;
  return region_;
}

AwsResult<aws::Endpoint> AwsClient::endpoint(aws::Service service) const {
  aws::EndpointInputs in;
  in.region = region_;
  if (service == aws::Service::ssm) in.explicit_url = settings_.ssm_endpoint;
  in.env = &settings_.env;
  const std::string profile_name = aws::selected_profile(settings_.env, settings_.profile);
  if (shared_) {
    if (auto it = shared_->profiles.profiles.find(profile_name); it != shared_->profiles.profiles.end()) {
      in.profile = &it->second;
    }
    in.services = &shared_->profiles.services;
  }
  auto ep = aws::resolve_endpoint(service, in);
  if (!ep) return failure(ep.error().code, ep.error().message);
  return *ep;
}

net::ClientOptions AwsClient::http_options(const net::Endpoint& target) const {
  net::ClientOptions options;
  if (auto it = settings_.env.find("AWS_CA_BUNDLE"); it != settings_.env.end() && !it->second.empty()) {
    options.tls.ca_file = it->second;
  }
  net::EnvMap env(settings_.env.begin(), settings_.env.end());
  if (auto proxy = net::proxy_for(target, env); proxy) {
    options.proxy = *proxy;
  } else {
    log::warn("HTTPS_PROXY/HTTP_PROXY is not a valid http://host:port proxy URL; connecting directly");
  }
  return options;
}

asio::awaitable<AwsResult<aws::Credentials>> AwsClient::credentials(bool force) {
  if (!force && cached_ && !aws::needs_refresh(*cached_, std::chrono::system_clock::now())) co_return *cached_;
  co_return co_await resolve();
}

asio::awaitable<AwsResult<aws::Credentials>> AwsClient::resolve() {
  aws::ResolverInput input;
  input.env = settings_.env;
  input.cli_profile = settings_.profile;
  input.cli_region = region_;
  input.config = shared_;
  input.files = &disk_files();
  input.now = std::chrono::system_clock::now();
  aws::CredentialResolver resolver(std::move(input));
  for (;;) {
    auto action = resolver.next_action();
    if (auto* done = std::get_if<aws::Done>(&action)) {
      log::info("credentials: {} ({})", done->source, aws::redacted(done->credentials));
      cached_ = done->credentials;
      co_return done->credentials;
    }
    if (auto* failed = std::get_if<aws::Failed>(&action)) co_return failure(failed->code, failed->message);
    if (auto* http = std::get_if<aws::HttpAction>(&action)) {
      if (http->delay.count() > 0) {
        asio::steady_timer t(ex_);
        t.expires_after(http->delay);
        co_await t.async_wait(use_tuple);
      }
      log::debug("credentials: {} {}", http->purpose, http->method);
      auto ep = net::parse_endpoint(http->url());
      if (!ep) {
        resolver.on_http_error(ep.error());
        continue;
      }
      net::HttpRequest req;
      req.method = http->method;
      req.target = http->path + (http->query.empty() ? "" : "?" + http->query);
      req.headers = to_net(http->headers);
      req.body = http->body;
      auto options = http_options(*ep);
      if (http->timeout.count() > 0) options.connect_timeout = options.read_timeout = http->timeout;
      auto res = co_await net::http_request(ex_, *ep, std::move(req), std::move(options));
      if (!res) {
        const bool timeout = res.error() == make_error_code(net::Errc::connect_timeout) ||
                             res.error() == make_error_code(net::Errc::read_timeout);
        resolver.on_http_error(timeout ? std::make_error_code(std::errc::timed_out) : res.error());
      } else {
        resolver.on_http_response(static_cast<int>(res->status), to_aws(res->headers), std::move(res->body));
      }
      continue;
    }
    if (auto* proc = std::get_if<aws::RunProcessAction>(&action)) {
      int code = 0;
      std::string out, err;
      std::error_code spawn_error;
      run_process(proc->argv, code, out, err, spawn_error);
      if (spawn_error) {
        resolver.on_process_error(spawn_error);
      } else {
        resolver.on_process_result(code, std::move(out), std::move(err));
      }
      continue;
    }
    if (auto* mfa = std::get_if<aws::PromptMfaAction>(&action)) {
      auto code = prompt_secret(mfa->prompt);
      if (code) {
        resolver.on_mfa_code(*code);
      } else {
        resolver.on_mfa_unavailable();
      }
      resolver.set_time(std::chrono::system_clock::now());
      continue;
    }
    if (auto* cache = std::get_if<aws::WriteCacheAction>(&action)) {
      write_private_file(cache->path, cache->contents);
      continue;
    }
  }
}

asio::awaitable<AwsResult<std::string>> AwsClient::call(aws::Operation op, std::string body, std::string subject) {
  auto ep = endpoint(aws::operation_service(op));
  if (!ep) co_return ep.error();
  const auto policy = aws::retry_policy_for(op);
  for (int attempt = 1;; ++attempt) {
    auto creds = co_await credentials();
    if (!creds) co_return creds.error();
    auto prepared = aws::prepare_api_request(op, *ep, body, *creds, std::chrono::system_clock::now());
    if (!prepared) co_return failure(prepared.error(), "cannot sign the request: " + prepared.error().message());
    auto target = net::parse_endpoint(ep->url());
    if (!target) co_return failure(target.error(), "invalid endpoint URL " + ep->url());
    net::HttpRequest req;
    req.method = prepared->method;
    req.target = prepared->target;
    req.headers = to_net(prepared->headers);
    req.body = prepared->body;
    auto options = http_options(*target);
    auto res = co_await net::http_request(ex_, *target, std::move(req), options);
    std::optional<std::chrono::milliseconds> delay;
    AwsFailure fail;
    if (!res) {
      fail = failure(res.error(), std::string(aws::operation_name(op)) + ": cannot reach " + ep->url() + ": " +
                                      res.error().message());
      fail.transport = true;
      delay = aws::retry_delay(policy, aws::FailureKind::transport, attempt, crypto::system_random());
    } else if (aws::is_success_status(static_cast<int>(res->status))) {
      co_return std::move(res->body);
    } else {
      auto error = aws::parse_api_error(static_cast<int>(res->status), to_aws(res->headers), res->body);
      fail = AwsFailure{std::make_error_code(std::errc::protocol_error), aws::user_message(error, op, subject), error};
      delay = aws::retry_delay(policy, error, attempt, crypto::system_random());
      if (aws::classify(error) == aws::ErrorClass::auth && attempt == 1 && cached_) {
        cached_.reset();  // expired credentials: resolve again once
        delay = std::chrono::milliseconds(0);
      }
    }
    if (!delay) co_return fail;
    log::info("{}: retrying in {} ms: {}", aws::operation_name(op), delay->count(), fail.message);
    asio::steady_timer t(ex_);
    t.expires_after(*delay);
    co_await t.async_wait(use_tuple);
  }
}

asio::awaitable<AwsResult<aws::StartSessionResponse>> AwsClient::start_session(aws::StartSessionRequest request) {
  auto target = request.target;
  auto body = co_await call(aws::Operation::start_session, aws::build_start_session_request(request), target);
  if (!body) co_return body.error();
  auto parsed = aws::parse_start_session_response(*body);
  if (!parsed) co_return failure(parsed.error(), "StartSession: unexpected response: " + parsed.error().message());
  co_return *parsed;
}

asio::awaitable<AwsResult<aws::ResumeSessionResponse>> AwsClient::resume_session(std::string session_id) {
  aws::ResumeSessionRequest request{session_id};
  std::string text = aws::build_resume_session_request(request);
  auto body = co_await call(aws::Operation::resume_session, std::move(text), session_id);
  if (!body) co_return body.error();
  auto parsed = aws::parse_resume_session_response(*body);
  if (!parsed) co_return failure(parsed.error(), "ResumeSession: unexpected response: " + parsed.error().message());
  co_return *parsed;
}

asio::awaitable<AwsResult<void>> AwsClient::terminate_session(std::string session_id) {
  aws::TerminateSessionRequest request{session_id};
  std::string text = aws::build_terminate_session_request(request);
  auto body = co_await call(aws::Operation::terminate_session, std::move(text), session_id);
  if (!body) co_return body.error();
  co_return AwsResult<void>{};
}

asio::awaitable<AwsResult<aws::DescribeInstanceInformationResponse>> AwsClient::describe_instances(
    std::vector<aws::InstanceInformationFilter> filters) {
  aws::DescribeInstanceInformationRequest req;
  req.filters = std::move(filters);
  aws::DescribeInstanceInformationResponse all;
  for (int page = 0; page < 100; ++page) {
    auto body = co_await call(aws::Operation::describe_instance_information,
                              aws::build_describe_instance_information_request(req));
    if (!body) co_return body.error();
    auto parsed = aws::parse_describe_instance_information_response(*body);
    if (!parsed) co_return failure(parsed.error(), "DescribeInstanceInformation: unexpected response");
    all.instances.insert(all.instances.end(), parsed->instances.begin(), parsed->instances.end());
    if (parsed->next_token.empty()) break;
    req.next_token = parsed->next_token;
  }
  co_return all;
}

asio::awaitable<AwsResult<aws::GenerateDataKeyResponse>> AwsClient::generate_data_key(
    aws::GenerateDataKeyRequest request) {
  auto key = request.key_id;
  auto body = co_await call(aws::Operation::generate_data_key, aws::build_generate_data_key_request(request), key);
  if (!body) co_return body.error();
  auto parsed = aws::parse_generate_data_key_response(*body);
  if (!parsed) co_return failure(parsed.error(), "GenerateDataKey: unexpected response");
  co_return *parsed;
}

asio::awaitable<AwsResult<net::HttpHeaders>> AwsClient::sign_upgrade(net::Endpoint endpoint) {
  auto creds = co_await credentials();
  if (!creds) co_return creds.error();
  const std::string url = std::string(endpoint.tls ? "wss://" : "ws://") + endpoint.authority + endpoint.target;
  auto signing = aws::sign_websocket_upgrade(url, region_, *creds, std::chrono::system_clock::now());
  if (!signing) co_return failure(signing.error(), "cannot sign the WebSocket upgrade: " + signing.error().message());
  co_return to_net(signing->headers);
}

}  // namespace ssmc::session
