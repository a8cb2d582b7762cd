// Codecs of the credential chain (src/aws/credential_codecs.hpp).
#include "aws/credential_codecs.hpp"

#include <gtest/gtest.h>

#include "aws/credential_test_support.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

using test::from_unix;
using test::to_unix;
using namespace std::chrono_literals;

// --- ISO-8601 ------------------------------------------------------------------

TEST(Iso8601, ParsesTheFormsAwsWrites) {
  EXPECT_EQ(to_unix(*parse_iso8601("2021-08-05T19:58:02Z")), 1628193482);
  EXPECT_EQ(to_unix(*parse_iso8601("2021-08-05T19:58:02.000Z")), 1628193482);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02T18:36:00+00:00")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02T20:36:00+02:00")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02T13:36:00-0500")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02T20:36:00+02")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02 18:36:00 UTC")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02T18:36:00UTC")), 1651516560);  // CLI cache files
  EXPECT_EQ(to_unix(*parse_iso8601("20220502T183600Z")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("  2022-05-02t18:36:00z \n")), 1651516560);
  EXPECT_EQ(to_unix(*parse_iso8601("2022-05-02")), 1651449600);
  EXPECT_EQ(to_unix(*parse_iso8601("2009-02-13T23:31:30Z")), 1234567890);
  EXPECT_EQ(to_unix(*parse_iso8601("1970-01-01T00:00:00Z")), 0);
}

TEST(Iso8601, KeepsFractionsAndReadsNaiveTimesAsUtc) {
  const auto t = *parse_iso8601("2099-01-01T00:00:00.5+02:00");
  EXPECT_EQ(t, *parse_iso8601("2098-12-31T22:00:00Z") + 500ms);
  EXPECT_EQ(*parse_iso8601("2021-01-01T00:00:00,25Z"), *parse_iso8601("2021-01-01T00:00:00Z") + 250ms);
  EXPECT_EQ(*parse_iso8601("2021-01-01T00:00:00.123456789123Z"), *parse_iso8601("2021-01-01T00:00:00Z") + 123456789ns);
  // Deviation documented in the header: no zone = UTC (the CLI crashes).
  EXPECT_EQ(*parse_iso8601("2099-01-01T00:00:00"), *parse_iso8601("2099-01-01T00:00:00Z"));
}

TEST(Iso8601, ClampsBeyondTheClockRange) {
  EXPECT_EQ(*parse_iso8601("9999-12-31T23:59:59Z"), TimePoint::max());
  EXPECT_EQ(*parse_iso8601("2199-11-14T04:05:45Z") > *parse_iso8601("2080-10-16T03:56:45Z"), true);
  EXPECT_EQ(*parse_iso8601("0001-01-01T00:00:00Z"), TimePoint::min());
}

TEST(Iso8601, RejectsMalformed) {
  for (std::string_view bad :
       {"", "2021", "2021-13-01T00:00:00Z", "2021-02-29T00:00:00Z", "2021-01-01T24:00:00Z", "2021-01-01T00:60:00Z",
        "2021-01-01T00:00:60Z", "2021-01-01T00:00:00+2400", "2021-01-01T00:00:00Q", "2021-01-01X", "2021-1-01",
        "yesterday", "1651516560", "2021-01-01T00:00:00+01:0", "0000-01-01"}) {
    auto r = parse_iso8601(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(Errc::bad_timestamp));
    }
  }
  EXPECT_TRUE(parse_iso8601("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parse_iso8601("2000-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("1900-02-29T00:00:00Z"));
}

TEST(Iso8601, FormatsLikeTheCliCache) {
  EXPECT_EQ(format_iso8601(from_unix(1628193482)), "2021-08-05T19:58:02Z");
  EXPECT_EQ(format_iso8601(from_unix(0) + 999ms), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*parse_iso8601(format_iso8601(from_unix(4102444800))), from_unix(4102444800));
}

// --- shell-like splitting ----------------------------------------------------------

std::vector<std::string> split(std::string_view s) {
  auto r = split_command_line(s);
  EXPECT_TRUE(r) << s;
  return r ? *r : std::vector<std::string>{};
}

TEST(SplitCommandLine, FollowsPythonShlexPosix) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("/usr/bin/get-creds --profile dev"), (V{"/usr/bin/get-creds", "--profile", "dev"}));
  EXPECT_EQ(split("  a\t b\r\nc  "), (V{"a", "b", "c"}));
  EXPECT_EQ(split("echo 'invalid json'"), (V{"echo", "invalid json"}));
  EXPECT_EQ(split(R"(a "b c" 'd "e"')"), (V{"a", "b c", "d \"e\""}));
  EXPECT_EQ(split(R"(a"b"c 'x'y)"), (V{"abc", "xy"}));
  EXPECT_EQ(split(R"(a '' "")"), (V{"a", "", ""}));
  EXPECT_EQ(split(R"(a\ b c\\d \'e)"), (V{"a b", "c\\d", "'e"}));
  EXPECT_EQ(split(R"("a\"b" "c\\d" "e\f" 'g\h')"), (V{"a\"b", "c\\d", "e\\f", "g\\h"}));
  // No shell: a pipe is just an argument (why the suite's `echo … | base64` fails in the CLI).
  EXPECT_EQ(split("echo abc | base64 --decode"), (V{"echo", "abc", "|", "base64", "--decode"}));
  EXPECT_EQ(split("# not a comment"), (V{"#", "not", "a", "comment"}));
  EXPECT_EQ(split(""), V{});
  EXPECT_EQ(split("   "), V{});
  EXPECT_EQ(split("{\"Version\": 1}"), (V{"{Version:", "1}"}));
}

TEST(SplitCommandLine, RejectsUnbalancedInput) {
  for (std::string_view bad : {"a 'b", "a \"b", "a \\", "\"a\\"}) {
    auto r = split_command_line(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), make_error_code(Errc::credential_process_bad_command));
  }
}

// --- hashes and cache keys -----------------------------------------------------------

TEST(CacheKeys, Sha1AndPythonJsonText) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(python_json_string("a\"b\\c\n\t\x01/"), R"("a\"b\\c\n\t\u0001/")");
  EXPECT_EQ(python_json_string("\xC3\xA9\xF0\x9F\x98\x80"), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(python_json_string("\xFF"), R"("\ufffd")");
  EXPECT_EQ(python_json_string("\x7F"), "\"\x7F\"");
}

TEST(CacheKeys, SsoTokenFileNamesOfTheSuites) {
  // The suites' fixture names: sha1 of the session name / legacy start URL.
  EXPECT_EQ(sso_token_cache_key("dev", "https://d-abc123.awsapps.com/start"),
            "34c6fceca75e456f25e7e99531e2425c6c1de443");
  EXPECT_EQ(sso_token_cache_key("", "https://ssotest.awsapps.com/start"), "dace00cba5f8355ec9d274ceb2bcebdfbeed0e12");
}

TEST(CacheKeys, MatchPythonJsonDumps) {
  // Values computed with python3: hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest().
  EXPECT_EQ(assume_role_cache_key({"arn:aws:iam::123456789012:role/r", {}, {}, {}, {}}),
            "6dc9e6e1e186b9f293814df3266de783142c48a2");
  // json.dumps({'roleName':'R','accountId':'1','sessionName':'s'}, sort_keys=True, separators=(',',':'))
  EXPECT_EQ(sso_credentials_cache_key("1", "R", "s", "https://x"), "469a62552a493000b62db108a3aa532030d283df");
  // Key order and formatting: DurationSeconds, ExternalId, RoleArn, RoleSessionName, SerialNumber.
  const std::string text =
      R"({"DurationSeconds": 900, "ExternalId": "\u00e9\n", "RoleArn": "arn:aws:iam::123:role/x", "RoleSessionName": "s", "SerialNumber": "arn:aws:iam::123:mfa/u"})";
  EXPECT_EQ(assume_role_cache_key({"arn:aws:iam::123:role/x", "s", "\xC3\xA9\n", "arn:aws:iam::123:mfa/u", 900}),
            sha1_hex(text));
  EXPECT_EQ(sha1_hex(text), "4a4530378ae11323557b14461e24312250e82348");
}

// --- credential_process output ------------------------------------------------------

TEST(CredentialProcessOutput, ParsesFullAndMinimalDocuments) {
  auto full = parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "ASIARTESTID", "SecretAccessKey": "TESTSECRETKEY",
          "SessionToken": "TESTSESSIONTOKEN", "AccountId": "123456789002",
          "Expiration": "2022-05-02T18:36:00+00:00"})");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->credentials.access_key_id, "ASIARTESTID");
  EXPECT_EQ(full->credentials.secret_access_key, "TESTSECRETKEY");
  EXPECT_EQ(full->credentials.session_token, "TESTSESSIONTOKEN");
  EXPECT_EQ(to_unix(*full->credentials.expiration), 1651516560);
  EXPECT_EQ(full->account_id, "123456789002");

  auto minimal = parse_credential_process_output(
      "\n {\"Version\": 1.0, \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"SK\", \"SessionToken\": null}\n");
  ASSERT_TRUE(minimal);
  EXPECT_FALSE(minimal->credentials.session_token);
  EXPECT_FALSE(minimal->credentials.expiration);
  EXPECT_FALSE(minimal->account_id);
  // Python equality: True == 1.
  EXPECT_TRUE(parse_credential_process_output(R"({"Version": true, "AccessKeyId": "A", "SecretAccessKey": "S"})"));
  // An empty token is no token.
  auto empty_token = parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": ""})");
  ASSERT_TRUE(empty_token);
  EXPECT_FALSE(empty_token->credentials.session_token);
}

TEST(CredentialProcessOutput, RejectsWithAMessageThatNamesTheProblemButNoValue) {
  struct Case {
    std::string_view input;
    std::string_view says;
  };
  const Case cases[] = {
      {"invalid json", "not valid JSON"},
      {"", "not valid JSON"},
      {"[1]", "array"},
      {R"("AKIA")", "string"},
      {R"({"AccessKeyId": "A", "SecretAccessKey": "S"})", "no Version"},
      {R"({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "S"})", "Version 2"},
      {R"({"Version": "1", "AccessKeyId": "A", "SecretAccessKey": "S"})", "non-numeric Version"},
      {R"({"Version": 1, "SecretAccessKey": "SECRETVALUE"})", "lacks AccessKeyId"},
      {R"({"Version": 1, "AccessKeyId": "A"})", "lacks SecretAccessKey"},
      {R"({"Version": 1, "AccessKeyId": 5, "SecretAccessKey": "SECRETVALUE"})", "not a string"},
      {R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "SECRETVALUE", "Expiration": "soon"})", "Expiration"},
      {R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "SECRETVALUE", "Expiration": 5})", "Expiration"},
      {R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "SECRETVALUE", "SessionToken": 7})", "not a string"},
  };
  for (const auto& c : cases) {
    auto r = parse_credential_process_output(c.input);
    ASSERT_FALSE(r) << c.input;
    EXPECT_EQ(r.error().code, make_error_code(Errc::credential_process_bad_output));
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("SECRETVALUE"), std::string::npos) << r.error().message;
  }
}

// --- metadata, SSO, CLI cache -----------------------------------------------------------

TEST(MetadataCredentials, EcsAndImdsDocuments) {
  auto ecs = parse_metadata_credentials(
      R"({"RoleArn":"arn:aws:iam::123456789:role/ecs-task-role","AccessKeyId":"ASIARCORRECT","SecretAccessKey":"secretkeycorrect","Token":"tokencorrect","AccountId":"012345678901","Expiration" : "2009-02-13T23:31:30Z"})");
  ASSERT_TRUE(ecs);
  EXPECT_EQ(ecs->credentials.access_key_id, "ASIARCORRECT");
  EXPECT_EQ(ecs->credentials.session_token, "tokencorrect");
  EXPECT_EQ(ecs->account_id, "012345678901");
  EXPECT_EQ(to_unix(*ecs->credentials.expiration), 1234567890);
  auto imds = parse_metadata_credentials(
      "{\n  \"Code\" : \"Success\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIARTEST\",\n  "
      "\"SecretAccessKey\" : \"testsecret\",\n  \"Token\" : \"testtoken\",\n  \"Expiration\" : "
      "\"2021-09-21T04:16:53Z\"\n}");
  ASSERT_TRUE(imds);
  EXPECT_EQ(to_unix(*imds->credentials.expiration), 1632197813);
  EXPECT_FALSE(imds->account_id);
  for (std::string_view bad : {R"({"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"2021-09-21T04:16:53Z"})",
                               R"({"AccessKeyId":"a","SecretAccessKey":"b","Token":"c"})",
                               R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"x"})", "<html/>"}) {
    auto r = parse_metadata_credentials(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, make_error_code(Errc::bad_credential_response));
  }
  EXPECT_TRUE(is_valid_json("{}"));
  EXPECT_FALSE(is_valid_json("imds-assume-role-test"));
}

TEST(SsoToken, ParsesSessionAndLegacyTokensAndWritesThemBack) {
  auto token = parse_sso_token(R"({
    "accessToken": "secret-access-token", "expiresAt": "2199-11-14T04:05:45Z",
    "refreshToken": "secret-refresh-token", "clientId": "ABCDEFG323242423121312312312312312",
    "clientSecret": "ABCDE123", "registrationExpiresAt": "2199-03-06T19:53:17Z",
    "region": "us-east-1", "startUrl": "https://d-abc123.awsapps.com/start"})");
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->access_token, "secret-access-token");
  EXPECT_EQ(token->refresh_token, "secret-refresh-token");
  EXPECT_EQ(token->registration_expires_at, "2199-03-06T19:53:17Z");
  auto again = parse_sso_token(serialize_sso_token(*token));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->access_token, token->access_token);
  EXPECT_EQ(again->expires_at, token->expires_at);
  EXPECT_EQ(again->client_secret, token->client_secret);
  EXPECT_EQ(again->start_url, token->start_url);

  auto legacy = parse_sso_token(R"({"accessToken": "a-token", "expiresAt": "2080-10-16T03:56:45Z"})");
  ASSERT_TRUE(legacy);
  EXPECT_FALSE(legacy->refresh_token);
  EXPECT_EQ(parse_sso_token(R"({"accessToken": "a"})").error().code, make_error_code(Errc::sso_token_missing));
  EXPECT_EQ(parse_sso_token("nope").error().code, make_error_code(Errc::sso_token_missing));
  EXPECT_EQ(parse_sso_token(R"({"accessToken": "a", "expiresAt": "later"})").error().code,
            make_error_code(Errc::bad_timestamp));
}

TEST(SsoToken, CreateTokenRefreshBodyAndResponse) {
  SsoToken t;
  t.client_id = "cid";
  t.client_secret = "csecret";
  t.refresh_token = "rtoken";
  EXPECT_EQ(create_token_refresh_body(t),
            R"({"clientId":"cid","clientSecret":"csecret","grantType":"refresh_token","refreshToken":"rtoken"})");
  auto r = parse_create_token_response(
      R"({"accessToken":"new","tokenType":"Bearer","expiresIn":28800,"refreshToken":"r2"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->access_token, "new");
  EXPECT_EQ(r->expires_in, std::chrono::seconds(28800));
  EXPECT_EQ(r->refresh_token, "r2");
  EXPECT_FALSE(parse_create_token_response(R"({"accessToken":"new"})"));
  EXPECT_FALSE(parse_create_token_response(R"({"expiresIn":5})"));
}

TEST(SsoRoleCredentials, ParsesMillisecondExpiration) {
  auto c = parse_sso_role_credentials(
      R"({"roleCredentials":{"accessKeyId":"ASIARTESTID","secretAccessKey":"TESTSECRETKEY","sessionToken":"TESTSESSIONTOKEN","expiration": 1651516560000}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "ASIARTESTID");
  EXPECT_EQ(to_unix(*c->expiration), 1651516560);
  EXPECT_FALSE(parse_sso_role_credentials(R"({"roleCredentials":{"accessKeyId":"A"}})"));
  EXPECT_FALSE(parse_sso_role_credentials(R"({"message":"Session token not found or invalid"})"));
  EXPECT_EQ(json_error_message(R"({"message":"Session token not found or invalid"})"),
            "Session token not found or invalid");
  EXPECT_EQ(json_error_message("<xml/>"), "");
}

TEST(CliCache, RoundTripsAndReadsTheCliFormats) {
  Credentials c{"ASIA1", "secret1", std::string("token1"), from_unix(4102444800)};
  const std::string text = serialize_cached_credentials(c, "AROA:s", "arn:aws:sts::123456789012:assumed-role/r/s", "");
  auto back = parse_cached_credentials(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->credentials, c);
  EXPECT_EQ(back->assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/r/s");
  // What the CLI itself writes (datetime via strftime '%Y-%m-%dT%H:%M:%S%Z').
  auto cli = parse_cached_credentials(
      R"({"Credentials": {"AccessKeyId": "ASIA2", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00UTC"}, "AssumedRoleUser": {"AssumedRoleId": "x", "Arn": "arn:aws:sts::111122223333:assumed-role/a/b"}, "ResponseMetadata": {}})");
  ASSERT_TRUE(cli);
  EXPECT_EQ(*cli->credentials.expiration, *parse_iso8601("2099-01-01T00:00:00Z"));
  auto sso = parse_cached_credentials(serialize_cached_credentials(c, "", "", "sso"));
  ASSERT_TRUE(sso);
  EXPECT_FALSE(sso->assumed_role_arn);
  EXPECT_NE(serialize_cached_credentials(c, "", "", "sso").find(R"("ProviderType":"sso")"), std::string::npos);
  EXPECT_FALSE(parse_cached_credentials(
      R"({"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t"}})"));
  EXPECT_FALSE(parse_cached_credentials("{}"));
}

TEST(Arn, AccountId) {
  EXPECT_EQ(account_id_from_arn("arn:aws:sts::123456789012:assumed-role/r/s"), "123456789012");
  EXPECT_EQ(account_id_from_arn("arn:aws-cn:iam::111122223333:role/x"), "111122223333");
  EXPECT_FALSE(account_id_from_arn("arn:aws:s3:::bucket"));
  EXPECT_FALSE(account_id_from_arn("nonsense"));
  EXPECT_FALSE(account_id_from_arn("arn:aws:sts::12ab:x"));
}

}  // namespace
}  // namespace ssmc::aws
