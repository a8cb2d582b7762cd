// The pure half of the credential chain: loading the shared files, deciding
// which provider supplies credentials (plan_credentials), the container and
// IMDS endpoint settings, region resolution. See credential_chain.hpp.
#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <limits>
#include <map>

#include "aws/credential_chain.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

CredentialError fail(Errc code, std::string message) { return {make_error_code(code), std::move(message)}; }

const std::string* env_get(const Environment& env, std::string_view name) {
  const auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

const std::string* prop(const Properties* properties, std::string_view key) {
  if (!properties) return nullptr;
  const Property* p = find_property(*properties, key);
  return p ? &p->value : nullptr;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool ensure_boolean(const std::string* value) { return value && ascii_lower(*value) == "true"; }

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

// How a profile is written in the config file, for advice.
std::string section_for(std::string_view profile) {
  return profile == "default" ? std::string("[default]") : "[profile " + std::string(profile) + "]";
}

// Python int(): white space around, optional sign, digits with single '_'
// between them. nullopt when it does not parse or exceeds 64 bits.
std::optional<std::int64_t> python_int(std::string_view s) {
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  std::int64_t value = 0;
  char previous = 0;
  for (char c : s) {
    if (c == '_') {
      if (previous == '_') return std::nullopt;
    } else if (c >= '0' && c <= '9') {
      if (value > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) return std::nullopt;
      value = value * 10 + (c - '0');
    } else {
      return std::nullopt;
    }
    previous = c;
  }
  return negative ? -value : value;
}

// Expands a leading "~" or "~/" from HOME (Python's posixpath.expanduser).
std::string expand_home(const std::string& path, const Environment& env) {
  if (path.empty() || path.front() != '~' || (path.size() > 1 && path[1] != '/')) return path;
  const std::string* home = env_get(env, "HOME");
  if (!home) return path;
  std::string h = *home;
  while (!h.empty() && h.back() == '/') h.pop_back();
  std::string out = h + path.substr(1);
  return out.empty() ? std::string("/") : out;
}

std::optional<std::string> empty_to_none(const std::string* s) {
  if (!s || s->empty()) return std::nullopt;
  return *s;
}

bool has_static_credentials(const Properties& p) {
  return p.contains("aws_secret_access_key") || p.contains("aws_access_key_id");
}

bool has_assume_role_vars(const Properties& p) {
  return p.contains("role_arn") && !p.contains("web_identity_token_file");
}

// An URL's host without brackets, the Host header, port, path and query.
struct ParsedUrl {
  std::string scheme;
  std::string host;
  std::string host_header;
  std::uint16_t port = 0;
  std::string path;
  std::string query;
  boost::urls::host_type host_type = boost::urls::host_type::none;
  boost::urls::url_view view;
};

std::optional<ParsedUrl> parse_http_url(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view& u = *parsed;
  ParsedUrl out;
  out.scheme = ascii_lower(u.scheme());
  if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
  if (!u.has_authority() || u.encoded_host().empty() || u.has_userinfo()) return std::nullopt;
  out.host_type = u.host_type();
  if (out.host_type == boost::urls::host_type::ipvfuture) return std::nullopt;
  out.host =
      out.host_type == boost::urls::host_type::ipv6 ? u.host_ipv6_address().to_string() : std::string(u.encoded_host());
  const std::uint16_t default_port = out.scheme == "https" ? 443 : 80;
  out.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    const auto port = python_int(u.port());
    if (!port || *port < 1 || *port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(*port);
  }
  out.host_header = out.host_type == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  if (out.port != default_port) out.host_header += ":" + std::to_string(out.port);
  out.path = std::string(u.encoded_path());
  if (out.path.empty()) out.path = "/";
  if (u.has_query()) out.query = std::string(u.encoded_query());
  out.view = u;
  return out;
}

// Hosts a container endpoint may use over plain http.
bool allowed_http_container_host(const ParsedUrl& u) {
  using boost::urls::host_type;
  if (u.host_type == host_type::ipv4) {
    const auto bytes = u.view.host_ipv4_address().to_bytes();
    return bytes[0] == 127 || u.host == "169.254.170.2" || u.host == "169.254.170.23";
  }
  if (u.host_type == host_type::ipv6) {
    const auto address = u.view.host_ipv6_address();
    return address.is_loopback() || address == boost::urls::ipv6_address("fd00:ec2::23");
  }
  return ascii_lower(u.host) == "localhost";
}

class Planner {
 public:
  Planner(const ResolverInput& input, const SharedConfig& config)
      : in_(input),
        cfg_(config),
        explicit_profile_(!input.cli_profile.empty()),
        profile_(selected_profile(input.env, input.cli_profile)) {}

  CredentialResult<CredentialPlan> run() {
    const bool named = explicit_profile_ || env_get(in_.env, "AWS_PROFILE") || env_get(in_.env, "AWS_DEFAULT_PROFILE");
    if (named && !cfg_.profiles.profiles.contains(profile_)) {
      const std::string from = explicit_profile_                 ? "--profile"
                               : env_get(in_.env, "AWS_PROFILE") ? "AWS_PROFILE"
                                                                 : "AWS_DEFAULT_PROFILE";
      return fail(Errc::profile_not_found, "profile " + quoted(profile_) + " (from " + from + ") is not in " +
                                               config_path() + " or " + credentials_path() + "; add " +
                                               section_for(profile_) + " or use an existing profile");
    }
    const Properties* props = profile(profile_);
    auto imds = imds_config(in_.env, props);
    if (!imds) return imds.error();
    imds_ = std::move(*imds);

    CredentialPlan plan;
    plan.profile = profile_;
    // 1. Environment.
    if (!explicit_profile_) {
      auto env = env_source();
      if (!env) return env.error();
      if (*env) {
        plan.source = std::move(**env);
        return plan;
      }
    }
    // 2. Assume role.
    if (props && has_assume_role_vars(*props)) {
      visited_ = {profile_};
      if (auto e = resolve_role(profile_, plan)) return *e;
      return plan;
    }
    // 3-7. Profile providers.
    auto from_profile = profile_providers(profile_, explicit_profile_);
    if (!from_profile) return from_profile.error();
    if (*from_profile) {
      plan.source = std::move(**from_profile);
      return plan;
    }
    // 8. Legacy files.
    auto legacy = legacy_sources();
    if (!legacy) return legacy.error();
    if (*legacy) {
      plan.source = std::move(**legacy);
      return plan;
    }
    // 9. Container.
    if (env_get(in_.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
        env_get(in_.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      auto container = container_source();
      if (!container) return container.error();
      plan.source = std::move(*container);
      return plan;
    }
    // 10. IMDS.
    if (imds_.disabled) return no_credentials();
    plan.source = ImdsSource{imds_};
    return plan;
  }

 private:
  std::string config_path() const { return cfg_.paths.config.empty() ? "~/.aws/config" : cfg_.paths.config; }
  std::string credentials_path() const {
    return cfg_.paths.credentials.empty() ? "~/.aws/credentials" : cfg_.paths.credentials;
  }

  const Properties* profile(const std::string& name) const {
    const auto it = cfg_.profiles.profiles.find(name);
    return it == cfg_.profiles.profiles.end() ? nullptr : &it->second;
  }

  CredentialError no_credentials() const {
    return fail(Errc::no_credentials,
                "no AWS credentials found for profile " + quoted(profile_) + " (environment, " + config_path() + ", " +
                    credentials_path() + ", container and EC2 metadata checked); run 'aws configure" +
                    (profile_ == "default" ? std::string() : " --profile " + profile_) +
                    "', set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose another profile");
  }

  // EnvProvider.
  CredentialResult<std::optional<StaticSource>> env_source() const {
    const std::string* key = env_get(in_.env, "AWS_ACCESS_KEY_ID");
    if (!key || key->empty()) return std::optional<StaticSource>();
    const std::string* secret = env_get(in_.env, "AWS_SECRET_ACCESS_KEY");
    if (!secret || secret->empty())
      return fail(Errc::credential_config_incomplete,
                  "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or unset AWS_ACCESS_KEY_ID");
    StaticSource s;
    s.credentials.access_key_id = *key;
    s.credentials.secret_access_key = *secret;
    for (std::string_view name : {"AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"}) {
      if (const std::string* token = env_get(in_.env, name); token && !token->empty()) {
        s.credentials.session_token = *token;
        break;
      }
    }
    if (const std::string* expiry = env_get(in_.env, "AWS_CREDENTIAL_EXPIRATION"); expiry && !expiry->empty()) {
      auto t = parse_iso8601(*expiry);
      if (!t)
        return fail(Errc::bad_timestamp,
                    "AWS_CREDENTIAL_EXPIRATION is not an ISO-8601 time (e.g. 2025-01-31T12:00:00Z); fix or unset it");
      s.credentials.expiration = *t;
    }
    s.account_id = empty_to_none(env_get(in_.env, "AWS_ACCOUNT_ID"));
    s.method = "env";
    s.description = "environment variables";
    return std::optional<StaticSource>(std::move(s));
  }

  // Static keys of one file's profile (SharedCredentialProvider / ConfigProvider).
  CredentialResult<std::optional<StaticSource>> static_keys(const SectionMap& sections, const std::string& name,
                                                            std::string_view method, const std::string& file) const {
    const auto it = sections.find(name);
    if (it == sections.end() || !it->second.contains("aws_access_key_id")) return std::optional<StaticSource>();
    const Properties& p = it->second;
    const std::string* secret = prop(&p, "aws_secret_access_key");
    if (!secret)
      return fail(Errc::credential_config_incomplete,
                  "profile " + quoted(name) + " in " + file +
                      " has aws_access_key_id but no aws_secret_access_key; add it to the same file or remove "
                      "aws_access_key_id");
    StaticSource s;
    s.credentials.access_key_id = *prop(&p, "aws_access_key_id");
    s.credentials.secret_access_key = *secret;
    for (std::string_view key : {"aws_security_token", "aws_session_token"}) {
      if (const std::string* token = prop(&p, key)) {
        if (!token->empty()) s.credentials.session_token = *token;
        break;
      }
    }
    s.account_id = empty_to_none(prop(&p, "aws_account_id"));
    s.method = std::string(method);
    s.description =
        (method == "config-file" ? "config file " : "shared credentials file ") + file + ", profile " + quoted(name);
    return std::optional<StaticSource>(std::move(s));
  }

  // ProfileProviderBuilder.providers: web identity, SSO, shared credentials
  // file, credential_process, config file.
  CredentialResult<std::optional<CredentialSource>> profile_providers(const std::string& name, bool disable_env) const {
    using Out = std::optional<CredentialSource>;
    const Properties* props = profile(name);
    auto get = [&](std::string_view key, std::string_view env_key) -> const std::string* {
      if (!disable_env) {
        if (const std::string* v = env_get(in_.env, env_key)) return v;
      }
      return prop(props, key);
    };
    // Web identity.
    if (const std::string* token_file = get("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE");
        token_file && !token_file->empty()) {
      const std::string* role_arn = get("role_arn", "AWS_ROLE_ARN");
      if (!role_arn || role_arn->empty())
        return fail(Errc::credential_config_incomplete,
                    "profile " + quoted(name) + ": web_identity_token_file is set but role_arn is missing; add " +
                        "role_arn to " + section_for(name) + (disable_env ? "" : " or set AWS_ROLE_ARN"));
      WebIdentitySource w;
      w.profile = name;
      w.token_file = *token_file;
      w.role_arn = *role_arn;
      w.role_session_name = empty_to_none(get("role_session_name", "AWS_ROLE_SESSION_NAME"));
      return Out(std::move(w));
    }
    // SSO.
    if (props && (props->contains("sso_role_name") || props->contains("sso_account_id"))) {
      auto sso = sso_source(name, *props);
      if (!sso) return sso.error();
      return Out(std::move(*sso));
    }
    // Shared credentials file.
    auto shared = static_keys(cfg_.credentials_profiles, name, "shared-credentials-file", credentials_path());
    if (!shared) return shared.error();
    if (*shared) return Out(std::move(**shared));
    // credential_process.
    if (const std::string* command = prop(props, "credential_process")) {
      auto argv = split_command_line(*command);
      if (!argv)
        return fail(Errc::credential_process_bad_command,
                    "profile " + quoted(name) +
                        ": credential_process has an unclosed quote or a trailing backslash; fix the command line");
      if (argv->empty())
        return fail(Errc::credential_process_bad_command,
                    "profile " + quoted(name) + ": credential_process is empty; set it to a command or remove it");
      ProcessSource p;
      p.profile = name;
      p.command = *command;
      p.argv = std::move(*argv);
      p.account_id = empty_to_none(prop(props, "aws_account_id"));
      return Out(std::move(p));
    }
    // Config file.
    auto config = static_keys(cfg_.config_profiles, name, "config-file", config_path());
    if (!config) return config.error();
    if (*config) return Out(std::move(**config));
    return Out();
  }

  CredentialResult<SsoSource> sso_source(const std::string& name, const Properties& props) const {
    Properties merged = props;
    std::string session_name;
    if (const std::string* session = prop(&props, "sso_session")) {
      session_name = *session;
      const auto it = cfg_.profiles.sso_sessions.find(*session);
      if (it == cfg_.profiles.sso_sessions.end())
        return fail(Errc::sso_session_not_found, "profile " + quoted(name) + ": sso_session " + quoted(*session) +
                                                     " does not exist in " + config_path() + "; add [sso-session " +
                                                     *session +
                                                     "] with sso_start_url and sso_region, or fix sso_session");
      for (const auto& [key, value] : it->second) {
        if (const Property* own = find_property(merged, key); own && own->value != value.value)
          return fail(Errc::credential_config_conflict, "profile " + quoted(name) + ": " + key + " differs between " +
                                                            section_for(name) + " and [sso-session " + *session +
                                                            "]; remove it from the profile or make them equal");
        merged[key] = value;
      }
    }
    std::string missing;
    for (std::string_view key : {"sso_role_name", "sso_account_id", "sso_start_url", "sso_region"}) {
      if (!merged.contains(key)) missing += (missing.empty() ? "" : ", ") + std::string(key);
    }
    if (!missing.empty())
      return fail(Errc::credential_config_incomplete,
                  "profile " + quoted(name) + " is configured for SSO but lacks " + missing + "; add " +
                      (missing.find(',') == std::string::npos ? "it" : "them") + " (aws configure sso writes them)");
    SsoSource s;
    s.profile = name;
    s.start_url = *prop(&merged, "sso_start_url");
    s.sso_region = *prop(&merged, "sso_region");
    s.account_id = *prop(&merged, "sso_account_id");
    s.role_name = *prop(&merged, "sso_role_name");
    s.session_name = session_name;
    return s;
  }

  CredentialResult<ContainerSource> container_source() const {
    auto endpoint = container_endpoint(in_.env);
    if (!endpoint) return endpoint.error();
    ContainerSource c;
    c.endpoint = std::move(*endpoint);
    if (const std::string* file = env_get(in_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
      c.auth_token_file = *file;
    else if (const std::string* token = env_get(in_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN"))
      c.auth_token = *token;
    return c;
  }

  // OriginalEC2Provider and BotoProvider.
  CredentialResult<std::optional<CredentialSource>> legacy_sources() const {
    using Out = std::optional<CredentialSource>;
    if (const std::string* file = env_get(in_.env, "AWS_CREDENTIAL_FILE")) {
      const std::string path = expand_home(*file, in_.env);
      auto text = in_.files ? in_.files->read_file(path) : Result<std::string>(make_error_code(std::errc::io_error));
      if (!text)
        return fail(Errc::credential_file_unreadable, "AWS_CREDENTIAL_FILE names " + path + ", which cannot be read (" +
                                                          text.error().message() +
                                                          "); fix or unset AWS_CREDENTIAL_FILE");
      std::map<std::string, std::string, std::less<>> values;
      std::string_view rest = *text;
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        auto trim = [](std::string_view s) {
          while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
          while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
          return s;
        };
        values[std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
      }
      if (values.contains("AWSAccessKeyId")) {
        if (!values.contains("AWSSecretKey"))
          return fail(Errc::credential_config_incomplete,
                      path + " (AWS_CREDENTIAL_FILE) has AWSAccessKeyId but no AWSSecretKey; add it");
        StaticSource s;
        s.credentials.access_key_id = values["AWSAccessKeyId"];
        s.credentials.secret_access_key = values["AWSSecretKey"];
        s.method = "ec2-credentials-file";
        s.description = "AWS_CREDENTIAL_FILE " + path;
        return Out(std::move(s));
      }
    }
    std::vector<std::string> locations;
    if (const std::string* boto = env_get(in_.env, "BOTO_CONFIG"))
      locations.push_back(expand_home(*boto, in_.env));
    else
      locations = {"/etc/boto.cfg", expand_home("~/.boto", in_.env)};
    for (const auto& path : locations) {
      if (!in_.files || path.empty() || path.front() == '~') continue;
      auto text = in_.files->read_file(path);
      if (!text) continue;  // configparser skips files it cannot open
      auto parsed = parse_config_file(*text, FileKind::credentials);
      if (!parsed) return CredentialError{parsed.error().code, path + ": " + parsed.error().message};
      for (const auto& section : parsed->sections) {
        if (section.name != "Credentials" || !section.properties.contains("aws_access_key_id")) continue;
        const std::string* secret = prop(&section.properties, "aws_secret_access_key");
        if (!secret)
          return fail(Errc::credential_config_incomplete,
                      path + " has aws_access_key_id but no aws_secret_access_key in [Credentials]; add it");
        StaticSource s;
        s.credentials.access_key_id = *prop(&section.properties, "aws_access_key_id");
        s.credentials.secret_access_key = *secret;
        s.method = "boto-config";
        s.description = "boto config " + path;
        return Out(std::move(s));
      }
    }
    return Out();
  }

  // AssumeRoleProvider._load_creds_via_assume_role, recursively: fills
  // plan.source and appends this profile's role after its source's roles.
  std::optional<CredentialError> resolve_role(const std::string& name, CredentialPlan& plan) {
    const Properties& p = *profile(name);
    AssumeRoleStep step;
    step.profile = name;
    step.role_arn = *prop(&p, "role_arn");
    step.role_session_name = empty_to_none(prop(&p, "role_session_name"));
    if (const std::string* v = prop(&p, "external_id")) step.external_id = *v;
    if (const std::string* v = prop(&p, "mfa_serial")) step.mfa_serial = *v;
    if (const std::string* v = prop(&p, "duration_seconds")) step.duration_seconds = python_int(*v);
    const std::string* source_profile = prop(&p, "source_profile");
    const std::string* credential_source = prop(&p, "credential_source");
    if (source_profile && credential_source)
      return fail(Errc::credential_config_conflict, "profile " + quoted(name) +
                                                        " sets both source_profile and credential_source; keep "
                                                        "only one of them");
    if (!source_profile && !credential_source)
      return fail(Errc::credential_config_incomplete,
                  "profile " + quoted(name) +
                      " has role_arn but neither source_profile nor credential_source; add source_profile = <a "
                      "profile with credentials> or credential_source = Environment, Ec2InstanceMetadata or "
                      "EcsContainer");
    if (credential_source) {
      if (*credential_source != "Environment" && *credential_source != "Ec2InstanceMetadata" &&
          *credential_source != "EcsContainer")
        return fail(Errc::credential_config_invalid_value,
                    "profile " + quoted(name) + ": credential_source " + quoted(*credential_source) +
                        " is not valid; use Environment, Ec2InstanceMetadata or EcsContainer (case matters)");
      if (auto e = credential_source_plan(*credential_source, name, plan)) return e;
    } else {
      if (auto e = validate_source_profile(name, *source_profile)) return e;
      visited_.push_back(*source_profile);
      const Properties& source = *profile(*source_profile);
      if (has_static_credentials(source) || !has_assume_role_vars(source)) {
        auto from = profile_providers(*source_profile, true);
        if (!from) return from.error();
        if (!*from)
          return fail(Errc::source_profile_without_credentials,
                      "profile " + quoted(name) + ": source_profile " + quoted(*source_profile) +
                          " has no credentials; add aws_access_key_id and aws_secret_access_key, "
                          "credential_process or SSO settings to " +
                          section_for(*source_profile));
        plan.source = std::move(**from);
        plan.source_origin = "source_profile " + quoted(*source_profile);
      } else if (auto e = resolve_role(*source_profile, plan)) {
        return e;
      }
    }
    plan.roles.push_back(std::move(step));
    return std::nullopt;
  }

  std::optional<CredentialError> validate_source_profile(const std::string& parent, const std::string& source) const {
    if (!profile(source))
      return fail(Errc::source_profile_not_found, "profile " + quoted(parent) + ": source_profile " + quoted(source) +
                                                      " does not exist in " + config_path() + " or " +
                                                      credentials_path() + "; add " + section_for(source) +
                                                      " or fix source_profile");
    if (std::find(visited_.begin(), visited_.end(), source) == visited_.end()) return std::nullopt;
    if (source != parent) {
      std::string path;
      for (const auto& v : visited_) path += v + " -> ";
      return fail(Errc::profile_loop, "profile " + quoted(parent) + ": source_profile " + quoted(source) +
                                          " leads back to a profile already in the chain (" + path + source +
                                          "); break the loop");
    }
    if (!has_static_credentials(*profile(source)))
      return fail(Errc::profile_loop, "profile " + quoted(parent) +
                                          " names itself as source_profile but has no aws_access_key_id / "
                                          "aws_secret_access_key; add them or name another source_profile");
    return std::nullopt;
  }

  // CanonicalNameCredentialSourcer.
  std::optional<CredentialError> credential_source_plan(const std::string& source, const std::string& name,
                                                        CredentialPlan& plan) const {
    plan.from_credential_source = true;
    plan.source_origin = "credential_source " + source + " of profile " + quoted(name);
    if (source == "Environment") {
      auto env = env_source();
      if (!env) return env.error();
      if (!*env)
        return fail(Errc::credential_source_empty,
                    "profile " + quoted(name) +
                        " has credential_source = Environment but AWS_ACCESS_KEY_ID is not set; export "
                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or change credential_source");
      plan.source = std::move(**env);
      return std::nullopt;
    }
    if (source == "EcsContainer") {
      if (!env_get(in_.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
          !env_get(in_.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        return fail(Errc::credential_source_empty,
                    "profile " + quoted(name) +
                        " has credential_source = EcsContainer but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
                        "nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set; run it in ECS/EKS or change "
                        "credential_source");
      auto container = container_source();
      if (!container) return container.error();
      plan.source = std::move(*container);
      return std::nullopt;
    }
    if (imds_.disabled)
      return fail(Errc::credential_source_empty,
                  "profile " + quoted(name) +
                      " has credential_source = Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED is true; unset "
                      "it or change credential_source");
    plan.source = ImdsSource{imds_};
    return std::nullopt;
  }

  const ResolverInput& in_;
  const SharedConfig& cfg_;
  bool explicit_profile_;
  std::string profile_;
  ImdsConfig imds_;
  std::vector<std::string> visited_;
};

}  // namespace

SharedConfig make_shared_config(ParsedFile config_file, ParsedFile credentials_file, ConfigFilePaths paths) {
  SharedConfig out;
  out.paths = std::move(paths);
  config_file.kind = FileKind::config;
  credentials_file.kind = FileKind::credentials;
  out.profiles = merge_profiles(config_file, credentials_file);
  out.config_profiles = merge_profiles(config_file, ParsedFile{FileKind::credentials, {}, {}}).profiles;
  out.credentials_profiles = merge_profiles(ParsedFile{FileKind::config, {}, {}}, credentials_file).profiles;
  out.config_file = std::move(config_file);
  out.credentials_file = std::move(credentials_file);
  return out;
}

CredentialResult<SharedConfig> load_shared_config(const Environment& env, FileReader& files) {
  auto paths = config_file_paths(env);
  if (!paths) {
    if (paths.error() == make_error_code(Errc::no_home_directory)) return make_shared_config({}, {});
    return fail(static_cast<Errc>(paths.error().value()), paths.error().message());
  }
  ParsedFile config{FileKind::config, {}, {}};
  ParsedFile credentials{FileKind::credentials, {}, {}};
  auto load = [&](const std::string& path, FileKind kind, ParsedFile& out) -> std::optional<CredentialError> {
    if (path.empty()) return std::nullopt;
    auto text = files.read_file(path);
    if (!text) {
      if (text.error() == std::errc::no_such_file_or_directory || text.error() == std::errc::is_a_directory)
        return std::nullopt;
      return fail(Errc::credential_file_unreadable,
                  "cannot read " + path + " (" + text.error().message() + "); fix its permissions or point " +
                      (kind == FileKind::config ? "AWS_CONFIG_FILE" : "AWS_SHARED_CREDENTIALS_FILE") + " elsewhere");
    }
    auto parsed = parse_config_file(*text, kind);
    if (!parsed) return CredentialError{parsed.error().code, path + ": " + parsed.error().message};
    out = std::move(*parsed);
    return std::nullopt;
  };
  if (auto e = load(paths->config, FileKind::config, config)) return *e;
  if (auto e = load(paths->credentials, FileKind::credentials, credentials)) return *e;
  return make_shared_config(std::move(config), std::move(credentials), std::move(*paths));
}

CredentialResult<CredentialPlan> plan_credentials(const ResolverInput& input, const SharedConfig& config) {
  return Planner(input, config).run();
}

CredentialResult<ContainerEndpoint> container_endpoint(const Environment& env) {
  const std::string* relative = env_get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string* full = env_get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full)
    return fail(Errc::container_bad_endpoint,
                "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
  const std::string url = relative ? "http://" + std::string(kEcsHost) + *relative : *full;
  const std::string_view variable =
      relative ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
  auto parsed = parse_http_url(url);
  if (!parsed)
    return fail(
        Errc::container_bad_endpoint,
        std::string(variable) + " is not an http(s) URL with a host (e.g. http://localhost:8080/credentials); fix it");
  if (!relative && parsed->scheme == "http" && !allowed_http_container_host(*parsed))
    return fail(Errc::container_bad_endpoint,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI uses http to host " + quoted(parsed->host) +
                    ", which is not allowed; use https, or a loopback, 169.254.170.2, 169.254.170.23 or "
                    "fd00:ec2::23 address");
  ContainerEndpoint out;
  out.url = url;
  out.scheme = parsed->scheme;
  out.host = parsed->host;
  out.port = parsed->port;
  out.host_header = parsed->host_header;
  out.path = parsed->path;
  out.query = parsed->query;
  return out;
}

CredentialResult<ImdsConfig> imds_config(const Environment& env, const Properties* profile,
                                         std::string_view endpoint_override, std::string_view mode_override) {
  auto get = [&](std::string_view env_key, std::string_view key) -> const std::string* {
    if (const std::string* v = env_get(env, env_key)) return v;
    return prop(profile, key);
  };
  ImdsConfig out;
  // The mode is validated even when an endpoint is configured (botocore
  // resolve_imds_endpoint_mode runs first).
  bool ipv6 = false;
  std::string mode_text;
  std::string mode_source;
  if (!mode_override.empty()) {
    mode_text = std::string(mode_override);
    mode_source = "the endpoint mode override";
  } else if (const std::string* m =
                 get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")) {
    mode_text = *m;
    mode_source = env_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") ? "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
                                                                         : "ec2_metadata_service_endpoint_mode";
  }
  if (!mode_source.empty()) {
    const std::string lower = ascii_lower(mode_text);
    if (lower != "ipv4" && lower != "ipv6")
      return fail(Errc::imds_bad_endpoint,
                  "`" + mode_text + "` is not a valid endpoint mode (" + mode_source + "); use IPv4 or IPv6");
    ipv6 = lower == "ipv6";
  } else {
    ipv6 = ensure_boolean(get("AWS_IMDS_USE_IPV6", "imds_use_ipv6"));
  }
  std::string base;
  std::string base_source;
  if (!endpoint_override.empty()) {
    base = std::string(endpoint_override);
    base_source = "the endpoint override";
  } else if (const std::string* e = get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint");
             e && !e->empty()) {
    base = *e;
    base_source = env_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") ? "AWS_EC2_METADATA_SERVICE_ENDPOINT"
                                                                    : "ec2_metadata_service_endpoint";
  } else {
    base = std::string(ipv6 ? kImdsIpv6Endpoint : kImdsIpv4Endpoint);
  }
  auto parsed = parse_http_url(base);
  if (!parsed)
    return fail(Errc::imds_bad_endpoint, base_source +
                                             " is not a valid http(s) URL with a host (invalid uri "
                                             "character or form); write it as http://host[:port]/");
  if (base.back() != '/') base += '/';
  out.base_url = base;
  out.scheme = parsed->scheme;
  out.host = parsed->host;
  out.port = parsed->port;
  out.host_header = parsed->host_header;
  out.base_path = parsed->path;
  if (out.base_path.back() != '/') out.base_path += '/';

  if (const std::string* t = get("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")) {
    const auto seconds = python_int(*t);
    if (!seconds || *seconds < 1 || *seconds > 3600)
      return fail(Errc::credential_config_invalid_value,
                  "metadata_service_timeout / AWS_METADATA_SERVICE_TIMEOUT must be a whole number of seconds "
                  "(1-3600); fix it");
    out.timeout = std::chrono::seconds(*seconds);
  }
  if (const std::string* a = get("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts")) {
    const auto attempts = python_int(*a);
    if (!attempts || *attempts > 100)
      return fail(Errc::credential_config_invalid_value,
                  "metadata_service_num_attempts / AWS_METADATA_SERVICE_NUM_ATTEMPTS must be a whole number "
                  "(e.g. 2); fix it");
    out.attempts = static_cast<int>(*attempts);
  }
  out.v1_disabled = ensure_boolean(get("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled"));
  const std::string* disabled = env_get(env, "AWS_EC2_METADATA_DISABLED");
  out.disabled = disabled && ascii_lower(*disabled) == "true";
  return out;
}

bool expires_within(TimePoint expiration, TimePoint now, std::chrono::system_clock::duration window) {
  // expiration - now < window, without overflow for clamped (min/max) times.
  if (now > TimePoint::max() - window) return true;
  return expiration < now + window;
}

bool needs_refresh(const Credentials& credentials, std::chrono::system_clock::time_point now) {
  return credentials.expiration && expires_within(*credentials.expiration, now, kCredentialRefreshWindow);
}

CredentialResult<std::string> resolve_region(const Environment& env, const ProfileSet& profiles,
                                             std::string_view cli_profile, std::string_view cli_region) {
  if (!cli_region.empty()) return std::string(cli_region);
  for (std::string_view name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (const std::string* v = env_get(env, name); v && !v->empty()) return *v;
  }
  const std::string profile = selected_profile(env, cli_profile);
  if (const auto it = profiles.profiles.find(profile); it != profiles.profiles.end()) {
    if (const std::string* region = prop(&it->second, "region"); region && !region->empty()) return *region;
  }
  return fail(Errc::no_region, "no AWS region for profile " + quoted(profile) +
                                   ": pass --region, set AWS_REGION, or add 'region = us-east-1' (your region) to " +
                                   section_for(profile) + " in ~/.aws/config");
}

}  // namespace ssmc::aws
