// Shared config/credentials files: every case of the cross-SDK suites in
// shared/testdata/aws-config/ (profile-parser-tests.json, file-location-tests.json),
// with the AWS CLI v2 behaviour pinned where it differs from the suite (each
// such case says why), plus CLI rules the suite does not cover.
//
// The CLI behaviour was checked against Debian's awscli 2.9.19 (its bundled
// botocore `session.full_config`) and botocore 1.43.11 `configloader`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "aws/config_file.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kConfigDir = fs::path(SSMC_SHARED_DIR) / "testdata" / "aws-config";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using ValueMap = std::map<std::string, std::string>;
using ProfileMap = std::map<std::string, ValueMap>;

ProfileMap values_of(const SectionMap& sections) {
  ProfileMap out;
  for (const auto& [name, properties] : sections) {
    auto& values = out[name];
    for (const auto& [key, property] : properties) values[key] = property.value;
  }
  return out;
}

ProfileMap profile_map(const json::value& v) {
  ProfileMap out;
  for (const auto& [name, properties] : v.as_object()) {
    auto& values = out[std::string(name)];
    for (const auto& [key, value] : properties.as_object()) values[std::string(key)] = std::string(value.as_string());
  }
  return out;
}

// Parses both files of a case the way the CLI reads them (config first).
struct Loaded {
  std::optional<ConfigError> error;
  ProfileSet profiles;
};

Loaded load(const std::optional<std::string>& config_text, const std::optional<std::string>& credentials_text) {
  Loaded out;
  ParsedFile config{FileKind::config, {}, {}}, credentials{FileKind::credentials, {}, {}};
  if (config_text) {
    auto r = parse_config_file(*config_text, FileKind::config);
    if (!r) return {r.error(), {}};
    config = std::move(*r);
  }
  if (credentials_text) {
    auto r = parse_config_file(*credentials_text, FileKind::credentials);
    if (!r) return {r.error(), {}};
    credentials = std::move(*r);
  }
  out.profiles = merge_profiles(config, credentials);
  return out;
}

// ---------------------------------------------------------------------------
// profile-parser-tests.json

struct ParserCase {
  std::size_t index;
  std::string name;
  json::object input;
  json::object output;
};

std::vector<ParserCase> parser_cases() {
  std::vector<ParserCase> out;
  const auto path = kConfigDir / "profile-parser-tests.json";
  if (!fs::exists(path)) return out;
  const auto doc = json::parse(read_file(path));
  for (const auto& t : doc.at("tests").as_array()) {
    out.push_back(
        {out.size(), std::string(t.at("name").as_string()), t.at("input").as_object(), t.at("output").as_object()});
  }
  return out;
}

// Where the AWS CLI v2 reads the suite's input differently (README "Caveat"
// table, completed by running every case through the CLI's own parser). We
// follow the CLI; `output` is what it produces, in the suite's JSON shape.
struct Deviation {
  const char* why;
  const char* output;
};

const std::map<std::string, Deviation, std::less<>> kCliDeviations = {
    {"Profile names support alphanumeric characters and - / . % @ _ : +",
     {"the CLI does not validate profile names: [profile foo!bar] is a profile",
      R"({"config":{"profiles":{"some-thing:long/the_one%only.foo@bar+":{},"foo!bar":{}}}})"}},
    {"Property definitions must contain an equals sign.",
     {"configparser accepts ':' as a delimiter like '='", R"({"config":{"profiles":{"foo":{"key":"value"}}}})"}},
    {"Pound sign comments are ignored.",
     {"the CLI has no inline comments: the value keeps ' # ...'",
      R"({"config":{"profiles":{"foo":{"name":"value # Comment with # sign"}}}})"}},
    {"Semicolon sign comments are ignored.",
     {"the CLI has no inline comments: the value keeps ' ; ...'",
      R"({"config":{"profiles":{"foo":{"name":"value ; Comment with ; sign"}}}})"}},
    {"All comment types can be used together.",
     {"the CLI has no inline comments: the value keeps ' # ...'",
      R"({"config":{"profiles":{"foo":{"name":"value # Comment with ; sign"}}}})"}},
    {"Comments can be empty.",
     {"the CLI has no inline comments: the value keeps ' ;'", R"({"config":{"profiles":{"foo":{"name":"value ;"}}}})"}},
    {"Continuations reset with profile definitions.",
     {"a repeated section is an error in the CLI, raised at the repeated header before the continuation",
      R"({"errorContaining":"Duplicate section [profile foo]"})"}},
    {"Invalid continuation",
     {"a repeated section is an error in the CLI, raised at the repeated header before the continuation",
      R"({"errorContaining":"Duplicate section [profile foo]"})"}},
    {"Duplicate profiles in the same file merge properties.",
     {"a repeated section is an error in the CLI (configparser strict mode)",
      R"({"errorContaining":"Duplicate section [profile foo]"})"}},
    {"Duplicate properties in a profile use the last one defined.",
     {"a repeated property in one section is an error in the CLI (configparser strict mode)",
      R"({"errorContaining":"Duplicate property 'name'"})"}},
    {"Duplicate properties in duplicate profiles use the last one defined.",
     {"a repeated section is an error in the CLI", R"({"errorContaining":"Duplicate section [profile foo]"})"}},
    {"Duplicate properties in duplicate profiles use the last one defined (case insensitive).",
     {"a repeated section is an error in the CLI", R"({"errorContaining":"Duplicate section [profile foo]"})"}},
    {"Default profile with profile prefix overrides default profile without prefix when profile prefix is first.",
     {"the CLI keeps the later of [profile default] / [default] (build_profile_map overwrites; no merge)",
      R"({"config":{"profiles":{"default":{"name2":"value2"}}}})"}},
    {"Invalid profile names are ignored.",
     {"credentials-file section names are used verbatim, unvalidated; [profile in valid] is 3 words and dropped",
      R"({"config":{"profiles":{"in valid 2":{"name2":"value2"}}}})"}},
    {"Invalid property names are ignored.",
     {"the CLI does not validate property names", R"({"config":{"profiles":{"foo":{"in valid":"value"}}}})"}},
    {"Sub-property definitions cannot have an empty name.",
     {"the CLI accepts an empty sub-property name (key \"\")",
      R"({"config":{"profiles":{"foo":{"s3":"\n= value"}}}})"}},
    {"Default profiles with mixed prefixes in the config file ignore the one without prefix when merging.",
     {"[profile default] appears twice: a repeated section is an error in the CLI",
      R"({"errorContaining":"Duplicate section [profile default]"})"}},
    {"Default profiles with mixed prefixes merge with credentials",
     {"[profile default] appears twice: a repeated section is an error in the CLI",
      R"({"errorContaining":"Duplicate section [profile default]"})"}},
    {"Credentials profiles with prefix are ignored.",
     {"credentials-file section names are used verbatim: [profile foo] is the profile 'profile foo'",
      R"({"config":{"profiles":{"profile foo":{"name":"value"}}}})"}},
    {"profile name with extra whitespace",
     {"configparser does not trim section names: '   profile foo    ' does not start with 'profile'",
      R"({"config":{"profiles":{"bar":{}}}})"}},
    {"profile name with extra whitespace in credentials",
     {"credentials-file section names are used verbatim (untrimmed, 'profile bar' included)",
      R"({"config":{"profiles":{"   foo    ":{"name":"value"},"profile bar":{}}}})"}},
};

// The CLI reads a value that starts with a line break as sub-properties
// (botocore `_parse_nested`); the suite shows them as text. Both are checked.
struct SubProperties {
  const char* profile;
  const char* key;
  ValueMap expected;
};

const std::map<std::string, SubProperties, std::less<>> kSubProperties = {
    {"Properties can have sub-properties.", {"foo", "s3", {{"name", "value"}}}},
    {"Sub-property definitions can have an empty value.", {"foo", "s3", {{"name", ""}}}},
    {"Sub-property definitions cannot have an empty name.", {"foo", "s3", {{"", "value"}}}},
    {"Sub-property definitions can have an invalid name.", {"foo", "s3", {{"in valid", "value"}}}},
    {"Sub-properties can have blank lines that are ignored", {"foo", "s3", {{"name", "value"}, {"name2", "value2"}}}},
};

class ProfileParserSuite : public testing::TestWithParam<ParserCase> {};

TEST_P(ProfileParserSuite, MatchesTheAwsCli) {
  const ParserCase& c = GetParam();
  json::object expected = c.output;
  if (const auto it = kCliDeviations.find(c.name); it != kCliDeviations.end()) {
    RecordProperty("cli_deviation", it->second.why);
    expected = json::parse(it->second.output).as_object();
  }
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (const auto* v = c.input.if_contains(key)) return std::string(v->as_string());
    return std::nullopt;
  };
  const Loaded loaded = load(text("configFile"), text("credentialsFile"));

  if (const auto* error = expected.if_contains("errorContaining")) {
    ASSERT_TRUE(loaded.error) << "expected an error containing " << *error;
    EXPECT_THAT(loaded.error->message, testing::HasSubstr(std::string(error->as_string())));
    EXPECT_GT(loaded.error->line, 0u);
    return;
  }
  ASSERT_FALSE(loaded.error) << loaded.error->message;
  const auto& config = expected.at("config").as_object();
  EXPECT_EQ(values_of(loaded.profiles.profiles), profile_map(config.at("profiles")));
  if (const auto* sso = config.if_contains("sso_sessions")) {
    EXPECT_EQ(values_of(loaded.profiles.sso_sessions), profile_map(*sso));
  }
  if (const auto it = kSubProperties.find(c.name); it != kSubProperties.end()) {
    const auto& profile = loaded.profiles.profiles.at(it->second.profile);
    const Property* property = find_property(profile, it->second.key);
    ASSERT_NE(property, nullptr);
    EXPECT_TRUE(property->nested);
    EXPECT_EQ(ValueMap(property->sub_properties.begin(), property->sub_properties.end()), it->second.expected);
  }
}

std::string parser_case_name(const testing::TestParamInfo<ParserCase>& info) {
  std::string name = "c" + std::to_string(info.param.index) + "_";
  for (const char ch : info.param.name) {
    if (name.size() >= 70) break;
    if (std::isalnum(static_cast<unsigned char>(ch)))
      name += ch;
    else if (name.back() != '_')
      name += '_';
  }
  while (name.back() == '_') name.pop_back();
  return name;
}

INSTANTIATE_TEST_SUITE_P(CrossSdk, ProfileParserSuite, testing::ValuesIn(parser_cases()), parser_case_name);

TEST(ProfileParserSuiteData, Has65CasesAndEveryDeviationNamesOne) {
  const auto cases = parser_cases();
  EXPECT_EQ(cases.size(), 65u);
  std::set<std::string, std::less<>> names;
  for (const auto& c : cases) names.insert(c.name);
  for (const auto& entry : kCliDeviations) EXPECT_TRUE(names.contains(entry.first)) << entry.first;
  for (const auto& entry : kSubProperties) EXPECT_TRUE(names.contains(entry.first)) << entry.first;
}

// ---------------------------------------------------------------------------
// file-location-tests.json

struct LocationCase {
  std::size_t index;
  std::string name;
  json::object data;
};

std::vector<LocationCase> location_cases() {
  std::vector<LocationCase> out;
  const auto path = kConfigDir / "file-location-tests.json";
  if (!fs::exists(path)) return out;
  const auto doc = json::parse(read_file(path));
  for (const auto& t : doc.at("tests").as_array())
    out.push_back({out.size(), std::string(t.at("name").as_string()), t.as_object()});
  return out;
}

class FileLocationSuite : public testing::TestWithParam<LocationCase> {};

TEST_P(FileLocationSuite, MatchesTheAwsCli) {
  const auto& t = GetParam().data;
  Environment env;
  for (const auto& [k, v] : t.at("environment").as_object()) env[std::string(k)] = std::string(v.as_string());
  const Platform platform = t.at("platform").as_string() == "windows" ? Platform::windows : Platform::posix;
  const std::string config(t.at("configLocation").as_string());
  const std::string credentials(t.at("credentialsLocation").as_string());
  const auto paths = config_file_paths(env, platform);
  ASSERT_TRUE(paths) << paths.error().message();
  EXPECT_EQ(paths->config, config);
  EXPECT_EQ(paths->credentials, credentials);
  if (const auto* profile = t.if_contains("profile")) {
    EXPECT_EQ(selected_profile(env), profile->as_string());
  }
}

std::string location_case_name(const testing::TestParamInfo<LocationCase>& info) {
  std::string name = "c" + std::to_string(info.param.index) + "_";
  for (const char ch : info.param.name) {
    if (name.size() >= 70) break;
    if (std::isalnum(static_cast<unsigned char>(ch)))
      name += ch;
    else if (name.back() != '_')
      name += '_';
  }
  while (name.back() == '_') name.pop_back();
  return name;
}

INSTANTIATE_TEST_SUITE_P(CrossSdk, FileLocationSuite, testing::ValuesIn(location_cases()), location_case_name);

TEST(FileLocationSuiteData, Has9Cases) { EXPECT_EQ(location_cases().size(), 9u); }

// ---------------------------------------------------------------------------
// AWS CLI rules the suite does not cover (each expectation checked against
// the CLI's parser).

ProfileMap cli_profiles(std::string_view config, std::string_view credentials = {}) {
  const Loaded loaded = load(std::string(config), std::string(credentials));
  EXPECT_FALSE(loaded.error) << loaded.error->message;
  return values_of(loaded.profiles.profiles);
}

ConfigError cli_error(std::string_view text, FileKind kind = FileKind::config) {
  auto r = parse_config_file(text, kind);
  EXPECT_FALSE(r) << "expected an error for: " << text;
  return r ? ConfigError{} : r.error();
}

TEST(ConfigFileCli, InlineCommentCharactersStayInValuesButCommentLinesAreSkipped) {
  EXPECT_EQ(cli_profiles("[default]\nregion = us-east-1 # note\n# whole line\n; whole line\n"),
            (ProfileMap{{"default", {{"region", "us-east-1 # note"}}}}));
  // A comment line inside a continuation block is skipped, not appended.
  EXPECT_EQ(cli_profiles("[default]\na = 1\n  # skipped\n  2\n"), (ProfileMap{{"default", {{"a", "1\n2"}}}}));
}

TEST(ConfigFileCli, ColonIsADelimiterAndTheFirstDelimiterWins) {
  EXPECT_EQ(cli_profiles("[default]\nurl = https://x:1/a=b\nk: v = w\n"),
            (ProfileMap{{"default", {{"url", "https://x:1/a=b"}, {"k", "v = w"}}}}));
}

TEST(ConfigFileCli, BlankLinesInsideAValueAreKeptTrailingOnesDropped) {
  EXPECT_EQ(cli_profiles("[default]\na = 1\n\n  2\n\n\nb = 3\n"),
            (ProfileMap{{"default", {{"a", "1\n\n2"}, {"b", "3"}}}}));
}

TEST(ConfigFileCli, ContinuationNeedsDeeperIndentThanItsProperty) {
  // The property line itself is indented by 2: a line indented by 2 is not a
  // continuation (and has no '='), one indented by 3 is.
  EXPECT_EQ(cli_profiles("[default]\n  a = 1\n   more\n"), (ProfileMap{{"default", {{"a", "1\nmore"}}}}));
  const auto e = cli_error("[default]\n  a = 1\n  more\n");
  EXPECT_EQ(e.code, Errc::config_missing_equals);
  EXPECT_EQ(e.line, 3u);
  // An indented section header right after a property continues its value.
  EXPECT_EQ(cli_profiles("[default]\na = v\n  [profile x]\n"), (ProfileMap{{"default", {{"a", "v\n[profile x]"}}}}));
}

TEST(ConfigFileCli, LineEndingsAndUnicodeWhiteSpace) {
  EXPECT_EQ(cli_profiles("[default]\ra = 1\r\nb = 2\n"), (ProfileMap{{"default", {{"a", "1"}, {"b", "2"}}}}));
  // U+00A0 and U+3000 are white space to Python's strip().
  EXPECT_EQ(cli_profiles("[default]\n\xC2\xA0"
                         "a = 1\xE3\x80\x80\n"),
            (ProfileMap{{"default", {{"a", "1"}}}}));
}

TEST(ConfigFileCli, SectionNamesAreShellSplit) {
  EXPECT_EQ(cli_profiles("[profile \"my profile\"]\na = 1\n[profile 'q']\n[profilex y]\n[profile a b]\n[profile]\n"),
            (ProfileMap{{"my profile", {{"a", "1"}}}, {"q", {}}, {"y", {}}}));
  // An unbalanced quote makes the section unusable, not the file.
  EXPECT_EQ(cli_profiles("[profile \"x]\n[default]\n"), (ProfileMap{{"default", {}}}));
  const Loaded loaded = load(
      std::string("[sso-session s]\nsso_region = r\n[services dev]\nssm =\n  endpoint_url = u\n[x]\n"), std::nullopt);
  ASSERT_FALSE(loaded.error);
  EXPECT_EQ(values_of(loaded.profiles.sso_sessions), (ProfileMap{{"s", {{"sso_region", "r"}}}}));
  EXPECT_EQ(loaded.profiles.services.at("dev").at("ssm").sub_properties.at("endpoint_url"), "u");
  EXPECT_EQ(values_of(loaded.profiles.other_sections), (ProfileMap{{"x", {}}}));
}

TEST(ConfigFileCli, UpperCaseDefaultSectionIsInheritedEverywhere) {
  EXPECT_EQ(
      cli_profiles("[DEFAULT]\nregion = eu-west-1\n[default]\n[profile p]\nregion = us-east-1\n",
                   "[DEFAULT]\nx = 1\n[c]\n"),
      (ProfileMap{{"default", {{"region", "eu-west-1"}}}, {"p", {{"region", "us-east-1"}}}, {"c", {{"x", "1"}}}}));
}

// Found by fuzz_config_file: a [DEFAULT] value with broken sub-properties is
// an error only where a section inherits it (botocore parses per section).
TEST(ConfigFileCli, BrokenDefaultSubPropertiesFailOnlyWhenInherited) {
  auto r = parse_config_file("[DEFAULT]\ns3 =\n  broken\n", FileKind::config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(find_property(r->defaults, "s3"), nullptr);
  EXPECT_EQ(cli_profiles("[DEFAULT]\ns3 =\n  broken\n[default]\ns3 = own\n"),
            (ProfileMap{{"default", {{"s3", "own"}}}}));
  const auto e = cli_error("[DEFAULT]\ns3 =\n  broken\n[default]\n");
  EXPECT_EQ(e.code, Errc::config_bad_sub_property);
  EXPECT_EQ(e.line, 3u);
}

TEST(ConfigFileCli, CredentialsOverlayConfigPropertyByProperty) {
  EXPECT_EQ(cli_profiles("[profile p]\nregion = r\naws_access_key_id = A\n", "[p]\naws_access_key_id = B\n"),
            (ProfileMap{{"p", {{"region", "r"}, {"aws_access_key_id", "B"}}}}));
}

TEST(ConfigFileErrors, CarryLineNumberCodeAndAdviceButNoValues) {
  auto e = cli_error("[default]\naws_secret_access_key wJalrXUtnFEMI/K7MDENG\n");
  EXPECT_EQ(e.code, Errc::config_missing_equals);
  EXPECT_EQ(e.line, 2u);
  EXPECT_THAT(e.message, testing::StartsWith("line 2: "));
  EXPECT_THAT(e.message, testing::Not(testing::HasSubstr("wJalr")));

  e = cli_error("[default]\na = 1\nA = 2\n");
  EXPECT_EQ(e.code, Errc::config_duplicate_property);
  EXPECT_EQ(e.line, 3u);
  EXPECT_THAT(e.message, testing::HasSubstr("first at line 2"));

  e = cli_error("\n\n[a]\n[b]\n[a]\n");
  EXPECT_EQ(e.code, Errc::config_duplicate_section);
  EXPECT_EQ(e.line, 5u);

  e = cli_error("[default]\ns3 =\n  ok = 1\n  broken\n");
  EXPECT_EQ(e.code, Errc::config_bad_sub_property);
  EXPECT_EQ(e.line, 4u);

  e = cli_error("[default]\n[]\n");
  EXPECT_EQ(e.code, Errc::config_bad_section_header);
  EXPECT_EQ(cli_error("[default]\n= 1\n").code, Errc::config_empty_property_name);
  EXPECT_EQ(cli_error("x = 1", FileKind::credentials).code, Errc::config_missing_section_header);
  EXPECT_THAT(cli_error("x = 1", FileKind::credentials).message, testing::HasSubstr("[NAME]"));

  e = cli_error("[default]\na = \xC3\x28\n");
  EXPECT_EQ(e.code, Errc::config_not_utf8);
  EXPECT_EQ(e.line, 2u);
  e = cli_error("\xEF\xBB\xBF[default]\n");
  EXPECT_EQ(e.code, Errc::config_missing_section_header);
  EXPECT_THAT(e.message, testing::HasSubstr("byte-order mark"));
  // [DEFAULT] may repeat, its properties may not.
  EXPECT_EQ(cli_profiles("[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[default]\n"),
            (ProfileMap{{"default", {{"a", "1"}, {"b", "2"}}}}));
  EXPECT_EQ(cli_error("[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n").code, Errc::config_duplicate_property);
}

TEST(ConfigFileErrors, ValueOnErrorThrowsOnlyForCallerBugs) {
  auto r = parse_config_file("oops", FileKind::config);
  ASSERT_FALSE(r);
  EXPECT_THROW((void)r.value(), std::system_error);
}

TEST(ConfigFilePaths, ExpansionRules) {
  const Environment env = {{"HOME", "/home/u/"}, {"X", "/x"}};
  auto paths = config_file_paths(env);
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->config, "/home/u/.aws/config");
  EXPECT_EQ(paths->credentials, "/home/u/.aws/credentials");
  paths = config_file_paths({{"HOME", "/h"},
                             {"X", "/x"},
                             {"AWS_CONFIG_FILE", "$X/c ${X}/d $NOPE ~/e"},
                             {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"}});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->config, "/x/c /x/d $NOPE ~/e");  // '~' only at the start
  EXPECT_EQ(paths->credentials, "/h/creds");
  paths = config_file_paths({{"HOME", ""}});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->config, "/.aws/config");
  paths = config_file_paths({{"AWS_CONFIG_FILE", "~bob/c"}, {"AWS_SHARED_CREDENTIALS_FILE", ""}});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->config, "~bob/c");
  EXPECT_EQ(paths->credentials, "");
  EXPECT_EQ(config_file_paths({}).error(), Errc::no_home_directory);
}

TEST(ConfigFilePaths, SelectedProfile) {
  EXPECT_EQ(selected_profile({}), "default");
  EXPECT_EQ(selected_profile({{"AWS_DEFAULT_PROFILE", "d"}}), "d");
  EXPECT_EQ(selected_profile({{"AWS_DEFAULT_PROFILE", "d"}, {"AWS_PROFILE", "p"}}), "p");
  EXPECT_EQ(selected_profile({{"AWS_PROFILE", ""}}), "");  // the CLI then reports profile () not found
  EXPECT_EQ(selected_profile({{"AWS_PROFILE", "p"}}, "cli"), "cli");
}

}  // namespace
}  // namespace ssmc::aws
