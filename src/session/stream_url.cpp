#include "session/stream_url.hpp"

#include <boost/url/parse.hpp>
#include <array>
#include <cctype>
#include <regex>

#include "net/url.hpp"

namespace ssmc::session {
namespace {

/// Partition DNS suffixes and dual-stack suffixes (02 §1.1.1, botocore partitions.json).
constexpr std::array<std::string_view, 14> kSuffixes = {
    "amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk",
    "csp.hci.ic.gov", "api.aws", "api.amazonwebservices.com.cn", "api.amazonwebservices.eu", "api.aws.ic.gov",
    "api.aws.scloud", "api.cloud-aws.adc-e.uk", "api.aws.hci.ic.gov"};

bool is_region(std::string_view r) {
  static const std::regex re("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$");
  return std::regex_match(r.begin(), r.end(), re);
}

bool is_messages_host(std::string host) {
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!host.empty() && host.back() == '.') host.pop_back();
  // vpce-<id>[-<suffix>].ssmmessages.<region>.vpce.amazonaws.com[.cn]
  static const std::regex vpce("^vpce-[a-z0-9-]+\\.ssmmessages\\.([a-z0-9-]+)\\.vpce\\.amazonaws\\.com(\\.cn)?$");
  std::smatch m;
  if (std::regex_match(host, m, vpce)) return is_region(m[1].str());
  for (std::string_view prefix : {"ssmmessages.", "ssmmessages-fips."}) {
    if (!host.starts_with(prefix)) continue;
    std::string_view rest = std::string_view(host).substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return false;
    if (!is_region(rest.substr(0, dot))) return false;
    const auto suffix = rest.substr(dot + 1);
    for (auto s : kSuffixes) {
      if (suffix == s) return true;
    }
    return false;
  }
  return false;
}

}  // namespace

std::string stream_url_problem(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "the URL does not parse";
  std::string scheme(parsed->scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "ws" && scheme != "wss") return "scheme '" + scheme + "' is not wss";
  if (parsed->has_userinfo()) return "the URL carries user information";
  std::string host = parsed->host_type() == boost::urls::host_type::ipv6 ? std::string(parsed->encoded_host_address())
                                                                          : std::string(parsed->encoded_host());
  if (host.empty()) return "the URL has no host";
  if (net::is_loopback_host(host)) return {};
  if (scheme == "ws") return "ws:// is only allowed to loopback hosts";
  if (!is_messages_host(host)) return "host '" + host + "' is not an AWS Session Manager (ssmmessages) endpoint";
  return {};
}

}  // namespace ssmc::session
