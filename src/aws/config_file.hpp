// The shared AWS config (~/.aws/config) and credentials (~/.aws/credentials)
// files, parsed exactly as the AWS CLI v2 reads them (stack.md §1.7, §1.11).
//
// The CLI reads both files with Python's configparser.RawConfigParser
// (botocore `raw_config_parse`) and maps sections to profiles with
// `build_profile_map`; `session.full_config` then overlays the credentials
// file. This parser follows that code (botocore 1.43 / awscli 2.9.19), and so
// differs from the cross-SDK suite (shared/testdata/aws-config/README.md) where
// the CLI does:
//  - no inline comments: `key = value # x` has the value `value # x`
//    (`[name] # x` is still a section header); a line whose first non-blank
//    character is '#' or ';' is a comment, even inside a continuation block;
//  - a section or a property repeated in one file is an error;
//  - `key : value` is a property (':' is a delimiter like '=');
//  - profile and property names are not validated (`[profile foo!bar]`,
//    `in valid = x` are kept); a config section is `[profile NAME]` where
//    NAME is the second word of a shell-like split (quotes allowed), and a
//    section header is not trimmed (`[ profile x]` is not a profile);
//  - of `[default]` and `[profile default]` the later one in the file wins
//    (no merge); credentials-file section names are used verbatim;
//  - `[DEFAULT]` (upper case) holds defaults inherited by every section;
//  - a sub-property line `= v` (empty name) is accepted.
// Known, deliberate gaps: property names are lower-cased in ASCII only
// (Python lower-cases all of Unicode).
//
// Pure: text in, values out; no I/O, no getenv. Errors never quote a value
// (values may be secrets).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "util/result.hpp"

namespace ssmc::aws {

enum class FileKind { config, credentials };

/// One `name = value` property, continuation lines included.
struct Property {
  /// The value: text after the delimiter, trimmed; continuation lines
  /// (indented deeper than the property) appended after '\n', each trimmed;
  /// blank lines inside kept as empty lines, trailing ones dropped. For a
  /// sub-property block (`s3 =` then indented `k = v` lines) it is "\n"
  /// followed by the trimmed non-blank lines joined with "\n" (the form the
  /// cross-SDK suite uses).
  std::string value;
  /// True when the value starts with a line break: the CLI then reads it as
  /// sub-properties (botocore `_parse_nested`).
  bool nested = false;
  /// For nested values: `key = value` pairs, both trimmed, key case kept,
  /// the last of a repeated key wins.
  std::map<std::string, std::string, std::less<>> sub_properties;
  /// 1-based line of the `name =` line.
  std::size_t line = 0;
};

/// Properties by name, lower-cased.
using Properties = std::map<std::string, Property, std::less<>>;

/// One `[name]` section as written.
struct Section {
  /// Text between '[' and the last ']' of the header line, not trimmed.
  std::string name;
  std::size_t line = 0;
  Properties properties;
};

/// A file as parsed, before mapping sections to profiles.
struct ParsedFile {
  FileKind kind = FileKind::config;
  /// Sections in file order, `[DEFAULT]` excluded.
  std::vector<Section> sections;
  /// Properties of `[DEFAULT]` (inherited by every section, configparser
  /// rule). One with broken sub-properties is left out: it is an error only
  /// in a section that inherits it (botocore parses them per section).
  Properties defaults;
};

/// A parse error: which rule, where, and what to do. `message` starts with
/// "line N: " and never quotes a property value; prefix it with the path.
struct ConfigError {
  std::error_code code;
  std::size_t line = 0;
  std::string message;
};

/// Only for boost::system::result<T, ConfigError>::value() on an error
/// (a caller bug): throws std::system_error(code, message).
[[noreturn]] void throw_exception_from_error(const ConfigError& error, const boost::source_location& location);

template <class T>
using ConfigResult = boost::system::result<T, ConfigError>;

/// Parses one file. `kind` only changes the advice in messages; how sections
/// become profiles is decided by merge_profiles. Errors (Errc): config_not_utf8,
/// config_missing_section_header, config_bad_section_header,
/// config_missing_equals, config_empty_property_name, config_bad_sub_property,
/// config_duplicate_section, config_duplicate_property.
ConfigResult<ParsedFile> parse_config_file(std::string_view text, FileKind kind);

using SectionMap = std::map<std::string, Properties, std::less<>>;

/// Profiles and other sections as the AWS CLI sees them (`session.full_config`).
struct ProfileSet {
  /// From the config file: `[default]` and `[profile NAME]`; then every
  /// credentials-file section `[NAME]` overlaid property by property
  /// (credentials values win).
  SectionMap profiles;
  /// `[sso-session NAME]` of the config file.
  SectionMap sso_sessions;
  /// `[services NAME]` of the config file.
  SectionMap services;
  /// Other config-file sections, by their raw name (unused by the CLI).
  SectionMap other_sections;
};

/// Maps `config` (a config file; pass ParsedFile{} if absent) and
/// `credentials` (a credentials file, or ParsedFile{}) to profiles: a config
/// section whose name starts with "profile" / "sso-session" / "services" is
/// split shell-like (botocore `shlex.split`) and kept only if that gives
/// exactly two words, the second being the name; `[default]` is the default
/// profile; when two sections give the same name the later one wins whole.
/// Every section first inherits its file's `[DEFAULT]` properties.
ProfileSet merge_profiles(const ParsedFile& config, const ParsedFile& credentials);

/// The property `name` (lower case) of `properties`, or nullptr.
const Property* find_property(const Properties& properties, std::string_view name);

/// Environment variables, passed in (nothing here calls getenv).
using Environment = std::map<std::string, std::string, std::less<>>;

/// Path conventions for home-directory expansion. ssmc runs on posix;
/// windows exists only for the cross-SDK file-location suite and follows it.
enum class Platform { posix, windows };

struct ConfigFilePaths {
  std::string config;
  std::string credentials;
};

/// Where the CLI looks: AWS_CONFIG_FILE (default `~/.aws/config`) and
/// AWS_SHARED_CREDENTIALS_FILE (default `~/.aws/credentials`); a variable set
/// to "" is used as is (the CLI then finds no file). `$NAME` / `${NAME}` are
/// expanded from `env` (unknown names left as is), then a leading `~` or
/// `~/`: posix from HOME (trailing '/' removed; HOME="" gives "/"), as
/// Python's posixpath.expanduser; windows from HOME, else USERPROFILE, else
/// HOMEDRIVE+HOMEPATH, with '\' separators in the defaults (the suite's
/// order: the CLI's Python >= 3.8 would ignore HOME there). `~user` is left
/// unexpanded. Errors: no_home_directory when `~` needs a home that `env`
/// lacks (the CLI would ask the password database).
Result<ConfigFilePaths> config_file_paths(const Environment& env, Platform platform = Platform::posix);

/// Python's `shlex.split` in posix mode without comments (botocore splits
/// section names and the CLI credential_process commands with it): words
/// separated by space/tab/CR/LF; single quotes literal; double quotes with
/// backslash escapes of a double quote or a backslash; a backslash outside
/// quotes escapes the next character; two quotes make an empty word. nullopt
/// for an unclosed quote or a trailing backslash.
std::optional<std::vector<std::string>> shell_split(std::string_view text);

/// The profile the CLI uses: `cli_profile` (--profile) if non-empty, else
/// AWS_PROFILE, else AWS_DEFAULT_PROFILE (set-but-empty counts as set), else
/// "default".
std::string selected_profile(const Environment& env, std::string_view cli_profile = {});

}  // namespace ssmc::aws
