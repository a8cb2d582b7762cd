// Oracle tests: the real AWS CLI v2 (Debian's /usr/bin/aws; a pip CLI v1 may
// be first on PATH) resolves the same fixture files and environment as our
// resolver, and both must agree:
//   /usr/bin/aws configure export-credentials [--profile P] --format process
// with HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE in a temporary
// directory and a clean environment. Our RunProcessAction runs through a
// real fork/exec. No network: IMDS is disabled and HTTP(S)_PROXY points at a
// closed local port, so a cache miss fails fast on both sides. The
// assume-role / SSO / web-identity cases use pre-filled CLI caches, which
// also proves our cache file names are the CLI's.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "aws/credential_chain.hpp"
#include "aws/credential_test_support.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

namespace json = boost::json;
using test::TempDir;

constexpr const char* kAwsCli = "/usr/bin/aws";

struct Outcome {
  bool ok = false;
  Credentials credentials;
  std::string error;  // CLI stderr or our Failed::message
  std::error_code code;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return o.ok ? os << "credentials " << redacted(o.credentials) : os << "failure: " << o.error;
}

class Oracle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::file_exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " (Debian package awscli, AWS CLI v2) is not installed";
  }

  // The environment both sides get.
  Environment env(const Environment& extra = {}) const {
    Environment e = {{"HOME", dir.path()},
                     {"AWS_CONFIG_FILE", dir.path() + "/config"},
                     {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/credentials"},
                     {"PATH", "/usr/bin:/bin"},
                     {"AWS_EC2_METADATA_DISABLED", "true"},
                     {"AWS_MAX_ATTEMPTS", "1"},
                     {"HTTPS_PROXY", "http://127.0.0.1:9"},
                     {"HTTP_PROXY", "http://127.0.0.1:9"}};
    for (const auto& [k, v] : extra) e[k] = v;
    return e;
  }

  static std::vector<std::string> env_list(const Environment& e) {
    std::vector<std::string> out;
    for (const auto& [k, v] : e) out.push_back(k + "=" + v);
    return out;
  }

  Outcome cli(const std::string& profile, const Environment& extra = {}) const {
    std::vector<std::string> argv = {kAwsCli, "configure", "export-credentials", "--format", "process"};
    if (!profile.empty()) {
      argv.push_back("--profile");
      argv.push_back(profile);
    }
    const auto reply = test::run_real_process(argv, env_list(env(extra)));
    Outcome o;
    if (reply.spawn_error || reply.exit_code != 0) {
      o.error = reply.spawn_error ? reply.spawn_error.message() : reply.err;
      return o;
    }
    boost::system::error_code ec;
    const json::value doc = json::parse(reply.out, ec);
    EXPECT_FALSE(ec) << reply.out;
    if (ec || !doc.is_object()) return o;
    const json::object& obj = doc.as_object();
    o.ok = true;
    o.credentials.access_key_id = std::string(obj.at("AccessKeyId").as_string());
    o.credentials.secret_access_key = std::string(obj.at("SecretAccessKey").as_string());
    if (const auto* t = obj.if_contains("SessionToken")) o.credentials.session_token = std::string(t->as_string());
    if (const auto* x = obj.if_contains("Expiration")) {
      auto t = parse_iso8601(x->as_string());
      EXPECT_TRUE(t) << x->as_string();
      if (t) o.credentials.expiration = *t;
    }
    return o;
  }

  Outcome ours(const std::string& profile, const Environment& extra = {}) const {
    test::RealFiles files;
    ResolverInput in;
    in.env = env(extra);
    in.cli_profile = profile;
    in.files = &files;
    in.now = std::chrono::system_clock::now();
    test::World world;
    const auto process_env = env_list(in.env);
    world.process = [&](const RunProcessAction& p) { return test::run_real_process(p.argv, process_env); };
    CredentialResolver resolver(std::move(in));
    const ResolverAction final = world.run(resolver);
    EXPECT_TRUE(world.requests.empty()) << "unexpected HTTP request to " << world.requests.front().url();
    Outcome o;
    if (const auto* d = std::get_if<Done>(&final)) {
      o.ok = true;
      o.credentials = d->credentials;
    } else {
      o.error = std::get<Failed>(final).message;
      o.code = std::get<Failed>(final).code;
    }
    return o;
  }

  // Both sides agree; returns ours.
  Outcome agree(const std::string& profile, const Environment& extra = {}) const {
    const Outcome theirs = cli(profile, extra);
    const Outcome mine = ours(profile, extra);
    EXPECT_EQ(mine.ok, theirs.ok) << "CLI: " << theirs << "\nours: " << mine;
    if (mine.ok && theirs.ok) {
      EXPECT_EQ(mine.credentials.access_key_id, theirs.credentials.access_key_id);
      EXPECT_EQ(mine.credentials.secret_access_key, theirs.credentials.secret_access_key);
      EXPECT_EQ(mine.credentials.session_token, theirs.credentials.session_token);
      EXPECT_EQ(mine.credentials.expiration.has_value(), theirs.credentials.expiration.has_value());
      if (mine.credentials.expiration && theirs.credentials.expiration) {
        // The CLI prints microseconds.
        const auto diff = *mine.credentials.expiration - *theirs.credentials.expiration;
        EXPECT_LT(std::chrono::abs(diff), std::chrono::milliseconds(1));
      }
    }
    return mine;
  }

  void write(const std::string& name, std::string_view text, bool executable = false) const {
    dir.write(name, text, executable);
  }

  // A CLI credential cache entry valid until 2099.
  void cache(const std::string& key, std::string_view id, std::string_view provider = "") const {
    Credentials c{std::string(id), std::string(id) + "SECRET", std::string(id) + "TOKEN",
                  *parse_iso8601("2099-01-01T00:00:00Z")};
    write(".aws/cli/cache/" + key + ".json",
          serialize_cached_credentials(c, "AROA:x", "arn:aws:sts::111122223333:assumed-role/r/x", provider));
  }

  TempDir dir;
};

TEST_F(Oracle, StaticKeysAndTheirPrecedence) {
  write("config",
        "[default]\nregion = us-east-1\naws_access_key_id = AKIADEFAULTCONFIG\naws_secret_access_key = S1\n"
        "[profile both]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = S2\n"
        "[profile onlyconfig]\naws_access_key_id = AKIAONLYCONFIG\naws_secret_access_key = S3\n"
        "aws_session_token = T3\n");
  write("credentials",
        "[both]\naws_access_key_id = AKIACREDFILE\naws_secret_access_key = S4\n"
        "[onlycred]\naws_access_key_id = AKIAONLYCRED\naws_secret_access_key = S5\n"
        "aws_security_token = LEGACY\naws_session_token = MODERN\n");
  EXPECT_EQ(agree("both").credentials.access_key_id, "AKIACREDFILE");
  EXPECT_EQ(agree("onlyconfig").credentials.session_token, "T3");
  EXPECT_EQ(agree("onlycred").credentials.session_token, "LEGACY");
  EXPECT_EQ(agree("").credentials.access_key_id, "AKIADEFAULTCONFIG");
  EXPECT_EQ(agree("default").credentials.access_key_id, "AKIADEFAULTCONFIG");
}

TEST_F(Oracle, EnvironmentVariables) {
  write("config",
        "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = FILESECRET\n"
        "[profile p]\naws_access_key_id = AKIAP\naws_secret_access_key = PSECRET\n");
  const Environment keys = {{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                            {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                            {"AWS_SESSION_TOKEN", "MODERN"},
                            {"AWS_SECURITY_TOKEN", "LEGACY"},
                            {"AWS_CREDENTIAL_EXPIRATION", "2099-03-04T05:06:07+02:00"}};
  EXPECT_EQ(agree("", keys).credentials.access_key_id, "AKIAENV");  // env beats the default profile
  EXPECT_EQ(agree("p", keys).credentials.access_key_id, "AKIAP");   // --profile drops the env provider
  auto via_variable = keys;
  via_variable["AWS_PROFILE"] = "p";
  EXPECT_EQ(agree("", via_variable).credentials.access_key_id, "AKIAENV");  // AWS_PROFILE does not
  EXPECT_EQ(agree("", {{"AWS_ACCESS_KEY_ID", " "}, {"AWS_SECRET_ACCESS_KEY", " "}}).credentials.access_key_id, " ");
  EXPECT_FALSE(agree("", {{"AWS_ACCESS_KEY_ID", "AKIAENV"}}).ok);  // no secret
}

TEST_F(Oracle, CredentialProcess) {
  const std::string script = dir.write(
      "bin/get creds.sh",
      "#!/bin/sh\n"
      "case \"$1\" in\n"
      "  full) echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \"PROCSECRET\", "
      "\"SessionToken\": \"PROCTOKEN\", \"Expiration\": \"2099-01-01T00:00:00.5+02:00\"}' ;;\n"
      "  arg) printf '{\"Version\": 1.0, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"S\", \"SessionToken\": null}' "
      "\"$2\" ;;\n"
      "  v2) echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}' ;;\n"
      "  bad) echo 'not json' ;;\n"
      "  fail) echo 'cannot reach the vault' >&2; exit 3 ;;\n"
      "  expired) echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": "
      "\"2001-01-01T00:00:00Z\"}' ;;\n"
      "esac\n",
      true);
  const std::string quoted_script = "\"" + script + "\"";
  write("config", "[profile full]\ncredential_process = " + quoted_script +
                      " full\n"
                      "[profile arg]\ncredential_process = " +
                      quoted_script +
                      " arg 'AKIA WITH SPACE'\n"
                      "[profile v2]\ncredential_process = " +
                      quoted_script +
                      " v2\n"
                      "[profile bad]\ncredential_process = " +
                      quoted_script +
                      " bad\n"
                      "[profile fail]\ncredential_process = " +
                      quoted_script +
                      " fail\n"
                      "[profile expired]\ncredential_process = " +
                      quoted_script +
                      " expired\n"
                      "[profile missing]\ncredential_process = /nonexistent/program\n"
                      "[profile withkeys]\ncredential_process = " +
                      quoted_script +
                      " full\naws_access_key_id = AKIACONFIG\naws_secret_access_key = S\n"
                      "[profile shadowed]\ncredential_process = " +
                      quoted_script + " full\n");
  write("credentials", "[shadowed]\naws_access_key_id = AKIACREDFILE\naws_secret_access_key = S\n");
  const Outcome full = agree("full");
  EXPECT_EQ(full.credentials.access_key_id, "AKIAPROC");
  EXPECT_EQ(full.credentials.session_token, "PROCTOKEN");
  EXPECT_EQ(agree("arg").credentials.access_key_id, "AKIA WITH SPACE");
  EXPECT_EQ(agree("withkeys").credentials.access_key_id, "AKIAPROC");      // process before config keys
  EXPECT_EQ(agree("shadowed").credentials.access_key_id, "AKIACREDFILE");  // credentials file before process
  EXPECT_EQ(agree("v2").code, make_error_code(Errc::credential_process_bad_output));
  EXPECT_EQ(agree("bad").code, make_error_code(Errc::credential_process_bad_output));
  const Outcome fail = agree("fail");
  EXPECT_EQ(fail.code, make_error_code(Errc::credential_process_failed));
  EXPECT_NE(fail.error.find("cannot reach the vault"), std::string::npos) << fail.error;
  EXPECT_EQ(agree("expired").code, make_error_code(Errc::credentials_expired));
  EXPECT_EQ(agree("missing").code, make_error_code(Errc::credential_process_failed));
}

TEST_F(Oracle, ConfigurationErrors) {
  write("config",
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
        "[profile split]\naws_secret_access_key = S\n"
        "[profile nosource]\nrole_arn = arn:aws:iam::1:role/x\n"
        "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = split\n"
        "credential_source = Environment\n"
        "[profile dangling]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = ghost\n");
  write("credentials", "[split]\naws_access_key_id = AKIASPLIT\n");
  EXPECT_EQ(agree("a").code, make_error_code(Errc::profile_loop));
  EXPECT_EQ(agree("split").code, make_error_code(Errc::credential_config_incomplete));
  EXPECT_EQ(agree("nosource").code, make_error_code(Errc::credential_config_incomplete));
  EXPECT_EQ(agree("both").code, make_error_code(Errc::credential_config_conflict));
  EXPECT_EQ(agree("dangling").code, make_error_code(Errc::source_profile_not_found));
  EXPECT_EQ(agree("nope").code, make_error_code(Errc::profile_not_found));
  EXPECT_EQ(agree("", {{"AWS_PROFILE", "nope"}}).code, make_error_code(Errc::profile_not_found));
  EXPECT_EQ(agree("").code, make_error_code(Errc::no_credentials));
}

TEST_F(Oracle, MalformedConfigFile) {
  write("config", "[default]\nregion = us-east-1\n[default]\nregion = us-east-2\n");
  EXPECT_EQ(agree("").code, make_error_code(Errc::config_duplicate_section));
}

TEST_F(Oracle, AssumeRoleFromTheCliCache) {
  write("config",
        "[profile plain]\nrole_arn = arn:aws:iam::111122223333:role/plain\nsource_profile = base\n"
        "[profile tuned]\nrole_arn = arn:aws:iam::111122223333:role/tuned\nsource_profile = base\n"
        "role_session_name = my-session\nexternal_id = ext-\xC3\xA9\nduration_seconds = 1800\n"
        "mfa_serial = arn:aws:iam::111122223333:mfa/alice\n"
        "[profile chained]\nrole_arn = arn:aws:iam::111122223333:role/top\nsource_profile = plain\n"
        "[profile fromenv]\nrole_arn = arn:aws:iam::111122223333:role/env\ncredential_source = Environment\n"
        "[profile stale]\nrole_arn = arn:aws:iam::111122223333:role/stale\nsource_profile = base\n");
  write("credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = BASESECRET\n");
  cache(assume_role_cache_key({"arn:aws:iam::111122223333:role/plain", {}, {}, {}, {}}), "ASIAPLAIN");
  cache(assume_role_cache_key({"arn:aws:iam::111122223333:role/tuned", "my-session", "ext-\xC3\xA9",
                               "arn:aws:iam::111122223333:mfa/alice", 1800}),
        "ASIATUNED");
  cache(assume_role_cache_key({"arn:aws:iam::111122223333:role/top", {}, {}, {}, {}}), "ASIATOP");
  cache(assume_role_cache_key({"arn:aws:iam::111122223333:role/env", {}, {}, {}, {}}), "ASIAENVROLE");
  {  // an entry with less than 15 minutes left is not used: both go to STS and fail (no network)
    Credentials c{"ASIASTALE", "S", std::string("T"), std::chrono::system_clock::now() + std::chrono::minutes(5)};
    write(".aws/cli/cache/" + assume_role_cache_key({"arn:aws:iam::111122223333:role/stale", {}, {}, {}, {}}) + ".json",
          serialize_cached_credentials(c, "", "", ""));
  }
  EXPECT_EQ(agree("plain").credentials.access_key_id, "ASIAPLAIN");
  EXPECT_EQ(agree("tuned").credentials.access_key_id, "ASIATUNED");  // no MFA prompt: cached
  EXPECT_EQ(agree("chained").credentials.access_key_id, "ASIATOP");
  EXPECT_EQ(
      agree("fromenv", {{"AWS_ACCESS_KEY_ID", "AKIAE"}, {"AWS_SECRET_ACCESS_KEY", "S"}}).credentials.access_key_id,
      "ASIAENVROLE");
  EXPECT_FALSE(cli("stale").ok);
}

TEST_F(Oracle, SsoFromTheCliCache) {
  write("config",
        "[profile legacy]\nsso_start_url = https://d-legacy.awsapps.com/start\nsso_region = us-east-2\n"
        "sso_account_id = 123456789012\nsso_role_name = Legacy\n"
        "[profile modern]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = Admin\n"
        "[sso-session corp]\nsso_start_url = https://d-corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "[profile nocache]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Nobody\n");
  cache(sso_credentials_cache_key("123456789012", "Legacy", "", "https://d-legacy.awsapps.com/start"), "ASIALEGACY",
        "sso");
  cache(sso_credentials_cache_key("210987654321", "Admin", "corp", "https://d-corp.awsapps.com/start"), "ASIAMODERN",
        "sso");
  EXPECT_EQ(agree("legacy").credentials.access_key_id, "ASIALEGACY");
  EXPECT_EQ(agree("modern").credentials.access_key_id, "ASIAMODERN");
  EXPECT_FALSE(agree("nocache").ok);  // no token: both tell the user to log in
}

TEST_F(Oracle, WebIdentityFromTheCliCache) {
  write("config",
        "[profile web]\nweb_identity_token_file = /nonexistent/token\n"
        "role_arn = arn:aws:iam::111122223333:role/web\nrole_session_name = pod-1\n"
        "[profile webmiss]\nweb_identity_token_file = /nonexistent/token\n"
        "role_arn = arn:aws:iam::111122223333:role/other\n");
  cache(assume_role_cache_key({"arn:aws:iam::111122223333:role/web", "pod-1", {}, {}, {}}), "ASIAWEB");
  EXPECT_EQ(agree("web").credentials.access_key_id, "ASIAWEB");
  EXPECT_EQ(agree("webmiss").code, make_error_code(Errc::credential_file_unreadable));
}

}  // namespace
}  // namespace ssmc::aws
