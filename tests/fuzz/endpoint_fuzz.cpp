// libFuzzer target for URLs and endpoints from outside: the StreamUrl of a
// StartSession/ResumeSession response (src/session/stream_url.hpp, then
// net::parse_endpoint and the signed WebSocket upgrade), configured endpoint
// URLs and regions from the environment and config files
// (src/aws/endpoints.hpp), and the proxy variables (src/net/url.hpp).
//
// Input: byte 0 = switches (kFlag*); the rest is split at NUL bytes into
//   [0] a URL (StreamUrl, AWS_ENDPOINT_URL_SSM, endpoint target)
//   [1] a region            [2] HTTPS_PROXY / HTTP_PROXY
//   [3] NO_PROXY            [4] a config file (profile "p", services sections)
// Properties, for any input:
//  * nothing crashes, hangs or reads out of bounds;
//  * net::parse_endpoint: a parsed endpoint has a host, a port, a target that
//    starts with '/' and an authority, and the URL rebuilt from scheme,
//    authority and target parses to the same endpoint;
//  * a StreamUrl that stream_url_problem accepts parses as a ws/wss endpoint
//    (or fails with bad_url, see check_stream_url) and is TLS unless loopback;
//  * a proxy from proxy_for has a host and a port;
//  * aws::parse_endpoint_url: url() parses back to the same endpoint, and
//    net::parse_endpoint (what the session connects with) accepts url() with
//    the same port; a resolved endpoint (any source) is usable the same way;
//  * what the signer produces the verifier accepts: prepare_api_request on a
//    resolved endpoint, and sign_websocket_upgrade on the StreamUrl.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "aws/api.hpp"
#include "aws/config_file.hpp"
#include "aws/endpoints.hpp"
#include "aws/sigv4.hpp"
#include "aws/sigv4_verify.hpp"
#include "net/errors.hpp"
#include "net/url.hpp"
#include "session/stream_url.hpp"

namespace {

using namespace ssmc;

void check_at(bool ok, int line) {
  if (ok) return;
  std::fprintf(stderr, "endpoint_fuzz: invariant at line %d failed\n", line);
  std::abort();
}
#define check(ok) check_at((ok), __LINE__)

constexpr std::uint8_t kFlagFips = 1;
constexpr std::uint8_t kFlagDualstack = 2;
constexpr std::uint8_t kFlagStsLegacy = 4;
constexpr std::uint8_t kFlagSessionToken = 8;
constexpr std::uint8_t kFlagEnvUrl = 16;      // part 0 as AWS_ENDPOINT_URL_<SERVICE>
constexpr std::uint8_t kFlagGlobalUrl = 32;   // part 0 as AWS_ENDPOINT_URL
constexpr std::uint8_t kFlagExplicit = 64;    // part 0 as --endpoint-url
constexpr std::uint8_t kFlagLowerProxy = 128; // https_proxy/no_proxy instead of the upper-case names

const std::chrono::system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2024} / 2 / 29} + std::chrono::hours{23} +
                  std::chrono::minutes{59} + std::chrono::seconds{58};

aws::Credentials credentials(std::uint8_t flags) {
  aws::Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::nullopt, std::nullopt};
  if (flags & kFlagSessionToken) c.session_token = "IQoJb3JpZ2luX2VjEFUZZ+/=";
  return c;
}

void check_net_endpoint(std::string_view url) {
  auto ep = net::parse_endpoint(url);
  if (!ep) return;
  check(!ep->host.empty());
  check(ep->port != 0);
  check(!ep->target.empty() && ep->target.front() == '/');
  check(!ep->authority.empty());
  const std::string scheme = ep->websocket ? (ep->tls ? "wss" : "ws") : (ep->tls ? "https" : "http");
  auto again = net::parse_endpoint(scheme + "://" + ep->authority + ep->target);
  check(again.has_value());
  check(again->host == ep->host && again->port == ep->port && again->target == ep->target &&
        again->authority == ep->authority && again->tls == ep->tls && again->websocket == ep->websocket);
}

void check_stream_url(std::string_view url, std::string_view region, std::uint8_t flags) {
  const std::string problem = session::stream_url_problem(url);
  if (!problem.empty()) return;
  auto ep = net::parse_endpoint(url);
  if (!ep) {
    // Known gap (src/session, reported): stream_url_problem accepts a few
    // URLs net::parse_endpoint refuses ("ws://127.0.0.1:" with an empty
    // port, "wss://h:443x/..."); ClientSource::open then fails with bad_url
    // before connecting or signing anything.
    check(ep.error() == make_error_code(net::Errc::bad_url));
    return;
  }
  check(ep->websocket);
  check(ep->tls || net::is_loopback_host(ep->host));

  // The signed upgrade (02 §1.2) as the emulator verifies it.
  const auto creds = credentials(flags);
  auto signing = aws::sign_websocket_upgrade(url, region, creds, kNow);
  if (!signing) return;
  aws::HttpRequest req;
  req.method = "GET";
  const auto q = signing->target.find('?');
  req.path = signing->target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : signing->target.substr(q + 1);
  req.headers.push_back({"Host", signing->host});
  for (const auto& h : signing->headers) req.headers.push_back(h);
  aws::VerifyOptions options;
  options.service = "ssmmessages";
  options.now = kNow;
  // The upgrade is signed like the Go signers do, without path normalization
  // (02 §1.2); a verifier must do the same ("/a//b" stays as is). Note: the
  // emulator verifies upgrades with the default (normalizing) options.
  options.normalize_path = false;
  const aws::CredentialLookup lookup = [&creds](std::string_view id) -> std::optional<aws::Credentials> {
    return id == creds.access_key_id ? std::optional<aws::Credentials>(creds) : std::nullopt;
  };
  const auto v = aws::verify_sigv4(req, lookup, options);
  if (!v) std::fprintf(stderr, "refused: %s\n", v.error().error.message.c_str());
  check(v.has_value());
  check(v->region == region && v->service == "ssmmessages");
}

void check_proxy(std::string_view url, std::string_view proxy, std::string_view no_proxy, std::uint8_t flags) {
  auto target = net::parse_endpoint(url);
  if (!target) return;
  net::EnvMap env;
  const bool lower = (flags & kFlagLowerProxy) != 0;
  env[lower ? "https_proxy" : "HTTPS_PROXY"] = std::string(proxy);
  env[lower ? "http_proxy" : "HTTP_PROXY"] = std::string(proxy);
  env[lower ? "no_proxy" : "NO_PROXY"] = std::string(no_proxy);
  auto p = net::proxy_for(*target, env);
  if (!p || !*p) return;
  check(!(*p)->host.empty());
  check((*p)->port != 0);
  check(!net::is_loopback_host(target->host));
}

// The session connects with net::parse_endpoint(endpoint.url()) (aws_client.cpp).
void check_usable(const aws::Endpoint& ep) {
  check(!ep.host.empty());
  check(ep.scheme == "https" || ep.scheme == "http");
  auto n = net::parse_endpoint(ep.url());
  check(n.has_value());
  check(n->port == ep.port && n->tls == (ep.scheme == "https"));
  check(n->authority == ep.host_header());
}

void check_signed_request(const aws::Endpoint& ep, std::uint8_t flags) {
  if (ep.signing_region.empty() || ep.signing_name.empty()) return;
  const auto creds = credentials(flags);
  auto prepared = aws::prepare_api_request(aws::Operation::start_session, ep, R"({"Target":"i-1"})", creds, kNow);
  if (!prepared) return;
  check(prepared->target.front() == '/');
  aws::HttpRequest req;
  req.method = prepared->method;
  const auto q = prepared->target.find('?');
  req.path = prepared->target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : prepared->target.substr(q + 1);
  req.headers = prepared->headers;
  req.body = prepared->body;
  aws::VerifyOptions options;
  options.service = ep.signing_name;
  options.region = ep.signing_region;
  options.now = kNow;
  const aws::CredentialLookup lookup = [&creds](std::string_view id) -> std::optional<aws::Credentials> {
    return id == creds.access_key_id ? std::optional<aws::Credentials>(creds) : std::nullopt;
  };
  const auto v = aws::verify_sigv4(req, lookup, options);
  if (!v) std::fprintf(stderr, "refused: %s\n", v.error().error.message.c_str());
  check(v.has_value());
}

void check_endpoint_url(std::string_view url, std::uint8_t flags) {
  auto ep = aws::parse_endpoint_url(url);
  if (!ep) return;
  auto again = aws::parse_endpoint_url(ep->url());
  check(again.has_value() && *again == *ep);
  check_usable(*ep);
  ep->signing_region = "us-east-1";
  ep->signing_name = "ssm";
  check_signed_request(*ep, flags);
}

void check_resolution(std::string_view url, std::string_view region, std::string_view config, std::uint8_t flags) {
  aws::Environment env;
  if (flags & kFlagFips) env["AWS_USE_FIPS_ENDPOINT"] = "true";
  if (flags & kFlagDualstack) env["AWS_USE_DUALSTACK_ENDPOINT"] = "true";
  if (flags & kFlagStsLegacy) env["AWS_STS_REGIONAL_ENDPOINTS"] = "legacy";
  if (flags & kFlagEnvUrl) env["AWS_ENDPOINT_URL_SSM"] = std::string(url);
  if (flags & kFlagGlobalUrl) env["AWS_ENDPOINT_URL"] = std::string(url);
  aws::ProfileSet profiles;
  if (auto parsed = aws::parse_config_file(config, aws::FileKind::config))
    profiles = aws::merge_profiles(*parsed, aws::ParsedFile{});
  const aws::Properties* profile = nullptr;
  if (auto it = profiles.profiles.find("p"); it != profiles.profiles.end()) profile = &it->second;
  aws::EndpointInputs inputs;
  inputs.region = region;
  inputs.explicit_url = (flags & kFlagExplicit) ? url : std::string_view{};
  inputs.env = &env;
  inputs.profile = profile;
  inputs.services = &profiles.services;

  for (const auto service : {aws::Service::ssm, aws::Service::ssmmessages, aws::Service::kms, aws::Service::sts,
                             aws::Service::sso_portal, aws::Service::sso_oidc}) {
    aws::EndpointVariant variant;
    variant.fips = (flags & kFlagFips) != 0;
    variant.dualstack = (flags & kFlagDualstack) != 0;
    variant.sts_legacy_global = (flags & kFlagStsLegacy) != 0;
    if (auto d = aws::default_endpoint(service, region, variant)) {
      check(d->source == aws::EndpointSource::builtin);
      check(!d->signing_region.empty() && !d->signing_name.empty());
      check_usable(*d);
    }
    auto r = aws::resolve_endpoint(service, inputs);
    if (!r) {
      check(!r.error().message.empty());
      continue;
    }
    check_usable(*r);
    if (service == aws::Service::ssm) check_signed_request(*r, flags);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> parts;  // four NUL-terminated parts, then the config file
  std::size_t start = 0;
  for (std::size_t i = 0; i < rest.size() && parts.size() < 4; ++i) {
    if (rest[i] == '\0') {
      parts.push_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(rest.substr(std::min(start, rest.size())));
  parts.resize(5);
  const std::string_view url = parts[0];
  const std::string_view region = parts[1].empty() ? std::string_view("us-east-1") : parts[1];

  check_net_endpoint(url);
  (void)net::is_loopback_host(url);
  check_stream_url(url, aws::default_endpoint(aws::Service::ssmmessages, region) ? region : "us-east-1", flags);
  check_proxy(url, parts[2], parts[3], flags);
  check_endpoint_url(url, flags);
  check_resolution(url, parts[1], parts[4], flags);
  return 0;
}
