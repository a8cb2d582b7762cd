#include "net/url.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>

#include "net/errors.hpp"

namespace ssmc::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view env_value(const EnvMap& env, std::string_view upper, std::string_view lower_name) {
  if (auto it = env.find(upper); it != env.end() && !it->second.empty()) return it->second;
  if (auto it = env.find(lower_name); it != env.end() && !it->second.empty()) return it->second;
  return {};
}

bool no_proxy_matches(std::string_view list, const Endpoint& target) {
  const std::string host = lower(target.host);
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view entry = list.substr(pos, comma - pos);
    pos = comma + 1;
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) entry.remove_prefix(1);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    std::string e = lower(entry);
    // Optional ":port" (not for bare IPv6 literals).
    if (auto colon = e.rfind(':'); colon != std::string::npos && e.find(':') == colon) {
      std::uint16_t port = 0;
      auto [p, ec] = std::from_chars(e.data() + colon + 1, e.data() + e.size(), port);
      if (ec == std::errc{} && p == e.data() + e.size()) {
        if (port != target.port) continue;
        e.resize(colon);
      }
    }
    if (e.size() > 2 && e.front() == '[' && e.back() == ']') e = e.substr(1, e.size() - 2);
    if (!e.empty() && e.front() == '.') e.erase(0, 1);
    if (host == e) return true;
    if (host.size() > e.size() && host.ends_with(e) && host[host.size() - e.size() - 1] == '.') return true;
  }
  return false;
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return make_error_code(Errc::bad_url);
  const boost::urls::url_view& u = *parsed;
  Endpoint ep;
  const std::string scheme = lower(u.scheme());
  std::uint16_t default_port = 0;
  if (scheme == "http") {
    default_port = 80;
  } else if (scheme == "https") {
    ep.tls = true;
    default_port = 443;
  } else if (scheme == "ws") {
    ep.websocket = true;
    default_port = 80;
  } else if (scheme == "wss") {
    ep.tls = ep.websocket = true;
    default_port = 443;
  } else {
    return make_error_code(Errc::unsupported_scheme);
  }
  if (!u.has_authority() || u.encoded_host().empty() || u.has_userinfo()) return make_error_code(Errc::bad_url);
  if (u.host_type() == boost::urls::host_type::ipv6) {
    ep.host = std::string(u.encoded_host_address());
  } else {
    ep.host = std::string(u.encoded_host());
  }
  ep.authority = std::string(u.encoded_host_and_port());
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return make_error_code(Errc::bad_url);
    ep.port = u.port_number();
    ep.explicit_port = true;
  } else {
    ep.port = default_port;
  }
  // Built with append(ptr, n): GCC 12's -Wrestrict misfires on `= "/"` here.
  const auto path = u.encoded_path();
  const auto query = u.encoded_query();
  // Boost.URL 1.81 reads "http://h:8o" as port 8 and path "o"; a path after
  // an authority starts with '/' (RFC 3986 path-abempty), else it is a bad port.
  if (!path.empty() && path.front() != '/') return make_error_code(Errc::bad_url);
  std::string target;
  target.reserve(path.size() + query.size() + 2);
  if (path.empty()) {
    target.push_back('/');
  } else {
    target.append(path.data(), path.size());
  }
  if (u.has_query()) {
    target.push_back('?');
    target.append(query.data(), query.size());
  }
  ep.target = std::move(target);
  return ep;
}

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost" || h.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(h, ec);
  return !ec && addr.is_loopback();
}

Result<std::optional<Proxy>> proxy_for(const Endpoint& target, const EnvMap& env) {
  if (is_loopback_host(target.host)) return std::optional<Proxy>{};
  std::string_view proxy_url =
      target.tls ? env_value(env, "HTTPS_PROXY", "https_proxy") : env_value(env, "HTTP_PROXY", "http_proxy");
  if (proxy_url.empty()) return std::optional<Proxy>{};
  if (no_proxy_matches(env_value(env, "NO_PROXY", "no_proxy"), target)) return std::optional<Proxy>{};
  std::string text(proxy_url);
  if (text.find("://") == std::string::npos) text = "http://" + text;  // Go accepts "host:port"
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed || lower(parsed->scheme()) != "http" || parsed->encoded_host().empty() ||
      (!parsed->encoded_path().empty() && parsed->encoded_path().front() != '/')) {  // "h:8o", see parse_endpoint
    return make_error_code(Errc::bad_proxy_url);
  }
  Proxy proxy;
  proxy.host = parsed->host_type() == boost::urls::host_type::ipv6 ? std::string(parsed->encoded_host_address())
                                                                    : std::string(parsed->encoded_host());
  proxy.port = parsed->has_port() ? parsed->port_number() : 80;
  if (proxy.port == 0) return make_error_code(Errc::bad_proxy_url);
  if (parsed->has_userinfo()) proxy.credentials = std::string(parsed->userinfo());
  return std::optional<Proxy>{std::move(proxy)};
}

}  // namespace ssmc::net
