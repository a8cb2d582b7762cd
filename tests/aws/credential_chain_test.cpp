// The credential chain step machine (src/aws/credential_chain.hpp), driven
// by a scripted world: every provider, the AssumeRole/web identity/SSO
// flows with caches, retries and MFA, the errors and the no-secrets rule.
#include "aws/credential_chain.hpp"

#include <gtest/gtest.h>

#include "aws/credential_test_support.hpp"
#include "aws/errors.hpp"
#include "aws/sts_codec.hpp"

namespace ssmc::aws {
namespace {

using test::at;
using test::form_fields;
using test::header;
using test::HttpReply;
using test::ProcessReply;
using test::World;
using namespace std::chrono_literals;

const auto kNow = at("2025-06-01T12:00:00Z");
constexpr const char* kHome = "/home/u";
constexpr const char* kConfig = "/home/u/.aws/config";
constexpr const char* kCredentials = "/home/u/.aws/credentials";

// One resolver's inputs over an in-memory file system.
struct Scenario {
  test::MapFiles files;
  ResolverInput in;
  explicit Scenario(std::string config = "", std::string credentials = "", Environment env = {{"HOME", kHome}}) {
    in.env = std::move(env);
    in.files = &files;
    in.now = kNow;
    if (!config.empty()) files.files[kConfig] = std::move(config);
    if (!credentials.empty()) files.files[kCredentials] = std::move(credentials);
  }
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;
  ResolverAction run(World& world) {
    CredentialResolver r(in);
    return world.run(r);
  }
};

Done expect_done(const ResolverAction& a) {
  if (const auto* d = std::get_if<Done>(&a)) return *d;
  if (const auto* f = std::get_if<Failed>(&a)) ADD_FAILURE() << "failed: " << f->message;
  return {};
}

Failed expect_failed(const ResolverAction& a, Errc code) {
  if (const auto* f = std::get_if<Failed>(&a)) {
    EXPECT_EQ(f->code, make_error_code(code)) << f->message;
    return *f;
  }
  ADD_FAILURE() << "expected failure " << make_error_code(code).message() << " but got credentials";
  return {};
}

std::string sts_xml(std::string_view action, std::string_view id, std::string_view secret, std::string_view token,
                    std::string_view expiration = "2030-01-01T00:00:00Z",
                    std::string_view arn = "arn:aws:sts::111122223333:assumed-role/role/session") {
  return "<" + std::string(action) + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" +
         std::string(action) + "Result><AssumedRoleUser><AssumedRoleId>AROAX:s</AssumedRoleId><Arn>" +
         std::string(arn) + "</Arn></AssumedRoleUser><Credentials><AccessKeyId>" + std::string(id) +
         "</AccessKeyId><SecretAccessKey>" + std::string(secret) + "</SecretAccessKey><SessionToken>" +
         std::string(token) + "</SessionToken><Expiration>" + std::string(expiration) +
         "</Expiration></Credentials></" + std::string(action) + "Result></" + std::string(action) + "Response>";
}

HttpReply sts_ok(std::string_view id = "ASIAROLE", std::string_view secret = "ROLESECRETKEY",
                 std::string_view token = "ROLESESSIONTOKEN") {
  return {200, {{"x-amzn-RequestId", "req-1"}}, sts_xml("AssumeRole", id, secret, token), {}};
}

HttpReply sts_error(int status, std::string_view code, std::string_view message) {
  return {status,
          {{"x-amzn-RequestId", "req-err"}},
          "<ErrorResponse><Error><Type>Sender</Type><Code>" + std::string(code) + "</Code><Message>" +
              std::string(message) + "</Message></Error><RequestId>req-err</RequestId></ErrorResponse>",
          {}};
}

const char* kBaseKeys = "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = BASESECRETKEY\n";

// --- environment and files -------------------------------------------------------------

TEST(Chain, EnvironmentProvider) {
  Scenario s("", "",
             {{"HOME", kHome},
              {"AWS_ACCESS_KEY_ID", "AKIAENV"},
              {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
              {"AWS_SESSION_TOKEN", "SESSION"},
              {"AWS_SECURITY_TOKEN", "LEGACYTOKEN"},
              {"AWS_CREDENTIAL_EXPIRATION", "2025-06-01T13:00:00Z"},
              {"AWS_ACCOUNT_ID", "123456789012"}});
  World w;
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "AKIAENV");
  EXPECT_EQ(d.credentials.secret_access_key, "ENVSECRET");
  EXPECT_EQ(d.credentials.session_token, "LEGACYTOKEN");  // botocore checks AWS_SECURITY_TOKEN first
  EXPECT_EQ(d.credentials.expiration, at("2025-06-01T13:00:00Z"));
  EXPECT_EQ(d.account_id, "123456789012");
  EXPECT_EQ(d.method, "env");
  EXPECT_TRUE(w.requests.empty());
}

TEST(Chain, EnvironmentIsSkippedOnlyForAnExplicitProfile) {
  const Environment env = {{"HOME", kHome}, {"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"}};
  {
    Scenario s("", "[dev]\naws_access_key_id = AKIAFILE\naws_secret_access_key = FILESECRET\n", env);
    s.in.cli_profile = "dev";
    World w;
    EXPECT_EQ(expect_done(s.run(w)).credentials.access_key_id, "AKIAFILE");
  }
  {
    auto with_profile = env;
    with_profile["AWS_PROFILE"] = "dev";
    Scenario s("", "[dev]\naws_access_key_id = AKIAFILE\naws_secret_access_key = FILESECRET\n", with_profile);
    World w;
    EXPECT_EQ(expect_done(s.run(w)).credentials.access_key_id, "AKIAENV");
  }
}

TEST(Chain, EnvironmentKeyWithoutSecretIsAnError) {
  Scenario s("", "", {{"HOME", kHome}, {"AWS_ACCESS_KEY_ID", "AKIAENV"}});
  World w;
  const Failed f = expect_failed(s.run(w), Errc::credential_config_incomplete);
  EXPECT_NE(f.message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(Chain, ProviderOrderOfOneProfile) {
  const std::string config =
      "[profile p]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = CONFIGSECRET\n"
      "credential_process = /bin/get-creds --for p\naws_account_id = 999988887777\n";
  {  // credentials file beats credential_process and config keys
    Scenario s(config,
               "[p]\naws_access_key_id = AKIACRED\naws_secret_access_key = CREDSECRET\naws_session_token = T\n");
    s.in.cli_profile = "p";
    World w;
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "AKIACRED");
    EXPECT_EQ(d.credentials.session_token, "T");
    EXPECT_EQ(d.method, "shared-credentials-file");
    EXPECT_TRUE(w.processes.empty());
  }
  {  // credential_process beats config keys
    Scenario s(config);
    s.in.cli_profile = "p";
    World w;
    w.process = [](const RunProcessAction&) {
      return ProcessReply{0, R"({"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "PROCSECRET"})", "", {}};
    };
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "AKIAPROC");
    EXPECT_EQ(d.account_id, "999988887777");  // aws_account_id fallback
    EXPECT_EQ(d.method, "custom-process");
    ASSERT_EQ(w.processes.size(), 1u);
    EXPECT_EQ(w.processes[0].argv, (std::vector<std::string>{"/bin/get-creds", "--for", "p"}));
    EXPECT_EQ(w.processes[0].command, "/bin/get-creds --for p");
    EXPECT_EQ(w.processes[0].profile, "p");
  }
  {  // config keys last
    Scenario s("[profile p]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = CONFIGSECRET\n");
    s.in.cli_profile = "p";
    World w;
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "AKIACONFIG");
    EXPECT_EQ(d.method, "config-file");
    EXPECT_NE(d.source.find(kConfig), std::string::npos);
  }
}

TEST(Chain, KeysSplitAcrossFilesAreIncomplete) {
  Scenario s("[profile split]\naws_secret_access_key = SECRETINCONFIG\n", "[split]\naws_access_key_id = AKIASPLIT\n");
  s.in.cli_profile = "split";
  World w;
  const Failed f = expect_failed(s.run(w), Errc::credential_config_incomplete);
  EXPECT_NE(f.message.find("aws_secret_access_key"), std::string::npos);
  EXPECT_NE(f.message.find(kCredentials), std::string::npos);
  EXPECT_EQ(f.message.find("SECRETINCONFIG"), std::string::npos);
}

TEST(Chain, ProfileMustExistWhenNamed) {
  for (const auto& [how, env] : std::vector<std::pair<std::string, Environment>>{
           {"--profile", {{"HOME", kHome}}},
           {"AWS_PROFILE", {{"HOME", kHome}, {"AWS_PROFILE", "nope"}}},
           {"AWS_DEFAULT_PROFILE", {{"HOME", kHome}, {"AWS_DEFAULT_PROFILE", "nope"}}}}) {
    Scenario s("[default]\nregion = us-east-1\n", "", env);
    if (how == "--profile") s.in.cli_profile = "nope";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::profile_not_found);
    EXPECT_NE(f.message.find("'nope'"), std::string::npos);
    EXPECT_NE(f.message.find(how), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("[profile nope]"), std::string::npos);
  }
  // Even with environment credentials (the CLI checks the profile first).
  Scenario s("", "",
             {{"HOME", kHome}, {"AWS_PROFILE", "nope"}, {"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}});
  World w;
  expect_failed(s.run(w), Errc::profile_not_found);
}

TEST(Chain, NoCredentialsAnywhere) {
  Scenario s("[default]\nregion = us-east-1\n", "", {{"HOME", kHome}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  World w;
  const Failed f = expect_failed(s.run(w), Errc::no_credentials);
  EXPECT_NE(f.message.find("aws configure"), std::string::npos);
  EXPECT_TRUE(w.requests.empty());
}

TEST(Chain, ConfigFileErrorsAreReportedWithThePath) {
  Scenario s("[default]\nregion = us-east-1\n[default]\n");
  World w;
  const Failed f = expect_failed(s.run(w), Errc::config_duplicate_section);
  EXPECT_EQ(f.message.rfind(std::string(kConfig) + ": line 3: ", 0), 0u) << f.message;
  Scenario unreadable;
  unreadable.files.errors[kCredentials] = make_error_code(std::errc::permission_denied);
  World w2;
  expect_failed(unreadable.run(w2), Errc::credential_file_unreadable);
}

TEST(Chain, LegacyCredentialFiles) {
  Scenario s("", "", {{"HOME", kHome}, {"AWS_CREDENTIAL_FILE", "~/ec2-creds"}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  s.files.files["/home/u/ec2-creds"] = "AWSAccessKeyId = AKIAEC2\nAWSSecretKey=EC2SECRET\n";
  World w;
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "AKIAEC2");
  EXPECT_EQ(d.method, "ec2-credentials-file");

  Scenario boto("", "", {{"HOME", kHome}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  boto.files.files["/home/u/.boto"] =
      "[Credentials]\naws_access_key_id = AKIABOTO\naws_secret_access_key = BOTOSECRET\n";
  World w2;
  const Done b = expect_done(boto.run(w2));
  EXPECT_EQ(b.credentials.access_key_id, "AKIABOTO");
  EXPECT_EQ(b.method, "boto-config");
}

// --- credential_process ------------------------------------------------------------------

TEST(Chain, CredentialProcessFailures) {
  const std::string config = "[default]\ncredential_process = get-creds\n";
  {
    Scenario s(config);
    World w;
    w.process = [](const RunProcessAction&) {
      return ProcessReply{3, "{\"SecretAccessKey\": \"LEAKEDSECRET\"}", "\n  token expired for user bob\nmore\n", {}};
    };
    const Failed f = expect_failed(s.run(w), Errc::credential_process_failed);
    EXPECT_NE(f.message.find("status 3"), std::string::npos);
    EXPECT_NE(f.message.find("token expired for user bob"), std::string::npos);
    EXPECT_EQ(f.message.find("more"), std::string::npos);
  }
  {
    Scenario s(config);
    World w;  // no process callback: ENOENT
    const Failed f = expect_failed(s.run(w), Errc::credential_process_failed);
    EXPECT_NE(f.message.find("get-creds"), std::string::npos);
  }
  {
    Scenario s(config);
    World w;
    w.process = [](const RunProcessAction&) { return ProcessReply{0, "{\"Version\": 2}", "", {}}; };
    const Failed f = expect_failed(s.run(w), Errc::credential_process_bad_output);
    EXPECT_NE(f.message.find("'default'"), std::string::npos);
  }
  {
    Scenario s(config);
    World w;
    w.process = [](const RunProcessAction&) {
      return ProcessReply{
          0,
          R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "2025-06-01T11:00:00Z"})",
          "",
          {}};
    };
    expect_failed(s.run(w), Errc::credentials_expired);
  }
  for (std::string_view bad : {"credential_process = 'unclosed\n", "credential_process =\n"}) {
    Scenario s("[default]\n" + std::string(bad));
    World w;
    expect_failed(s.run(w), Errc::credential_process_bad_command);
  }
}

// --- assume role ---------------------------------------------------------------------------

TEST(Chain, AssumeRoleFromStaticSourceWritesAndReusesTheCliCache) {
  const std::string config =
      "[profile dev]\nrole_arn = arn:aws:iam::111122223333:role/dev\nsource_profile = base\nregion = eu-west-1\n";
  std::string cache_path, cache_contents;
  {
    Scenario s(config, kBaseKeys);
    s.in.cli_profile = "dev";
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "ASIAROLE");
    EXPECT_EQ(d.credentials.session_token, "ROLESESSIONTOKEN");
    EXPECT_EQ(d.credentials.expiration, at("2030-01-01T00:00:00Z"));
    EXPECT_EQ(d.account_id, "111122223333");
    EXPECT_EQ(d.method, "assume-role");
    EXPECT_EQ(d.source.rfind("assume-role via profile 'dev'", 0), 0u) << d.source;
    EXPECT_NE(d.source.find("profile 'base'"), std::string::npos) << d.source;
    ASSERT_EQ(w.requests.size(), 1u);
    const HttpAction& r = w.requests[0];
    EXPECT_EQ(r.host, "sts.eu-west-1.amazonaws.com");
    EXPECT_NE(header(r.headers, "Authorization").find("Credential=AKIABASE/20250601/eu-west-1/sts/aws4_request"),
              std::string::npos);
    const auto fields = form_fields(r.body);
    EXPECT_EQ(fields.at("RoleArn"), "arn:aws:iam::111122223333:role/dev");
    EXPECT_EQ(fields.at("RoleSessionName"), "botocore-session-" + std::to_string(test::to_unix(kNow)));
    EXPECT_FALSE(fields.contains("DurationSeconds"));
    ASSERT_EQ(w.writes.size(), 1u);
    cache_path = w.writes[0].path;
    cache_contents = w.writes[0].contents;
    // The key hashes only configured arguments (the generated session name is left out).
    EXPECT_EQ(cache_path, "/home/u/.aws/cli/cache/" +
                              assume_role_cache_key({"arn:aws:iam::111122223333:role/dev", {}, {}, {}, {}}) + ".json");
  }
  {
    Scenario s(config, kBaseKeys);
    s.in.cli_profile = "dev";
    s.files.files[cache_path] = cache_contents;
    World w;
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "ASIAROLE");
    EXPECT_EQ(d.account_id, "111122223333");
    EXPECT_TRUE(w.requests.empty());
    EXPECT_NE(d.source.find("(cached)"), std::string::npos);
  }
  {  // less than 15 minutes left: not reused
    Scenario s(config, kBaseKeys);
    s.in.cli_profile = "dev";
    s.in.now = at("2029-12-31T23:50:00Z");
    s.files.files[cache_path] = cache_contents;
    World w;
    w.http = [](const HttpAction&) { return sts_ok("ASIAFRESH"); };
    EXPECT_EQ(expect_done(s.run(w)).credentials.access_key_id, "ASIAFRESH");
    EXPECT_EQ(w.requests.size(), 1u);
  }
}

TEST(Chain, RoleChainSignsEachCallWithThePreviousCredentials) {
  Scenario s(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\nrole_session_name = sa\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = base\nduration_seconds = 1_200\n",
      kBaseKeys);
  s.in.cli_profile = "a";
  World w;
  w.http = [&](const HttpAction& r) {
    return form_fields(r.body).at("RoleArn") == "arn:aws:iam::1:role/b" ? sts_ok("ASIAB", "BSECRETKEY", "BTOKENVALUE")
                                                                        : sts_ok("ASIAA", "ASECRETKEY", "ATOKENVALUE");
  };
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "ASIAA");
  ASSERT_EQ(w.requests.size(), 2u);
  EXPECT_EQ(form_fields(w.requests[0].body).at("RoleArn"), "arn:aws:iam::1:role/b");
  EXPECT_EQ(form_fields(w.requests[0].body).at("DurationSeconds"), "1200");
  EXPECT_EQ(header(w.requests[0].headers, "X-Amz-Security-Token"), "");
  EXPECT_NE(header(w.requests[0].headers, "Authorization").find("Credential=AKIABASE/"), std::string::npos);
  EXPECT_EQ(form_fields(w.requests[1].body).at("RoleSessionName"), "sa");
  EXPECT_EQ(header(w.requests[1].headers, "X-Amz-Security-Token"), "BTOKENVALUE");
  EXPECT_NE(header(w.requests[1].headers, "Authorization").find("Credential=ASIAB/"), std::string::npos);
  EXPECT_EQ(w.requests[1].host, "sts.amazonaws.com");  // no region anywhere: the global endpoint
  EXPECT_NE(header(w.requests[1].headers, "Authorization").find("/us-east-1/sts/"), std::string::npos);
  ASSERT_NE(s.in.files, nullptr);
}

TEST(Chain, MfaIsAskedAndSentOrFailsWithoutATerminal) {
  const std::string config =
      "[profile m]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = base\n"
      "mfa_serial = arn:aws:iam::1:mfa/alice\nexternal_id = ext\nregion = us-east-1\n";
  {
    Scenario s(config, kBaseKeys);
    s.in.cli_profile = "m";
    World w;
    w.mfa = [](const PromptMfaAction&) { return std::optional<std::string>("123456"); };
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    ASSERT_EQ(w.prompts.size(), 1u);
    EXPECT_EQ(w.prompts[0].mfa_serial, "arn:aws:iam::1:mfa/alice");
    EXPECT_EQ(w.prompts[0].prompt, "Enter MFA code for arn:aws:iam::1:mfa/alice: ");
    const auto fields = form_fields(w.requests.at(0).body);
    EXPECT_EQ(fields.at("SerialNumber"), "arn:aws:iam::1:mfa/alice");
    EXPECT_EQ(fields.at("TokenCode"), "123456");
    EXPECT_EQ(fields.at("ExternalId"), "ext");
  }
  {
    Scenario s(config, kBaseKeys);
    s.in.cli_profile = "m";
    World w;  // no terminal
    const Failed f = expect_failed(s.run(w), Errc::mfa_unavailable);
    EXPECT_NE(f.message.find("arn:aws:iam::1:mfa/alice"), std::string::npos);
    EXPECT_TRUE(w.requests.empty());
  }
}

TEST(Chain, StsErrorsRetriesAndUnreachable) {
  const std::string config = "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nregion = us-east-1\n";
  {
    Scenario s(config, kBaseKeys);
    World w;
    w.http = [](const HttpAction&) {
      return sts_error(403, "AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole");
    };
    const Failed f = expect_failed(s.run(w), Errc::sts_error);
    EXPECT_NE(f.message.find("AccessDenied: User: arn:aws:iam::1:user/x is not authorized"), std::string::npos);
    EXPECT_NE(f.message.find("request id req-err"), std::string::npos);
    EXPECT_NE(f.message.find("arn:aws:iam::1:role/r"), std::string::npos);
    EXPECT_EQ(w.requests.size(), 1u);  // not retried
  }
  {
    Scenario s(config, kBaseKeys);
    World w;
    int calls = 0;
    w.http = [&](const HttpAction&) { return ++calls == 1 ? sts_error(400, "Throttling", "Rate exceeded") : sts_ok(); };
    expect_done(s.run(w));
    ASSERT_EQ(w.requests.size(), 2u);
    EXPECT_EQ(w.requests[0].delay, 0ms);
    EXPECT_GT(w.requests[1].delay, 0ms);
    EXPECT_EQ(w.requests[1].body, w.requests[0].body);
  }
  {
    Scenario s(config, kBaseKeys);
    World w;
    w.http = [](const HttpAction&) { return HttpReply{503, {}, "", {}}; };
    const Failed f = expect_failed(s.run(w), Errc::sts_error);
    EXPECT_EQ(w.requests.size(), 3u);
    EXPECT_NE(f.message.find("HTTP 503"), std::string::npos);
  }
  {
    Scenario s(config, kBaseKeys, {{"HOME", kHome}, {"AWS_MAX_ATTEMPTS", "1"}});
    World w;  // connection refused
    const Failed f = expect_failed(s.run(w), Errc::credential_service_unreachable);
    EXPECT_EQ(w.requests.size(), 1u);
    EXPECT_NE(f.message.find("https://sts.us-east-1.amazonaws.com/"), std::string::npos);
  }
  {
    Scenario s(config, kBaseKeys);
    World w;
    w.http = [](const HttpAction&) { return HttpReply{200, {}, "<html>proxy login</html>", {}}; };
    expect_failed(s.run(w), Errc::bad_credential_response);
  }
}

TEST(Chain, ConfiguredStsEndpointAndFips) {
  const std::string config = "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nregion = us-west-2\n";
  {
    Scenario s(config, kBaseKeys, {{"HOME", kHome}, {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"}});
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    ASSERT_EQ(w.requests.size(), 1u);
    EXPECT_EQ(w.requests[0].url(), "http://127.0.0.1:5000/");
    EXPECT_EQ(header(w.requests[0].headers, "Host"), "127.0.0.1:5000");
    EXPECT_NE(header(w.requests[0].headers, "Authorization").find("/us-west-2/sts/"), std::string::npos);
  }
  {
    Scenario s(config + "use_fips_endpoint = true\n", kBaseKeys);
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    EXPECT_EQ(w.requests.at(0).host, "sts-fips.us-west-2.amazonaws.com");
  }
  {  // --region picks the STS region
    Scenario s(config, kBaseKeys);
    s.in.cli_region = "ap-south-1";
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    EXPECT_EQ(w.requests.at(0).host, "sts.ap-south-1.amazonaws.com");
  }
}

TEST(Chain, RoleConfigurationErrors) {
  struct Case {
    std::string config;
    Errc code;
    std::string says;
  };
  const Case cases[] = {
      {"[profile a]\nrole_arn = r\n", Errc::credential_config_incomplete,
       "neither source_profile nor credential_source"},
      {"[profile a]\nrole_arn = r\nsource_profile = b\ncredential_source = Environment\n",
       Errc::credential_config_conflict, "both source_profile and credential_source"},
      {"[profile a]\nrole_arn = r\ncredential_source = environment\n", Errc::credential_config_invalid_value,
       "'environment' is not valid"},
      {"[profile a]\nrole_arn = r\nsource_profile = base\n", Errc::source_profile_not_found,
       "source_profile 'base' does not exist"},
      {"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r2\nsource_profile = a\n",
       Errc::profile_loop, "a -> b -> a"},
      {"[profile a]\nrole_arn = r\nsource_profile = a\n", Errc::profile_loop, "names itself"},
      {"[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nregion = x\n",
       Errc::source_profile_without_credentials, "source_profile 'b' has no credentials"},
      {"[profile a]\nrole_arn = r\ncredential_source = Environment\n", Errc::credential_source_empty,
       "AWS_ACCESS_KEY_ID is not set"},
      {"[profile a]\nrole_arn = r\ncredential_source = EcsContainer\n", Errc::credential_source_empty,
       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"},
  };
  for (const auto& c : cases) {
    Scenario s(c.config);
    s.in.cli_profile = "a";
    World w;
    const Failed f = expect_failed(s.run(w), c.code);
    EXPECT_NE(f.message.find(c.says), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("'a'"), std::string::npos) << f.message;
  }
}

TEST(Chain, SelfReferenceWithStaticKeysAndCredentialSources) {
  {
    Scenario s(
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = a\n"
        "aws_access_key_id = AKIASELF\naws_secret_access_key = SELFSECRET\n");
    s.in.cli_profile = "a";
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    EXPECT_NE(header(w.requests.at(0).headers, "Authorization").find("Credential=AKIASELF/"), std::string::npos);
  }
  {  // credential_source Environment reads the environment even with --profile
    Scenario s("[profile a]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Environment\n", "",
               {{"HOME", kHome}, {"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"}});
    s.in.cli_profile = "a";
    World w;
    w.http = [](const HttpAction&) { return sts_ok(); };
    expect_done(s.run(w));
    EXPECT_NE(header(w.requests.at(0).headers, "Authorization").find("Credential=AKIAENV/"), std::string::npos);
  }
  {  // credential_source Ec2InstanceMetadata that finds nothing
    Scenario s("[profile a]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Ec2InstanceMetadata\n");
    s.in.cli_profile = "a";
    World w;  // IMDS unreachable
    const Failed f = expect_failed(s.run(w), Errc::credential_source_empty);
    EXPECT_NE(f.message.find("credential_source Ec2InstanceMetadata of profile 'a'"), std::string::npos);
  }
}

// --- web identity ----------------------------------------------------------------------------

TEST(Chain, WebIdentityFromEnvironmentIsUnsignedAndCached) {
  Scenario s("", "",
             {{"HOME", kHome},
              {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
              {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/test-role"},
              {"AWS_ROLE_SESSION_NAME", "test-session"},
              {"AWS_REGION", "eu-west-1"}});
  s.files.files["/var/run/token"] = "eyJWEBIDENTITYTOKEN";
  World w;
  w.http = [](const HttpAction&) {
    return HttpReply{200,
                     {},
                     sts_xml("AssumeRoleWithWebIdentity", "AKIDTEST", "SECRETKEYTEST", "SESSIONTOKEN_TEST",
                             "2030-01-01T00:00:00Z", "arn:aws:sts::123456789012:assumed-role/test-role/s"),
                     {}};
  };
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "AKIDTEST");
  EXPECT_EQ(d.account_id, "123456789012");
  EXPECT_EQ(d.method, "assume-role-with-web-identity");
  ASSERT_EQ(w.requests.size(), 1u);
  EXPECT_EQ(w.requests[0].host, "sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(header(w.requests[0].headers, "Authorization"), "");
  const auto fields = form_fields(w.requests[0].body);
  EXPECT_EQ(fields.at("Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(fields.at("WebIdentityToken"), "eyJWEBIDENTITYTOKEN");
  EXPECT_EQ(fields.at("RoleSessionName"), "test-session");
  ASSERT_EQ(w.writes.size(), 1u);
  EXPECT_EQ(w.writes[0].path,
            "/home/u/.aws/cli/cache/" +
                assume_role_cache_key({"arn:aws:iam::123456789012:role/test-role", "test-session", {}, {}, {}}) +
                ".json");
}

TEST(Chain, WebIdentityEnvironmentIsIgnoredWithExplicitProfileAndMissingTokenFileFails) {
  {
    Scenario s("[profile p]\nregion = us-east-1\n", "",
               {{"HOME", kHome},
                {"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"},
                {"AWS_ROLE_ARN", "arn:aws:iam::1:role/x"},
                {"AWS_EC2_METADATA_DISABLED", "true"}});
    s.in.cli_profile = "p";
    World w;
    expect_failed(s.run(w), Errc::no_credentials);
  }
  {
    Scenario s("[profile p]\nweb_identity_token_file = /missing\nrole_arn = arn:aws:iam::1:role/x\n");
    s.in.cli_profile = "p";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::credential_file_unreadable);
    EXPECT_NE(f.message.find("/missing"), std::string::npos);
  }
}

// --- SSO -------------------------------------------------------------------------------------

const char* kSsoSessionConfig =
    "[profile s]\nsso_session = corp\nsso_account_id = 012345678901\nsso_role_name = Admin\nregion = us-east-1\n"
    "[sso-session corp]\nsso_start_url = https://d-abc123.awsapps.com/start\nsso_region = eu-central-1\n";

std::string sso_token_path(std::string_view name) { return "/home/u/.aws/sso/cache/" + sha1_hex(name) + ".json"; }

HttpReply role_credentials(std::string_view id = "ASIASSO") {
  return {200,
          {},
          R"({"roleCredentials":{"accessKeyId":")" + std::string(id) +
              R"(","secretAccessKey":"SSOSECRETKEY","sessionToken":"SSOSESSIONTOKEN","expiration":1900000000000}})",
          {}};
}

TEST(Chain, SsoSessionProfile) {
  Scenario s(kSsoSessionConfig);
  s.in.cli_profile = "s";
  s.files.files[sso_token_path("corp")] = R"({"accessToken": "SSOACCESSTOKEN", "expiresAt": "2025-06-01T20:00:00Z"})";
  World w;
  w.http = [](const HttpAction&) { return role_credentials(); };
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "ASIASSO");
  EXPECT_EQ(d.account_id, "012345678901");
  EXPECT_EQ(d.method, "sso");
  ASSERT_EQ(w.requests.size(), 1u);
  const HttpAction& r = w.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(
      r.url(),
      "https://portal.sso.eu-central-1.amazonaws.com/federation/credentials?role_name=Admin&account_id=012345678901");
  EXPECT_EQ(header(r.headers, "x-amz-sso_bearer_token"), "SSOACCESSTOKEN");
  EXPECT_EQ(header(r.headers, "Authorization"), "");
  ASSERT_EQ(w.writes.size(), 1u);
  EXPECT_EQ(w.writes[0].path,
            "/home/u/.aws/cli/cache/" + sso_credentials_cache_key("012345678901", "Admin", "corp", "") + ".json");
  EXPECT_NE(w.writes[0].contents.find(R"("ProviderType":"sso")"), std::string::npos);
}

TEST(Chain, SsoTokenRefreshAndExpiry) {
  const std::string refreshable =
      R"({"accessToken": "OLDACCESSTOKEN", "expiresAt": "2025-06-01T12:05:00Z", "refreshToken": "REFRESHTOKEN",
          "clientId": "client-1", "clientSecret": "CLIENTSECRETVALUE", "registrationExpiresAt": "2026-01-01T00:00:00Z",
          "region": "eu-central-1", "startUrl": "https://d-abc123.awsapps.com/start"})";
  {
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] = refreshable;
    World w;
    w.http = [](const HttpAction& r) {
      if (r.purpose == "sso-oidc:CreateToken")
        return HttpReply{200, {}, R"({"accessToken":"NEWACCESSTOKEN","expiresIn":28800,"tokenType":"Bearer"})", {}};
      return role_credentials();
    };
    expect_done(s.run(w));
    ASSERT_EQ(w.requests.size(), 2u);
    EXPECT_EQ(w.requests[0].url(), "https://oidc.eu-central-1.amazonaws.com/token");
    EXPECT_EQ(w.requests[0].method, "POST");
    EXPECT_EQ(
        w.requests[0].body,
        R"({"clientId":"client-1","clientSecret":"CLIENTSECRETVALUE","grantType":"refresh_token","refreshToken":"REFRESHTOKEN"})");
    EXPECT_EQ(header(w.requests[1].headers, "x-amz-sso_bearer_token"), "NEWACCESSTOKEN");
    ASSERT_EQ(w.writes.size(), 2u);
    EXPECT_EQ(w.writes[0].path, sso_token_path("corp"));
    auto saved = parse_sso_token(w.writes[0].contents);
    ASSERT_TRUE(saved);
    EXPECT_EQ(saved->access_token, "NEWACCESSTOKEN");
    EXPECT_EQ(saved->expires_at, kNow + 8h);
    EXPECT_EQ(saved->client_secret, "CLIENTSECRETVALUE");
    EXPECT_FALSE(saved->refresh_token);  // the answer had none (botocore keeps only a returned one)
  }
  {  // refresh refused, token still valid: go on with it
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] = refreshable;
    World w;
    w.http = [](const HttpAction& r) {
      if (r.purpose == "sso-oidc:CreateToken") return HttpReply{400, {}, R"({"error":"invalid_grant"})", {}};
      return role_credentials();
    };
    expect_done(s.run(w));
    EXPECT_EQ(header(w.requests.at(1).headers, "x-amz-sso_bearer_token"), "OLDACCESSTOKEN");
    EXPECT_TRUE(w.writes.size() == 1u);
  }
  {  // expired and not refreshable
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] = R"({"accessToken": "OLDACCESSTOKEN", "expiresAt": "2025-06-01T11:00:00Z"})";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::sso_token_expired);
    EXPECT_NE(f.message.find("aws sso login --profile s"), std::string::npos);
    EXPECT_TRUE(w.requests.empty());
  }
  {  // the portal says the token is no good
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] = R"({"accessToken": "OLDACCESSTOKEN", "expiresAt": "2025-06-01T20:00:00Z"})";
    World w;
    w.http = [](const HttpAction&) {
      return HttpReply{401,
                       {{"x-amzn-ErrorType", "UnauthorizedException:http://internal.amazon.com/"}},
                       R"({"message":"Session token not found or invalid"})",
                       {}};
    };
    const Failed f = expect_failed(s.run(w), Errc::sso_token_expired);
    EXPECT_NE(f.message.find("Session token not found or invalid"), std::string::npos);
    EXPECT_NE(f.message.find("aws sso login"), std::string::npos);
  }
  {  // other portal errors
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] = R"({"accessToken": "OLDACCESSTOKEN", "expiresAt": "2025-06-01T20:00:00Z"})";
    World w;
    w.http = [](const HttpAction&) {
      return HttpReply{403, {{"x-amzn-ErrorType", "ForbiddenException"}}, R"({"message":"No access"})", {}};
    };
    const Failed f = expect_failed(s.run(w), Errc::sso_error);
    EXPECT_NE(f.message.find("ForbiddenException: No access"), std::string::npos);
  }
}

TEST(Chain, SsoConfigurationErrors) {
  {
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::sso_token_missing);
    EXPECT_NE(f.message.find(sso_token_path("corp")), std::string::npos);
    EXPECT_NE(f.message.find("aws sso login --profile s"), std::string::npos);
  }
  {
    Scenario s("[profile s]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n");
    s.in.cli_profile = "s";
    World w;
    expect_failed(s.run(w), Errc::sso_session_not_found);
  }
  {
    Scenario s(std::string(kSsoSessionConfig) +
               "[profile t]\nsso_session = corp\nsso_region = us-west-2\n"
               "sso_account_id = 1\nsso_role_name = r\n");
    s.in.cli_profile = "t";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::credential_config_conflict);
    EXPECT_NE(f.message.find("sso_region"), std::string::npos);
  }
  {
    Scenario s("[profile s]\nsso_account_id = 1\nsso_start_url = https://x\n");
    s.in.cli_profile = "s";
    World w;
    const Failed f = expect_failed(s.run(w), Errc::credential_config_incomplete);
    EXPECT_NE(f.message.find("sso_role_name, sso_region"), std::string::npos);
  }
}

TEST(Chain, SsoAsSourceProfileOfARole) {
  Scenario s(std::string(kSsoSessionConfig) +
             "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\nregion = us-east-1\n");
  s.in.cli_profile = "r";
  s.files.files[sso_token_path("corp")] = R"({"accessToken": "SSOACCESSTOKEN", "expiresAt": "2025-06-01T20:00:00Z"})";
  World w;
  w.http = [](const HttpAction& r) { return r.purpose == "sts:AssumeRole" ? sts_ok() : role_credentials(); };
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "ASIAROLE");
  ASSERT_EQ(w.requests.size(), 2u);
  EXPECT_EQ(header(w.requests[1].headers, "X-Amz-Security-Token"), "SSOSESSIONTOKEN");

  // Logging in is advised for the SSO profile, not the role profile.
  Scenario missing(std::string(kSsoSessionConfig) +
                   "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\n");
  missing.in.cli_profile = "r";
  World w2;
  const Failed f = expect_failed(missing.run(w2), Errc::sso_token_missing);
  EXPECT_NE(f.message.find("aws sso login --profile s'"), std::string::npos) << f.message;
}

// --- container and IMDS ------------------------------------------------------------------------

TEST(Chain, ContainerEndpointWithAuthorizationAndRetries) {
  Scenario s("", "",
             {{"HOME", kHome},
              {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/eks-token"}});
  s.files.files["/var/run/eks-token"] = "EKSPODTOKEN";
  World w;
  int calls = 0;
  w.http = [&](const HttpAction&) {
    if (++calls < 3) return HttpReply{500, {}, "oops", {}};
    return HttpReply{
        200,
        {},
        R"({"AccessKeyId":"ASIAECS","SecretAccessKey":"ECSSECRET","Token":"ECSTOKEN","Expiration":"2025-06-01T18:00:00Z","AccountId":"012345678901"})",
        {}};
  };
  const Done d = expect_done(s.run(w));
  EXPECT_EQ(d.credentials.access_key_id, "ASIAECS");
  EXPECT_EQ(d.account_id, "012345678901");
  EXPECT_EQ(d.method, "container-role");
  ASSERT_EQ(w.requests.size(), 3u);
  EXPECT_EQ(w.requests[0].url(), "http://169.254.170.23/v1/credentials");
  EXPECT_EQ(header(w.requests[0].headers, "Authorization"), "EKSPODTOKEN");
  EXPECT_EQ(header(w.requests[0].headers, "Accept"), "application/json");
  EXPECT_EQ(w.requests[0].timeout, kContainerTimeout);
  EXPECT_EQ(w.requests[1].delay, kContainerRetryPause);

  Scenario down("", "", {{"HOME", kHome}, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}});
  World w2;
  const Failed f = expect_failed(down.run(w2), Errc::container_error);
  EXPECT_EQ(w2.requests.size(), 3u);
  EXPECT_NE(f.message.find("http://169.254.170.2/v2/credentials/x"), std::string::npos);
}

const std::string kImdsCredentials =
    R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"IMDSSECRET","Token":"IMDSTOKEN","Expiration":"2025-06-01T18:00:00Z"})";

TEST(Chain, ImdsRoleNameIsSafeInThePath) {
  Scenario s;
  World w;
  w.http = [](const HttpAction& r) {
    if (r.method == "PUT") return HttpReply{200, {}, "T0KEN", {}};
    if (r.path.ends_with("/security-credentials/")) return HttpReply{200, {}, "role+x=1,a@b.c_d-e?#% \nsecond", {}};
    return HttpReply{200, {}, kImdsCredentials, {}};
  };
  expect_done(s.run(w));
  ASSERT_EQ(w.requests.size(), 3u);
  EXPECT_EQ(w.requests[2].path, "/latest/meta-data/iam/security-credentials/role+x=1,a@b.c_d-e%3F%23%25%20");
}

TEST(Chain, ImdsV2AndV1Fallback) {
  {
    Scenario s;
    World w;
    w.http = [](const HttpAction& r) {
      if (r.method == "PUT") return HttpReply{200, {}, "IMDSV2SESSIONTOKEN", {}};
      if (r.path.ends_with("/security-credentials/")) return HttpReply{200, {}, "my-role", {}};
      return HttpReply{200, {}, kImdsCredentials, {}};
    };
    const Done d = expect_done(s.run(w));
    EXPECT_EQ(d.credentials.access_key_id, "ASIAIMDS");
    EXPECT_EQ(d.method, "iam-role");
    ASSERT_EQ(w.requests.size(), 3u);
    EXPECT_EQ(w.requests[0].url(), "http://169.254.169.254/latest/api/token");
    EXPECT_EQ(header(w.requests[0].headers, "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    EXPECT_EQ(w.requests[0].timeout, kImdsDefaultTimeout);
    EXPECT_EQ(w.requests[2].url(), "http://169.254.169.254/latest/meta-data/iam/security-credentials/my-role");
    EXPECT_EQ(header(w.requests[2].headers, "x-aws-ec2-metadata-token"), "IMDSV2SESSIONTOKEN");
  }
  for (const HttpReply& token_reply :
       {HttpReply{403, {}, "", {}}, HttpReply{0, {}, "", make_error_code(std::errc::timed_out)}}) {
    Scenario s("", "", {{"HOME", kHome}, {"AWS_METADATA_SERVICE_NUM_ATTEMPTS", "3"}});
    World w;
    w.http = [&](const HttpAction& r) {
      if (r.method == "PUT") return token_reply;
      if (r.path.ends_with("/security-credentials/")) return HttpReply{200, {}, "my-role", {}};
      return HttpReply{200, {}, kImdsCredentials, {}};
    };
    expect_done(s.run(w));
    ASSERT_EQ(w.requests.size(), 3u);  // no retry of a 403 or a timeout: straight to IMDSv1
    EXPECT_EQ(header(w.requests[1].headers, "x-aws-ec2-metadata-token"), "");
  }
  {
    Scenario s("", "", {{"HOME", kHome}, {"AWS_EC2_METADATA_V1_DISABLED", "true"}});
    World w;
    w.http = [](const HttpAction&) { return HttpReply{403, {}, "", {}}; };
    expect_failed(s.run(w), Errc::imds_error);
  }
  {
    Scenario s("[default]\nec2_metadata_service_endpoint_mode = IPv6\nmetadata_service_timeout = 5\n");
    World w;
    w.http = [](const HttpAction&) { return HttpReply{404, {}, "", {}}; };
    const Failed f = expect_failed(s.run(w), Errc::no_credentials);
    EXPECT_EQ(w.requests.at(0).host, "fd00:ec2::254");
    EXPECT_EQ(w.requests.at(0).url(), "http://[fd00:ec2::254]/latest/api/token");
    EXPECT_EQ(header(w.requests.at(0).headers, "Host"), "[fd00:ec2::254]");
    EXPECT_EQ(w.requests.at(0).timeout, 5s);
    EXPECT_NE(f.message.find("HTTP 404"), std::string::npos);
  }
  {  // invalid IMDS settings fail first, even with environment credentials (the CLI builds IMDS eagerly)
    Scenario s("", "",
               {{"HOME", kHome},
                {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv7"},
                {"AWS_ACCESS_KEY_ID", "A"},
                {"AWS_SECRET_ACCESS_KEY", "S"}});
    World w;
    const Failed f = expect_failed(s.run(w), Errc::imds_bad_endpoint);
    EXPECT_NE(f.message.find("`IPv7` is not a valid endpoint mode"), std::string::npos);
  }
}

// --- secrets never appear in messages ------------------------------------------------------------

TEST(Chain, NoSecretInAnyFailureMessage) {
  const std::vector<std::string> secrets = {"BASESECRETKEY",         "ROLESESSIONTOKEN",   "SSOACCESSTOKEN",
                                            "WEBIDENTITYTOKENVALUE", "CONTAINERAUTHTOKEN", "PROCESSSECRETVALUE",
                                            "IMDSV2SESSIONTOKEN",    "CLIENTSECRETVALUE",  "REFRESHTOKENVALUE"};
  auto check = [&](const Failed& f) {
    for (const auto& secret : secrets) EXPECT_EQ(f.message.find(secret), std::string::npos) << f.message;
    EXPECT_FALSE(f.message.empty());
    EXPECT_EQ(f.message.find_first_of("\r\n"), std::string::npos) << "not one line: " << f.message;
  };
  // STS echoes the session token and the secret in its message.
  {
    Scenario s("[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n",
               "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = BASESECRETKEY\n"
               "aws_session_token = ROLESESSIONTOKEN\n");
    World w;
    w.http = [](const HttpAction&) {
      return sts_error(400, "InvalidClientTokenId", "token ROLESESSIONTOKEN\nwith key BASESECRETKEY is invalid");
    };
    check(expect_failed(s.run(w), Errc::sts_error));
  }
  // credential_process prints its secret on stderr and fails.
  {
    Scenario s("[default]\ncredential_process = p\n");
    World w;
    w.process = [](const RunProcessAction&) {
      return ProcessReply{1,
                          R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"PROCESSSECRETVALUE"})",
                          R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"PROCESSSECRETVALUE"})",
                          {}};
    };
    check(expect_failed(s.run(w), Errc::credential_process_failed));
  }
  // Web identity: STS echoes the token.
  {
    Scenario s("[default]\nweb_identity_token_file = /t\nrole_arn = arn:aws:iam::1:role/r\n");
    s.files.files["/t"] = "WEBIDENTITYTOKENVALUE";
    World w;
    w.http = [](const HttpAction&) {
      return sts_error(400, "InvalidIdentityToken", "cannot validate WEBIDENTITYTOKENVALUE");
    };
    check(expect_failed(s.run(w), Errc::sts_error));
  }
  // SSO portal echoes the bearer token; OIDC echoes the client secret.
  {
    Scenario s(kSsoSessionConfig);
    s.in.cli_profile = "s";
    s.files.files[sso_token_path("corp")] =
        R"({"accessToken": "SSOACCESSTOKEN", "expiresAt": "2025-06-01T12:01:00Z", "refreshToken": "REFRESHTOKENVALUE",
            "clientId": "c", "clientSecret": "CLIENTSECRETVALUE", "registrationExpiresAt": "2026-01-01T00:00:00Z"})";
    World w;
    w.http = [](const HttpAction& r) {
      if (r.purpose == "sso-oidc:CreateToken")
        return HttpReply{400, {}, R"({"error":"bad CLIENTSECRETVALUE REFRESHTOKENVALUE"})", {}};
      return HttpReply{
          500, {{"x-amzn-ErrorType", "InternalError"}}, R"({"message":"bad SSOACCESSTOKEN / CLIENTSECRETVALUE"})", {}};
    };
    check(expect_failed(s.run(w), Errc::sso_error));
  }
  // Container answers an error that echoes the authorization token.
  {
    Scenario s("", "",
               {{"HOME", kHome},
                {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINERAUTHTOKEN"}});
    World w;
    w.http = [](const HttpAction&) { return HttpReply{200, {}, R"({"AccessKeyId":"CONTAINERAUTHTOKEN"})", {}}; };
    check(expect_failed(s.run(w), Errc::bad_credential_response));
  }
  // IMDS credentials expired: the message names the time, not the keys.
  {
    Scenario s;
    World w;
    w.http = [](const HttpAction& r) {
      if (r.method == "PUT") return HttpReply{200, {}, "IMDSV2SESSIONTOKEN", {}};
      if (r.path.ends_with("/security-credentials/")) return HttpReply{200, {}, "role", {}};
      return HttpReply{
          200,
          {},
          R"({"AccessKeyId":"A","SecretAccessKey":"BASESECRETKEY","Token":"ROLESESSIONTOKEN","Expiration":"2020-01-01T00:00:00Z"})",
          {}};
    };
    check(expect_failed(s.run(w), Errc::credentials_expired));
  }
}

// --- stepping contract, region, refresh ------------------------------------------------------------

TEST(Resolver, RepeatsThePendingActionAndTheFinalOne) {
  Scenario s("[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nregion = us-east-1\n", kBaseKeys);
  CredentialResolver r(s.in);
  EXPECT_EQ(r.plan(), nullptr);
  auto first = r.next_action();
  ASSERT_TRUE(std::holds_alternative<HttpAction>(first));
  ASSERT_NE(r.plan(), nullptr);
  EXPECT_EQ(r.plan()->roles.size(), 1u);
  auto again = r.next_action();
  ASSERT_TRUE(std::holds_alternative<HttpAction>(again));
  EXPECT_EQ(std::get<HttpAction>(again).headers, std::get<HttpAction>(first).headers);
  r.on_process_result(0, "", "");  // not the pending kind: ignored
  const auto reply = sts_ok();
  r.on_http_response(reply.status, reply.headers, reply.body);
  auto write = r.next_action();
  EXPECT_TRUE(std::holds_alternative<WriteCacheAction>(write));
  auto done = r.next_action();
  ASSERT_TRUE(std::holds_alternative<Done>(done));
  EXPECT_TRUE(std::holds_alternative<Done>(r.next_action()));
}

TEST(Resolver, SetTimeMovesTheSigningDate) {
  Scenario s(
      "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nregion = us-east-1\n"
      "mfa_serial = arn:aws:iam::1:mfa/u\n",
      kBaseKeys);
  CredentialResolver r(s.in);
  ASSERT_TRUE(std::holds_alternative<PromptMfaAction>(r.next_action()));
  r.set_time(at("2025-06-02T09:00:00Z"));
  r.on_mfa_code("654321");
  auto a = r.next_action();
  ASSERT_TRUE(std::holds_alternative<HttpAction>(a));
  EXPECT_EQ(header(std::get<HttpAction>(a).headers, "X-Amz-Date"), "20250602T090000Z");
}

TEST(Region, ResolutionOrder) {
  const SharedConfig cfg = test::shared_config("[default]\nregion = eu-west-1\n[profile p]\nregion = ap-south-1\n",
                                               "[c]\nregion = sa-east-1\n");
  const auto& profiles = cfg.profiles;
  EXPECT_EQ(*resolve_region({}, profiles, "", ""), "eu-west-1");
  EXPECT_EQ(*resolve_region({}, profiles, "p", ""), "ap-south-1");
  EXPECT_EQ(*resolve_region({}, profiles, "c", ""), "sa-east-1");  // credentials-file values count (full_config)
  EXPECT_EQ(*resolve_region({{"AWS_PROFILE", "p"}}, profiles, "", ""), "ap-south-1");
  EXPECT_EQ(*resolve_region({{"AWS_DEFAULT_REGION", "us-west-1"}}, profiles, "p", ""), "us-west-1");
  EXPECT_EQ(*resolve_region({{"AWS_REGION", "us-east-2"}, {"AWS_DEFAULT_REGION", "us-west-1"}}, profiles, "p", ""),
            "us-east-2");
  EXPECT_EQ(*resolve_region({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "us-west-1"}}, profiles, "p", ""), "us-west-1");
  EXPECT_EQ(*resolve_region({{"AWS_REGION", "us-east-2"}}, profiles, "p", "ca-central-1"), "ca-central-1");
  auto none = resolve_region({}, profiles, "nope", "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, make_error_code(Errc::no_region));
  EXPECT_NE(none.error().message.find("--region"), std::string::npos);
  EXPECT_NE(none.error().message.find("AWS_REGION"), std::string::npos);
  EXPECT_NE(none.error().message.find("[profile nope]"), std::string::npos);
}

TEST(Refresh, ClampedTimesDoNotOverflow) {
  // Regression (fuzz_credential_chain): a token expiring "0001-01-01" is
  // clamped to TimePoint::min(); `expires_at - now` overflowed.
  EXPECT_TRUE(expires_within(TimePoint::min(), kNow, kCredentialRefreshWindow));
  EXPECT_FALSE(expires_within(TimePoint::max(), kNow, kCredentialRefreshWindow));
  EXPECT_TRUE(expires_within(TimePoint::max(), TimePoint::max(), kCredentialRefreshWindow));
  EXPECT_TRUE(needs_refresh(Credentials{"A", "S", {}, TimePoint::min()}, kNow));
  EXPECT_FALSE(needs_refresh(Credentials{"A", "S", {}, TimePoint::max()}, TimePoint::min()));
  Scenario s(kSsoSessionConfig);
  s.in.cli_profile = "s";
  s.files.files[sso_token_path("corp")] =
      R"({"accessToken": "OLD", "expiresAt": "0001-01-01T00:00:00Z", "refreshToken": "R", "clientId": "c",
          "clientSecret": "cs", "registrationExpiresAt": "9999-01-01T00:00:00Z"})";
  World w;
  w.http = [](const HttpAction& r) {
    if (r.purpose == "sso-oidc:CreateToken")
      return HttpReply{200, {}, R"({"accessToken":"NEW","expiresIn":999999999})", {}};
    return role_credentials();
  };
  expect_done(s.run(w));
  EXPECT_EQ(header(w.requests.at(1).headers, "x-amz-sso_bearer_token"), "NEW");
}

TEST(Refresh, FifteenMinuteWindow) {
  Credentials c{"A", "S", std::string("T"), kNow + 16min};
  EXPECT_FALSE(needs_refresh(c, kNow));
  EXPECT_TRUE(needs_refresh(c, kNow + 1min + 1s));
  EXPECT_TRUE(needs_refresh(c, kNow + 20min));
  c.expiration.reset();
  EXPECT_FALSE(needs_refresh(c, kNow + 1000h));
}

}  // namespace
}  // namespace ssmc::aws
