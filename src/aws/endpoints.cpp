#include "aws/endpoints.hpp"

#include <algorithm>
#include <array>
#include <boost/throw_exception.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

// botocore 1.43.11 data/partitions.json `outputs` (id, dnsSuffix, dualStackDnsSuffix).
constexpr std::array<Partition, 8> kPartitions = {{
    {"aws", "amazonaws.com", "api.aws"},
    {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
    {"aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu"},
    {"aws-iso", "c2s.ic.gov", "api.aws.ic.gov"},
    {"aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud"},
    {"aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"},
    {"aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov"},
    {"aws-us-gov", "amazonaws.com", "api.aws"},
}};

// Region patterns of partitions.json (`regionRegex`), as the leading labels
// before `-\w+-\d+`, in the file's order. `aws` has several first labels.
struct RegionPattern {
  std::size_t partition;    // index in kPartitions
  std::string_view prefix;  // e.g. "us-gov-" (then \w+ - \d+ must follow)
};
constexpr std::array<RegionPattern, 16> kRegionPatterns = {{
    {0, "us-"},
    {0, "eu-"},
    {0, "ap-"},
    {0, "sa-"},
    {0, "ca-"},
    {0, "me-"},
    {0, "af-"},
    {0, "il-"},
    {0, "mx-"},
    {1, "cn-"},
    {2, "eusc-de-"},
    {3, "us-iso-"},
    {4, "us-isob-"},
    {5, "eu-isoe-"},
    {6, "us-isof-"},
    {7, "us-gov-"},
}};

// The 16 regions that use sts.amazonaws.com under sts_regional_endpoints =
// legacy (botocore args.py LEGACY_GLOBAL_STS_REGIONS).
constexpr std::array<std::string_view, 16> kLegacyGlobalStsRegions = {
    "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
    "eu-central-1",   "eu-north-1", "eu-west-1",      "eu-west-2",      "eu-west-3",  "sa-east-1",
    "us-east-1",      "us-east-2",  "us-west-1",      "us-west-2"};

constexpr std::array<ServiceInfo, 6> kServices = {{
    {"ssm", "ssm", "SSM", "ssm"},
    {"ssmmessages", "ssmmessages", "SSMMESSAGES", "ssmmessages"},
    {"kms", "kms", "KMS", "kms"},
    {"sts", "sts", "STS", "sts"},
    // Service ids "SSO" and "SSO OIDC"; signing names from the service models.
    {"portal.sso", "awsssoportal", "SSO", "sso"},
    {"oidc", "sso-oauth", "SSO_OIDC", "sso_oidc"},
}};

bool is_word_char(char c) {  // regex \w
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `rest` matches `\w+-\d+` entirely.
bool matches_word_dash_digits(std::string_view rest) {
  const auto dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == rest.size()) return false;
  for (std::size_t i = 0; i < dash; ++i)
    if (!is_word_char(rest[i])) return false;
  for (std::size_t i = dash + 1; i < rest.size(); ++i)
    if (rest[i] < '0' || rest[i] > '9') return false;
  return true;
}

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "http" ? 80 : 443; }

const std::string* lookup_env(const EndpointInputs& in, const std::string& name) {
  if (!in.env) return nullptr;
  const auto it = in.env->find(name);
  return it == in.env->end() ? nullptr : &it->second;
}

const std::string* lookup_profile(const EndpointInputs& in, std::string_view name) {
  if (!in.profile) return nullptr;
  const Property* p = find_property(*in.profile, name);
  return p ? &p->value : nullptr;
}

// Environment (when set, even to "") wins over the profile; "true" in any case is true.
bool boolean_setting(const EndpointInputs& in, const std::string& env_name, std::string_view config_name) {
  if (const auto* v = lookup_env(in, env_name)) return iequals(*v, "true");
  if (const auto* v = lookup_profile(in, config_name)) return iequals(*v, "true");
  return false;
}

EndpointError endpoint_error(Errc code, std::string message) { return {make_error_code(code), std::move(message)}; }

// "<source>: <what>; <advice>" for a configured URL that does not parse.
EndpointError bad_configured_url(const std::error_code& code, std::string_view source, std::string_view url) {
  std::string message(source);
  message += ": endpoint URL ";
  // Never echo a URL with user info (it could hold a password).
  if (url.find('@') == std::string_view::npos) {
    message += '\'';
    message += url;
    message += "' ";
  }
  message += "is not usable (" + code.message() + ")";
  return {code, std::move(message)};
}

}  // namespace

const ServiceInfo& service_info(Service service) { return kServices.at(static_cast<std::size_t>(service)); }

const Partition& partition_of(std::string_view region) {
  for (const auto& p : kPartitions) {
    if (region.size() == p.id.size() + 7 && region.substr(0, p.id.size()) == p.id &&
        region.substr(p.id.size()) == "-global")
      return p;
  }
  for (const auto& pattern : kRegionPatterns) {
    if (region.substr(0, pattern.prefix.size()) == pattern.prefix &&
        matches_word_dash_digits(region.substr(pattern.prefix.size())))
      return kPartitions[pattern.partition];
  }
  return kPartitions[0];
}

std::string_view to_string(EndpointSource source) {
  switch (source) {
    case EndpointSource::explicit_url:
      return "--endpoint-url";
    case EndpointSource::env_service:
      return "service-specific environment variable";
    case EndpointSource::env_global:
      return "AWS_ENDPOINT_URL";
    case EndpointSource::config_service:
      return "services section of the config file";
    case EndpointSource::config_global:
      return "endpoint_url of the profile";
    case EndpointSource::builtin:
      return "default";
  }
  return "default";
}

std::string Endpoint::url() const {
  std::string out = scheme + "://" + host;
  if (port != default_port(scheme)) out += ':' + std::to_string(port);
  return out + base_path;
}

std::string Endpoint::host_header() const {
  if (port == default_port(scheme)) return host;
  return host + ':' + std::to_string(port);
}

std::string Endpoint::request_path(std::string_view path) const {
  if (path.empty() || path == "/") return base_path.empty() ? std::string("/") : base_path;
  if (!base_path.empty() && base_path.back() == '/' && path.front() == '/')
    return base_path + std::string(path.substr(1));
  return base_path + std::string(path);
}

void throw_exception_from_error(const EndpointError& error, const boost::source_location& location) {
  boost::throw_with_location(std::system_error(error.code, error.message), location);
}

Result<Endpoint> parse_endpoint_url(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return make_error_code(Errc::endpoint_bad_url);
  Endpoint out;
  out.scheme = std::string(parsed->scheme());
  for (char& c : out.scheme)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (out.scheme != "https" && out.scheme != "http") return make_error_code(Errc::endpoint_unsupported_scheme);
  if (!parsed->has_authority() || parsed->encoded_host().empty() || parsed->has_userinfo() || parsed->has_query() ||
      parsed->has_fragment())
    return make_error_code(Errc::endpoint_bad_url);
  out.host = std::string(parsed->encoded_host());
  out.port = default_port(out.scheme);
  if (parsed->has_port() && !parsed->port().empty()) {
    const auto text = parsed->port();
    unsigned long value = 0;
    for (const char c : text) {
      if (c < '0' || c > '9' || text.size() > 5) return make_error_code(Errc::endpoint_bad_port);
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value == 0 || value > 65535) return make_error_code(Errc::endpoint_bad_port);
    out.port = static_cast<std::uint16_t>(value);
  }
  out.base_path = std::string(parsed->encoded_path());
  // Boost.URL 1.81 reads "http://h:8o" as port 8 and path "o": a path after
  // an authority must start with '/'.
  if (!out.base_path.empty() && out.base_path.front() != '/') return make_error_code(Errc::endpoint_bad_url);
  if (out.base_path == "/") out.base_path.clear();
  return out;
}

Result<Endpoint> default_endpoint(Service service, std::string_view region, const EndpointVariant& variant) {
  if (region.empty()) return make_error_code(Errc::endpoint_missing_region);
  if (!is_dns_label(region)) return make_error_code(Errc::endpoint_invalid_region);
  const ServiceInfo& info = service_info(service);
  const Partition& partition = partition_of(region);
  Endpoint out;
  out.signing_name = std::string(info.signing_name);
  out.signing_region = std::string(region);
  const std::string prefix(info.endpoint_prefix);
  const std::string reg(region);

  if (service == Service::sts && !variant.fips && !variant.dualstack) {
    const bool legacy = variant.sts_legacy_global &&
                        std::find(kLegacyGlobalStsRegions.begin(), kLegacyGlobalStsRegions.end(), region) !=
                            kLegacyGlobalStsRegions.end();
    if (legacy || region == "aws-global") {
      out.host = "sts.amazonaws.com";
      out.signing_region = "us-east-1";
      return out;
    }
  }
  const bool gov_plain_fips =
      partition.id == "aws-us-gov" && service != Service::kms && service != Service::ssmmessages;
  if (variant.fips && variant.dualstack) {
    out.host = prefix + "-fips." + reg + '.' + std::string(partition.dualstack_dns_suffix);
  } else if (variant.fips) {
    out.host = (gov_plain_fips ? prefix : prefix + "-fips") + '.' + reg + '.' + std::string(partition.dns_suffix);
  } else if (variant.dualstack) {
    out.host = prefix + '.' + reg + '.' + std::string(partition.dualstack_dns_suffix);
  } else {
    out.host = prefix + '.' + reg + '.' + std::string(partition.dns_suffix);
  }
  return out;
}

EndpointResult<EndpointVariant> endpoint_variant(const EndpointInputs& in) {
  EndpointVariant v;
  v.fips = boolean_setting(in, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint");
  v.dualstack = boolean_setting(in, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint");
  const std::string* sts = lookup_env(in, "AWS_STS_REGIONAL_ENDPOINTS");
  std::string_view source = "AWS_STS_REGIONAL_ENDPOINTS";
  if (!sts || sts->empty()) {
    sts = lookup_profile(in, "sts_regional_endpoints");
    source = "sts_regional_endpoints";
  }
  if (sts && !sts->empty()) {
    if (*sts == "legacy") {
      v.sts_legacy_global = true;
    } else if (*sts != "regional") {
      return endpoint_error(Errc::endpoint_bad_setting,
                            std::string(source) + " must be 'regional' or 'legacy', not '" + *sts + "'");
    }
  }
  return v;
}

EndpointResult<Endpoint> resolve_endpoint(Service service, const EndpointInputs& in) {
  const ServiceInfo& info = service_info(service);
  if (in.region.empty())
    return endpoint_error(Errc::endpoint_missing_region, make_error_code(Errc::endpoint_missing_region).message());
  // The region is signed into the SigV4 credential scope ("AK/date/region/..."),
  // so it must be a DNS label for a configured endpoint too (botocore refuses
  // other names whatever the endpoint: InvalidRegionError).
  if (!is_dns_label(in.region))
    return endpoint_error(Errc::endpoint_invalid_region, make_error_code(Errc::endpoint_invalid_region).message());

  // Steps 1-5: a configured URL, with the name of where it came from.
  std::string_view url;
  std::string source_name;
  EndpointSource source = EndpointSource::builtin;
  if (!in.explicit_url.empty()) {
    url = in.explicit_url;
    source = EndpointSource::explicit_url;
    source_name = "--endpoint-url";
  } else if (!boolean_setting(in, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls")) {
    const std::string service_env = "AWS_ENDPOINT_URL_" + std::string(info.env_suffix);
    std::string services_name;
    if (const auto* v = lookup_env(in, service_env); v && !v->empty()) {
      url = *v;
      source = EndpointSource::env_service;
      source_name = service_env;
    } else if (const auto* g = lookup_env(in, "AWS_ENDPOINT_URL"); g && !g->empty()) {
      url = *g;
      source = EndpointSource::env_global;
      source_name = "AWS_ENDPOINT_URL";
    } else {
      if (const auto* name = lookup_profile(in, "services")) {
        const Properties* section = nullptr;
        if (in.services) {
          const auto it = in.services->find(*name);
          if (it != in.services->end()) section = &it->second;
        }
        if (!section)
          return endpoint_error(Errc::endpoint_missing_services_section,
                                "the profile's 'services = " + *name + "' names a [services " + *name +
                                    "] section that does not exist in the config file; add it or remove the setting");
        if (const Property* p = find_property(*section, info.config_key)) {
          const auto it = p->sub_properties.find("endpoint_url");
          if (it != p->sub_properties.end() && !it->second.empty()) {
            url = it->second;
            source = EndpointSource::config_service;
            source_name = "[services " + *name + "] " + std::string(info.config_key) + ".endpoint_url";
          }
        }
      }
      if (source == EndpointSource::builtin) {
        if (const auto* e = lookup_profile(in, "endpoint_url"); e && !e->empty()) {
          url = *e;
          source = EndpointSource::config_global;
          source_name = "endpoint_url of the profile";
        }
      }
    }
  }

  if (source != EndpointSource::builtin) {
    auto parsed = parse_endpoint_url(url);
    if (!parsed) return bad_configured_url(parsed.error(), source_name, url);
    parsed->signing_region = std::string(in.region);
    parsed->signing_name = std::string(info.signing_name);
    parsed->source = source;
    return std::move(*parsed);
  }

  auto variant = endpoint_variant(in);
  if (!variant) return variant.error();
  auto endpoint = default_endpoint(service, in.region, *variant);
  if (!endpoint) {
    std::string message = endpoint.error().message();
    return endpoint_error(static_cast<Errc>(endpoint.error().value()), std::move(message));
  }
  return std::move(*endpoint);
}

}  // namespace ssmc::aws
