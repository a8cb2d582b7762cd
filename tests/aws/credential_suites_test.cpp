// The cross-SDK credential suites of shared/testdata/aws-config (README
// there): every scenario of default-credential-provider-chain/ and
// profile-provider/ driven through the resolver with a fake HTTP peer that
// replays the scenario's recorded traffic, plus assume-role-tests.json
// (planner), ecs-tests.json (container URI) and imds-endpoint-tests.json.
//
// The suites define the newer SDKs' behaviour; where the AWS CLI v2 differs
// the case asserts the CLI's behaviour and says why (kCases below). The
// token-provider suite (default-token-provider-chain/) is not part of the
// credential chain and is not run here.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <set>

#include "aws/credential_chain.hpp"
#include "aws/credential_test_support.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using test::HttpReply;
using test::ProcessReply;

const std::string kSuiteDir = std::string(SSMC_SHARED_DIR) + "/testdata/aws-config";

json::value load_json(const std::string& path) {
  const std::string text = test::read_file_or_empty(path);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  return v;
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string(); }

// --- Recorded traffic -----------------------------------------------------------------------

struct Exchange {
  std::string method;
  std::string uri;
  std::map<std::string, std::string> request_headers;  // lower-case names
  std::string request_body;
  int status = 0;
  Headers response_headers;
  std::string response_body;
  bool used = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::vector<Exchange> load_traffic(const std::string& path) {
  std::vector<Exchange> out;
  if (!test::file_exists(path)) return out;
  std::map<std::int64_t, std::size_t> by_connection;
  const json::value doc = load_json(path);
  for (const auto& event : doc.at("events").as_array()) {
    const std::int64_t id = event.at("connection_id").to_number<std::int64_t>();
    if (!by_connection.contains(id)) {
      by_connection[id] = out.size();
      out.emplace_back();
    }
    Exchange& x = out[by_connection[id]];
    const json::object& action = event.at("action").as_object();
    if (const auto* req = action.if_contains("Request")) {
      const json::object& r = req->at("request").as_object();
      x.method = str(r.at("method"));
      x.uri = str(r.at("uri"));
      for (const auto& [name, values] : r.at("headers").as_object())
        x.request_headers[lower(name)] = str(values.as_array().at(0));
    } else if (const auto* resp = action.if_contains("Response")) {
      const json::object& ok = resp->at("response").at("Ok").as_object();
      x.status = ok.at("status").to_number<int>();
      for (const auto& [name, values] : ok.at("headers").as_object())
        x.response_headers.push_back({std::string(name), str(values.as_array().at(0))});
    } else if (const auto* data = action.if_contains("Data")) {
      const std::string text = str(data->at("data").at("Utf8"));
      (str(data->at("direction")) == "Request" ? x.request_body : x.response_body) += text;
    }
  }
  return out;
}

// Does `action` go where the recorded request went (method, scheme, host,
// port, path, query as a set)?
bool same_target(const HttpAction& action, const Exchange& x) {
  auto parsed = boost::urls::parse_uri(x.uri);
  if (!parsed || action.method != x.method) return false;
  const auto& u = *parsed;
  const std::string scheme = lower(u.scheme());
  std::string host =
      u.host_type() == boost::urls::host_type::ipv6 ? u.host_ipv6_address().to_string() : std::string(u.encoded_host());
  const std::uint16_t port =
      u.has_port() ? static_cast<std::uint16_t>(u.port_number()) : (scheme == "https" ? 443 : 80);
  std::string path(u.encoded_path());
  if (path.empty()) path = "/";
  auto query_set = [](std::string_view q) {
    std::multiset<std::string> out;
    while (!q.empty()) {
      const auto amp = q.find('&');
      out.emplace(q.substr(0, amp));
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    }
    return out;
  };
  return scheme == action.scheme && host == action.host && port == action.port && path == action.path &&
         query_set(u.encoded_query()) == query_set(action.query);
}

// --- What each scenario should give (the AWS CLI's answer) ---------------------------------------

struct CaseSpec {
  /// Expected failure (for the suite's ErrorContains, or where the CLI fails).
  std::optional<Errc> error;
  /// Pieces the failure message must contain.
  std::vector<std::string> says;
  /// Added to env.json.
  Environment extra_env;
  /// The CLI gives other credentials than the suite (access key id expected).
  std::optional<std::string> cli_access_key;
  /// Also run credential_process through `sh -c` (the suite's runner) and
  /// expect the suite's result.
  bool shell_variant = false;
  /// Unrecorded requests to IMDS are expected (the CLI probes IMDS where
  /// the recording has none).
  bool imds_probe_allowed = false;
  /// Extra per-request check.
  std::function<void(const HttpAction&)> check;
  std::string why;
  /// Clock for the run (default: an hour before the expected expiry).
  std::optional<std::string> now;
  /// Recorded request headers not compared (recordings redacted inconsistently).
  std::set<std::string> unchecked_headers;
};

const std::map<std::string, CaseSpec>& cases() {
  static const std::map<std::string, CaseSpec> specs = {
      // The recorded ECS answer (copied from ecs_credentials) expires in 2009 and
      // carries another token than the recorded STS request (copied from
      // imds_assume_role, which does check the chaining header).
      {"default-credential-provider-chain/ecs_assume_role",
       {.now = "2009-02-13T22:00:00Z", .unchecked_headers = {"x-amz-security-token"}}},
      {"default-credential-provider-chain/web_identity_token_source_profile",
       {.unchecked_headers = {"x-amz-security-token"}}},  // recorded request keeps the real token, response is redacted
      {"default-credential-provider-chain/eks_pod_identity_credentials",
       {.check = [](const HttpAction& a) { EXPECT_EQ(test::header(a.headers, "Authorization"), "sometoken"); }}},
      {"default-credential-provider-chain/eks_pod_identity_no_token_file",
       {.error = Errc::credential_file_unreadable, .says = {"/token.jwt", "No such file or directory"}}},
      {"default-credential-provider-chain/environment_variables_blank",
       {.cli_access_key = " ",
        .why = "the CLI's EnvProvider tests `if access_key:`; \" \" is true in Python, so the blank keys win"}},
      {"default-credential-provider-chain/imds_default_chain_error",
       {.error = Errc::no_credentials, .says = {"HTTP 404"}}},
      {"default-credential-provider-chain/imds_default_chain_retries",
       {.extra_env = {{"AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2"}},
        .why = "the CLI makes 1 IMDS attempt by default; the recording needs 2"}},
      {"default-credential-provider-chain/imds_disabled", {.error = Errc::no_credentials}},
      {"default-credential-provider-chain/imds_no_iam_role",
       {.error = Errc::credential_source_empty, .says = {"Ec2InstanceMetadata"}}},
      {"default-credential-provider-chain/imds_token_fail",
       {.error = Errc::credential_source_empty,
        .imds_probe_allowed = true,
        .why = "on 403 the CLI falls back to IMDSv1 (an unrecorded GET) instead of failing at once"}},
      {"default-credential-provider-chain/profile_overrides_web_identity",
       {.error = Errc::credential_source_empty, .says = {"credential_source = Environment"}}},
      {"default-credential-provider-chain/sso_no_token_file",
       {.error = Errc::sso_token_missing,
        .says = {"/home/.aws/sso/cache/dace00cba5f8355ec9d274ceb2bcebdfbeed0e12.json", "aws sso login"}}},
      {"default-credential-provider-chain/sso_server_error", {.error = Errc::sso_error, .says = {"HTTP 503"}}},
      {"default-credential-provider-chain/web_identity_source_profile_no_env",
       {.error = Errc::credential_config_incomplete, .says = {"web_identity_token_file", "role_arn"}}},
      {"default-credential-provider-chain/web_identity_token_invalid_jwt",
       {.error = Errc::sts_error,
        .says = {"InvalidIdentityToken", "No OpenIDConnect provider found in your account",
                 "5045ca91-d123-4749-9d66-00a3c906be6c"}}},
      {"profile-provider/credential_process",
       {.error = Errc::credential_process_bad_output,
        .shell_variant = true,
        .why = "the CLI runs credential_process without a shell: `| base64 --decode` are echo's arguments"}},
      {"profile-provider/credential_process_account_id_fallback",
       {.error = Errc::credential_process_bad_output,
        .shell_variant = true,
        .why = "the CLI runs credential_process without a shell: `| base64 --decode` are echo's arguments"}},
      {"profile-provider/credential_process_failure",
       {.error = Errc::credential_process_failed,
        .says = {"exit"},
        .why = "no shell: `exit` is not a program, so the CLI fails to start it"}},
      {"profile-provider/credential_process_invalid",
       {.error = Errc::credential_process_bad_output, .says = {"not valid JSON"}}},
      {"profile-provider/empty_config",
       {.error = Errc::profile_not_found,
        .why = "run as `--profile default`: with no config file the CLI reports the profile as not found"}},
      {"profile-provider/invalid_config", {.error = Errc::config_empty_property_name, .says = {"line 2"}}},
      {"profile-provider/invalid_sso_credentials_config",
       {.error = Errc::no_credentials,
        .imds_probe_allowed = true,
        .why = "a token-only SSO profile is no credential source for the CLI; the chain ends at IMDS"}},
      {"profile-provider/sso_token",
       {.error = Errc::no_credentials,
        .imds_probe_allowed = true,
        .why = "a token-only SSO profile is no credential source for the CLI; the chain ends at IMDS"}},
  };
  return specs;
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  for (const char* suite : {"default-credential-provider-chain", "profile-provider"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kSuiteDir + "/" + suite, ec))
      if (entry.is_directory()) out.push_back(std::string(suite) + "/" + entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CredentialSuite : public ::testing::TestWithParam<std::string> {};

struct RunResult {
  ResolverAction final;
  std::vector<std::string> unexpected;
  test::World world;
};

RunResult run_scenario(const std::string& name, const CaseSpec& spec, bool shell) {
  const std::string dir = kSuiteDir + "/" + name;
  const json::value test_case = load_json(dir + "/test-case.json");
  Environment env;
  if (test::file_exists(dir + "/env.json")) {
    const json::value env_json = load_json(dir + "/env.json");
    for (const auto& [k, v] : env_json.as_object()) env[std::string(k)] = str(v);
  }
  for (const auto& [k, v] : spec.extra_env) env[k] = v;
  std::vector<Exchange> traffic = load_traffic(dir + "/http-traffic.json");

  test::DirFiles files(dir + "/fs");
  ResolverInput in;
  in.env = env;
  in.files = &files;
  in.now = test::at("2021-09-21T12:00:00Z");
  const json::object& result = test_case.at("result").as_object();
  if (const auto* ok = result.if_contains("Ok"); ok && ok->as_object().contains("expiry"))
    in.now = test::from_unix(ok->at("expiry").to_number<std::int64_t>()) - std::chrono::hours(1);
  if (spec.now) in.now = test::at(*spec.now);
  // profile-provider/ tests the profile providers alone: for the CLI that is
  // the chain with the profile given explicitly (--profile), which drops the
  // environment provider.
  if (name.rfind("profile-provider/", 0) == 0) in.cli_profile = selected_profile(env);

  RunResult out;
  out.world.http = [&](const HttpAction& a) -> HttpReply {
    Exchange* match = nullptr;
    for (auto& x : traffic)
      if (!x.used && same_target(a, x)) {
        match = &x;
        break;
      }
    if (!match) {  // a retry of an exchange already replayed: same answer again
      for (auto it = traffic.rbegin(); it != traffic.rend(); ++it)
        if (it->used && same_target(a, *it) && it->status >= 500)
          return {it->status, it->response_headers, it->response_body, {}};
      out.unexpected.push_back(a.method + " " + a.url());
      return {0, {}, "", make_error_code(std::errc::connection_refused)};
    }
    match->used = true;
    for (const char* h : {"x-aws-ec2-metadata-token", "x-aws-ec2-metadata-token-ttl-seconds", "x-amz-sso_bearer_token",
                          "x-amz-security-token", "accept"}) {
      const auto it = match->request_headers.find(h);
      const std::string recorded = it == match->request_headers.end() ? "" : it->second;
      if ((std::string_view(h) == "accept" && recorded.empty()) || spec.unchecked_headers.contains(h)) continue;
      EXPECT_EQ(test::header(a.headers, h), recorded) << name << ": header " << h << " of " << a.url();
    }
    if (!match->request_body.empty() && a.method == "POST") {
      const auto ours = test::form_fields(a.body);
      const auto theirs = test::form_fields(match->request_body);
      EXPECT_EQ(ours.at("Action"), theirs.at("Action")) << name;
      EXPECT_EQ(ours.at("Version"), theirs.at("Version")) << name;
    }
    if (spec.check) spec.check(a);
    return {match->status, match->response_headers, match->response_body, {}};
  };
  out.world.process = [&](const RunProcessAction& p) {
    if (shell) return test::run_real_process({"/bin/sh", "-c", p.command});
    return test::run_real_process(p.argv);
  };
  CredentialResolver resolver(std::move(in));
  out.final = out.world.run(resolver);
  return out;
}

void expect_suite_ok(const std::string& name, const json::object& ok, const ResolverAction& final) {
  const auto* done = std::get_if<Done>(&final);
  if (!done) {
    ADD_FAILURE() << name << ": failed: " << std::get<Failed>(final).message;
    return;
  }
  EXPECT_EQ(done->credentials.access_key_id, str(ok.at("access_key_id"))) << name;
  EXPECT_EQ(done->credentials.secret_access_key, str(ok.at("secret_access_key"))) << name;
  if (const auto* token = ok.if_contains("session_token")) {
    EXPECT_EQ(done->credentials.session_token.value_or(""), str(*token)) << name;
  } else {
    EXPECT_FALSE(done->credentials.session_token) << name;
  }
  if (const auto* account = ok.if_contains("account_id")) {
    EXPECT_EQ(done->account_id.value_or(""), str(*account)) << name;
  }
  if (const auto* expiry = ok.if_contains("expiry")) {
    ASSERT_TRUE(done->credentials.expiration) << name;
    EXPECT_EQ(test::to_unix(*done->credentials.expiration), expiry->to_number<std::int64_t>()) << name;
  }
}

TEST_P(CredentialSuite, MatchesTheAwsCli) {
  const std::string& name = GetParam();
  static const CaseSpec kDefault;
  const auto spec_it = cases().find(name);
  const CaseSpec& spec = spec_it == cases().end() ? kDefault : spec_it->second;
  if (!spec.why.empty()) RecordProperty("cli_deviation", spec.why);
  const json::value test_case = load_json(kSuiteDir + "/" + name + "/test-case.json");
  const json::object& result = test_case.at("result").as_object();

  RunResult run = run_scenario(name, spec, false);
  if (spec.error) {
    const auto* failed = std::get_if<Failed>(&run.final);
    ASSERT_NE(failed, nullptr) << name << ": expected " << make_error_code(*spec.error).message();
    EXPECT_EQ(failed->code, make_error_code(*spec.error)) << name << ": " << failed->message;
    for (const auto& piece : spec.says) EXPECT_NE(failed->message.find(piece), std::string::npos) << failed->message;
  } else if (spec.cli_access_key) {
    const auto* done = std::get_if<Done>(&run.final);
    ASSERT_NE(done, nullptr) << name;
    EXPECT_EQ(done->credentials.access_key_id, *spec.cli_access_key) << name;
  } else {
    ASSERT_TRUE(result.contains("Ok")) << name << " has no case spec for its error";
    expect_suite_ok(name, result.at("Ok").as_object(), run.final);
  }
  for (const auto& request : run.unexpected) {
    const bool imds = request.find("169.254.169.254") != std::string::npos;
    EXPECT_TRUE(imds && spec.imds_probe_allowed) << name << ": unrecorded request " << request;
  }
  if (spec.shell_variant) {
    RunResult shell = run_scenario(name, spec, true);
    expect_suite_ok(name + " (sh -c)", result.at("Ok").as_object(), shell.final);
  }
}

INSTANTIATE_TEST_SUITE_P(AwsConfig, CredentialSuite, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(CredentialSuiteInventory, AllScenariosArePresent) { EXPECT_EQ(scenario_names().size(), 29u + 18u); }

// --- assume-role-tests.json: the planner's chain ----------------------------------------------------

std::string render_profiles(const json::object& profiles, const json::object* sessions) {
  std::string text;
  for (const auto& [name, props] : profiles) {
    text += name == "default" ? "[default]\n" : "[profile " + std::string(name) + "]\n";
    for (const auto& [k, v] : props.as_object()) text += std::string(k) + " = " + str(v) + "\n";
  }
  if (sessions)
    for (const auto& [name, props] : *sessions) {
      text += "[sso-session " + std::string(name) + "]\n";
      for (const auto& [k, v] : props.as_object()) text += std::string(k) + " = " + str(v) + "\n";
    }
  return text;
}

TEST(AssumeRoleSuite, PlansMatchTheProfileChains) {
  // Expected error codes, and the cases where the CLI plans differently
  // (IMDS: the CLI has no "no credential information" error and treats
  // token-only SSO profiles as no credential source).
  const std::map<std::string, Errc> codes = {
      {"role_arn without source source_profile", Errc::credential_config_incomplete},
      {"source profile and credential source both present", Errc::credential_config_conflict},
      {"partial credentials error (missing secret)", Errc::credential_config_incomplete},
      {"partial credentials error (missing access key)", Errc::source_profile_without_credentials},
      {"missing credentials error (empty source profile)", Errc::source_profile_without_credentials},
      {"missing source profile", Errc::source_profile_not_found},
      {"missing root profile (should never happen in practice)", Errc::profile_not_found},
      {"assume role profile infinite loop", Errc::profile_loop},
      {"infinite loop with static credentials", Errc::profile_loop},
      {"web identity role", Errc::credential_config_incomplete},
      {"invalid SSO credentials configuration: missing account ID", Errc::credential_config_incomplete},
      {"invalid SSO credentials configuration: missing role name", Errc::credential_config_incomplete},
  };
  const std::set<std::string> cli_plans_imds = {
      "profile only contains configuration",
      "invalid SSO token configuration: sso_region must be in sso-session",
      "SSO token profile selected",
      "invalid SSO token configuration: sso-session not found",
  };
  const json::value suite = load_json(kSuiteDir + "/assume-role-tests.json");
  std::size_t checked = 0;
  for (const auto& t : suite.as_array()) {
    const std::string docs = str(t.at("docs"));
    SCOPED_TRACE(docs);
    const json::object& input = t.at("input").as_object();
    const json::object* sessions = input.if_contains("sso_sessions") ? &input.at("sso_sessions").as_object() : nullptr;
    test::MapFiles files;
    ResolverInput in;
    in.cli_profile = str(input.at("selected_profile"));
    in.files = &files;
    in.now = test::at("2021-09-21T12:00:00Z");
    const SharedConfig cfg = test::shared_config(render_profiles(input.at("profiles").as_object(), sessions));
    auto plan = plan_credentials(in, cfg);
    ++checked;
    const json::object& output = t.at("output").as_object();
    if (cli_plans_imds.contains(docs)) {
      ASSERT_TRUE(plan) << plan.error().message;
      EXPECT_TRUE(std::holds_alternative<ImdsSource>(plan->source));
      EXPECT_TRUE(plan->roles.empty());
      continue;
    }
    if (output.contains("Error")) {
      ASSERT_FALSE(plan) << "expected: " << str(output.at("Error"));
      ASSERT_TRUE(codes.contains(docs));
      EXPECT_EQ(plan.error().code, make_error_code(codes.at(docs))) << plan.error().message;
      continue;
    }
    ASSERT_TRUE(plan) << plan.error().message;
    const json::array& chain = output.at("ProfileChain").as_array();
    const json::object& base = chain.at(0).as_object();
    if (const auto* key = base.if_contains("AccessKey")) {
      const auto* s = std::get_if<StaticSource>(&plan->source);
      ASSERT_NE(s, nullptr);
      EXPECT_EQ(s->credentials.access_key_id, str(key->at("access_key_id")));
      EXPECT_EQ(s->credentials.secret_access_key, str(key->at("secret_access_key")));
      if (const auto* account = key->as_object().if_contains("account_id")) {
        EXPECT_EQ(s->account_id, str(*account));
      }
    } else if (const auto* named = base.if_contains("NamedSource")) {
      EXPECT_EQ(str(*named), "Ec2InstanceMetadata");
      EXPECT_TRUE(std::holds_alternative<ImdsSource>(plan->source));
    } else if (const auto* web = base.if_contains("WebIdentityToken")) {
      const auto* w = std::get_if<WebIdentitySource>(&plan->source);
      ASSERT_NE(w, nullptr);
      EXPECT_EQ(w->role_arn, str(web->at("role_arn")));
      EXPECT_EQ(w->token_file, str(web->at("web_identity_token_file")));
      const auto* session = web->as_object().if_contains("role_session_name");
      EXPECT_EQ(w->role_session_name.value_or(""), session ? str(*session) : "");
    } else if (const auto* sso = base.if_contains("Sso")) {
      const auto* s = std::get_if<SsoSource>(&plan->source);
      ASSERT_NE(s, nullptr);
      EXPECT_EQ(s->account_id, str(sso->at("sso_account_id")));
      EXPECT_EQ(s->role_name, str(sso->at("sso_role_name")));
      EXPECT_EQ(s->start_url, str(sso->at("sso_start_url")));
      EXPECT_EQ(s->sso_region, str(sso->at("sso_region")));
    } else {
      ADD_FAILURE() << "unknown chain element";
    }
    ASSERT_EQ(plan->roles.size(), chain.size() - 1);
    for (std::size_t i = 1; i < chain.size(); ++i) {
      const json::object& role = chain[i].at("AssumeRole").as_object();
      EXPECT_EQ(plan->roles[i - 1].role_arn, str(role.at("role_arn")));
      const auto* session = role.if_contains("role_session_name");
      EXPECT_EQ(plan->roles[i - 1].role_session_name.value_or(""), session ? str(*session) : "");
      const auto* external = role.if_contains("external_id");
      EXPECT_EQ(plan->roles[i - 1].external_id.value_or(""), external ? str(*external) : "");
    }
  }
  EXPECT_EQ(checked, 28u);
}

// --- ecs-tests.json ----------------------------------------------------------------------------------

TEST(EcsSuite, ContainerUris) {
  const json::value suite = load_json(kSuiteDir + "/ecs-tests.json");
  std::size_t checked = 0;
  for (const auto& t : suite.at("tests").as_array()) {
    SCOPED_TRACE(str(t.at("docs")));
    Environment env;
    for (const auto& [k, v] : t.at("env").as_object()) env[std::string(k)] = str(v);
    auto endpoint = container_endpoint(env);
    const json::object& result = t.at("result").as_object();
    if (const auto* ok = result.if_contains("Ok")) {
      ASSERT_TRUE(endpoint) << endpoint.error().message;
      EXPECT_EQ(endpoint->url, str(*ok));
    } else {
      ASSERT_FALSE(endpoint);
      EXPECT_EQ(endpoint.error().code, make_error_code(Errc::container_bad_endpoint));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 11u);
  // Plain http elsewhere is refused; https anywhere is fine.
  EXPECT_FALSE(container_endpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  EXPECT_FALSE(container_endpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds"}}));
  EXPECT_TRUE(container_endpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.2:9/x"}}));
  EXPECT_TRUE(container_endpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::1]/x"}}));
  auto ipv6 = container_endpoint({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[fd00:ec2::23]:8080/v1?a=b"}});
  ASSERT_TRUE(ipv6);
  EXPECT_EQ(ipv6->host, "fd00:ec2::23");
  EXPECT_EQ(ipv6->host_header, "[fd00:ec2::23]:8080");
  EXPECT_EQ(ipv6->port, 8080);
  EXPECT_EQ(ipv6->path, "/v1");
  EXPECT_EQ(ipv6->query, "a=b");
}

// --- imds-endpoint-tests.json ------------------------------------------------------------------------

TEST(ImdsSuite, Endpoints) {
  const json::value suite = load_json(kSuiteDir + "/imds-config/imds-endpoint-tests.json");
  std::size_t checked = 0;
  for (const auto& t : suite.at("tests").as_array()) {
    SCOPED_TRACE(str(t.at("docs")));
    Environment env;
    for (const auto& [k, v] : t.at("env").as_object()) env[std::string(k)] = str(v);
    std::optional<Properties> profile;
    if (const auto* config_name = env.contains("AWS_CONFIG_FILE") ? &env["AWS_CONFIG_FILE"] : nullptr) {
      const json::object& fs_files = t.at("fs").as_object();
      if (const auto* text = fs_files.if_contains(*config_name)) {
        const SharedConfig cfg = test::shared_config(str(*text));
        if (cfg.profiles.profiles.contains("default")) profile = cfg.profiles.profiles.at("default");
      }
    }
    const json::object& o = t.as_object();
    const std::string endpoint_override = o.contains("endpoint_override") ? str(o.at("endpoint_override")) : "";
    const std::string mode_override = o.contains("mode_override") ? str(o.at("mode_override")) : "";
    auto config = imds_config(env, profile ? &*profile : nullptr, endpoint_override, mode_override);
    const json::object& result = t.at("result").as_object();
    if (const auto* ok = result.if_contains("Ok")) {
      ASSERT_TRUE(config) << config.error().message;
      EXPECT_EQ(config->base_url + "latest/api/token", str(*ok));
    } else {
      ASSERT_FALSE(config);
      EXPECT_EQ(config.error().code, make_error_code(Errc::imds_bad_endpoint));
      const std::string err = str(result.at("Err"));
      if (err.find("endpoint mode") != std::string::npos) {
        EXPECT_NE(config.error().message.find(err), std::string::npos) << config.error().message;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 14u);
}

}  // namespace
}  // namespace ssmc::aws
