#include "aws/config_file.hpp"

#include <boost/throw_exception.hpp>
#include <deque>
#include <optional>
#include <utility>

#include "aws/errors.hpp"
#include "util/utf8.hpp"

namespace ssmc::aws {
namespace {

// configparser's name of the defaults section (`DEFAULTSECT`).
constexpr std::string_view kDefaultSection = "DEFAULT";

// --- UTF-8 and Python's notion of white space -------------------------------


// Decodes the code point at s[i] (s is valid UTF-8); sets `len`.
char32_t code_point_at(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  if (c < 0x80) return len = 1, c;
  if (c < 0xE0) return len = 2, (static_cast<char32_t>(c & 0x1F) << 6) | cont(1);
  if (c < 0xF0) return len = 3, (static_cast<char32_t>(c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  return len = 4, (static_cast<char32_t>(c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

// Python str.isspace() (also what `\s` matches in configparser's regexes).
bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python str.splitlines() separators other than "\r\n".
bool is_py_line_break(char32_t c) {
  return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

// Leading white space: number of code points and bytes.
struct Indent {
  std::size_t code_points = 0;
  std::size_t bytes = 0;
};

Indent leading_space(std::string_view s) {
  Indent in;
  while (in.bytes < s.size()) {
    std::size_t len = 0;
    if (!is_py_space(code_point_at(s, in.bytes, len))) break;
    in.bytes += len;
    ++in.code_points;
  }
  return in;
}

std::string_view py_rstrip(std::string_view s) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 0;
    if (!is_py_space(code_point_at(s, i, len))) end = i + len;
    i += len;
  }
  return s.substr(0, end);
}

std::string_view py_strip(std::string_view s) { return py_rstrip(s.substr(leading_space(s).bytes)); }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// --- The configparser state machine -----------------------------------------

struct RawValueLine {
  std::string text;
  std::size_t line;
};

struct RawOption {
  std::vector<RawValueLine> lines;
  std::size_t line = 0;
};

struct RawSection {
  std::string name;
  std::size_t line = 0;
  std::map<std::string, RawOption, std::less<>> options;
};

ConfigError error(Errc code, std::size_t line, std::string text) {
  return {make_error_code(code), line, "line " + std::to_string(line) + ": " + std::move(text)};
}

std::string section_advice(FileKind kind) {
  return kind == FileKind::config ? "[default] or [profile NAME]" : "[default] or [NAME]";
}

// Why a line starting with '[' is not a section header.
std::string bracket_problem(std::string_view stripped, FileKind kind) {
  if (stripped.size() > 1 && stripped[1] == ']')
    return "section header has no name; write it as " + section_advice(kind);
  return "Profile definition must end with ']'; write the section header as " + section_advice(kind);
}

// botocore `_parse_nested` over a value that starts with a line break.
std::optional<ConfigError> parse_nested(std::string_view key, const std::vector<RawValueLine>& lines,
                                        Property& property) {
  property.nested = true;
  property.value.clear();
  for (const auto& line : lines) {
    std::string_view rest = line.text;
    while (true) {  // a value line may hold more splitlines() separators
      std::size_t cut = rest.size(), next = rest.size();
      for (std::size_t i = 0; i < rest.size();) {
        std::size_t len = 0;
        if (is_py_line_break(code_point_at(rest, i, len))) {
          cut = i;
          next = i + len;
          if (rest[i] == '\r' && next < rest.size() && rest[next] == '\n') ++next;
          break;
        }
        i += len;
      }
      const auto piece = py_strip(rest.substr(0, cut));
      if (!piece.empty()) {
        const auto eq = piece.find('=');
        if (eq == std::string_view::npos)
          return error(Errc::config_bad_sub_property, line.line,
                       "Expected an '=' sign defining a sub-property of '" + std::string(key) +
                           "'; write the indented lines under '" + std::string(key) + " =' as 'name = value'");
        property.sub_properties[std::string(py_strip(piece.substr(0, eq)))] =
            std::string(py_strip(piece.substr(eq + 1)));
        property.value += '\n';
        property.value += piece;
      }
      if (next >= rest.size()) break;
      rest = rest.substr(next);
    }
  }
  return std::nullopt;
}

// Joins a RawOption into a Property (configparser `_join_multiline_values`,
// then botocore's nested parse).
std::optional<ConfigError> finish_option(std::string_view key, const RawOption& raw, Property& property) {
  property.line = raw.line;
  std::string joined;
  for (std::size_t i = 0; i < raw.lines.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += raw.lines[i].text;
  }
  joined.resize(py_rstrip(joined).size());
  if (!joined.empty() && joined.front() == '\n') return parse_nested(key, raw.lines, property);
  property.value = std::move(joined);
  return std::nullopt;
}

std::optional<ConfigError> finish_section(const std::map<std::string, RawOption, std::less<>>& raw, Properties& out) {
  for (const auto& [key, option] : raw) {
    if (auto e = finish_option(key, option, out[key])) return e;
  }
  return std::nullopt;
}

// "[profile NAME]"-style name: the second of exactly two shell words.
std::optional<std::string> prefixed_name(std::string_view section) {
  auto words = shell_split(section);
  if (!words || words->size() != 2) return std::nullopt;
  return std::move((*words)[1]);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

Properties with_defaults(const ParsedFile& file, const Section& section) {
  Properties merged = file.defaults;
  for (const auto& [key, property] : section.properties) merged[key] = property;
  return merged;
}

// posixpath.expandvars: $NAME and ${NAME}, NAME = [A-Za-z0-9_]+ for the first form.
std::string expand_vars(std::string_view path, const Environment& env) {
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '$') {
      out += path[i++];
      continue;
    }
    std::size_t end = i + 1;
    std::string_view name;
    if (end < path.size() && path[end] == '{') {
      const auto close = path.find('}', end);
      if (close == std::string_view::npos) {
        out += path[i++];
        continue;
      }
      name = path.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      while (end < path.size() && is_word(path[end])) ++end;
      name = path.substr(i + 1, end - i - 1);
      if (name.empty()) {
        out += path[i++];
        continue;
      }
    }
    if (const auto it = env.find(name); it != env.end()) {
      out += it->second;
    } else {
      out += path.substr(i, end - i);
    }
    i = end;
  }
  return out;
}

const std::string* env_get(const Environment& env, std::string_view name) {
  const auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

Result<std::string> expand_user(std::string path, const Environment& env, Platform platform) {
  if (path.empty() || path.front() != '~') return path;
  const auto seps = platform == Platform::posix ? std::string_view("/") : std::string_view("\\/");
  auto i = path.find_first_of(seps, 1);
  if (i == std::string::npos) i = path.size();
  if (i != 1) return path;  // ~user: needs the password database; left as is
  std::string home;
  if (platform == Platform::posix) {
    const auto* h = env_get(env, "HOME");
    if (!h) return make_error_code(Errc::no_home_directory);
    home = *h;
    while (!home.empty() && home.back() == '/') home.pop_back();
    home += path.substr(i);
    return home.empty() ? std::string("/") : home;
  }
  if (const auto* h = env_get(env, "HOME")) {  // cross-SDK order (the CLI's Python ignores HOME here)
    home = *h;
  } else if (const auto* profile = env_get(env, "USERPROFILE")) {
    home = *profile;
  } else if (const auto* home_path = env_get(env, "HOMEPATH")) {
    const auto* drive = env_get(env, "HOMEDRIVE");
    home = drive ? *drive : std::string();
    const bool rooted = !home_path->empty() && (home_path->front() == '\\' || home_path->front() == '/');
    const bool bare_drive = home.size() == 2 && home[1] == ':';
    if (!home.empty() && !rooted && !bare_drive && home.back() != '\\' && home.back() != '/') home += '\\';
    home += *home_path;
  } else {
    return make_error_code(Errc::no_home_directory);
  }
  return home + path.substr(i);
}

}  // namespace

void throw_exception_from_error(const ConfigError& error, const boost::source_location& location) {
  boost::throw_with_location(std::system_error(error.code, error.message), location);
}

ConfigResult<ParsedFile> parse_config_file(std::string_view text, FileKind kind) {
  if (const auto bad = util::invalid_utf8_at(text); bad != std::string_view::npos) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < bad; ++i)
      if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++line;
    return error(Errc::config_not_utf8, line,
                 "the file is not valid UTF-8 (the AWS CLI cannot read it either); save it as UTF-8");
  }

  std::deque<RawSection> sections;                                // deque: pointers into it stay valid
  std::map<std::string, std::size_t, std::less<>> section_lines;  // name -> line of its header
  RawSection defaults{std::string(kDefaultSection), 0, {}};
  RawSection* current = nullptr;
  RawOption* option = nullptr;  // the property continuation lines extend
  std::size_t indent_level = 0;
  std::optional<ConfigError> deferred;  // configparser reports these at the end

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Universal newlines: "\r\n", "\r" and "\n" end a line.
    auto end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + ((end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n') ? 2 : 1);
    ++line_no;

    const auto stripped = py_strip(line);
    if (!stripped.empty() && (stripped.front() == '#' || stripped.front() == ';')) continue;  // comment line
    if (stripped.empty()) {
      if (current && option) option->lines.push_back({std::string(), line_no});  // blank line inside a value
      continue;
    }
    const std::size_t indent = leading_space(line).code_points;
    if (current && option && indent > indent_level) {  // continuation line
      option->lines.push_back({std::string(stripped), line_no});
      continue;
    }
    indent_level = indent;

    if (const auto close = stripped.rfind(']');
        stripped.front() == '[' && close != std::string_view::npos && close >= 2) {
      const std::string name(stripped.substr(1, close - 1));
      option = nullptr;
      if (name == kDefaultSection) {
        current = &defaults;
        continue;
      }
      if (const auto [it, inserted] = section_lines.emplace(name, line_no); !inserted)
        return error(Errc::config_duplicate_section, line_no,
                     "Duplicate section [" + name + "] (first at line " + std::to_string(it->second) +
                         "); the AWS CLI rejects a file that repeats a section: merge them into one");
      current = &sections.emplace_back(RawSection{name, line_no, {}});
      continue;
    }
    if (!current) {
      if (line_no == 1 && starts_with(text, "\xEF\xBB\xBF"))
        return error(Errc::config_missing_section_header, line_no,
                     "the file starts with a UTF-8 byte-order mark, which the AWS CLI does not accept; save it "
                     "without one");
      if (stripped.front() == '[')
        return error(Errc::config_bad_section_header, line_no, bracket_problem(stripped, kind));
      return error(Errc::config_missing_section_header, line_no,
                   "Expected a profile definition (" + section_advice(kind) +
                       ") before the first property; add one above this line or remove the line");
    }

    const auto delim = stripped.find_first_of("=:");
    if (delim == std::string_view::npos) {  // configparser: recorded, raised at the end
      if (!deferred) {
        if (stripped.front() == '[')
          deferred = error(Errc::config_bad_section_header, line_no, bracket_problem(stripped, kind));
        else if (indent > 0)
          deferred = error(Errc::config_missing_equals, line_no,
                           "Expected a property definition, found continuation: an indented line must follow a "
                           "'name = value' line");
        else
          deferred = error(Errc::config_missing_equals, line_no,
                           "Expected an '=' sign defining a property; write it as 'name = value'");
      }
      continue;  // `option` stays: configparser keeps the previous property open
    }
    const auto name = py_rstrip(stripped.substr(0, delim));
    const std::string key = ascii_lower(name);
    if (const auto it = current->options.find(key); it != current->options.end())
      return error(Errc::config_duplicate_property, line_no,
                   "Duplicate property '" + key + "' in section [" + current->name + "] (first at line " +
                       std::to_string(it->second.line) + "); the AWS CLI rejects this: keep one");
    RawOption& added = current->options[key];
    added.line = line_no;
    added.lines.push_back({std::string(py_strip(stripped.substr(delim + 1))), line_no});
    option = &added;
    if (name.empty()) {
      option = nullptr;  // an empty name never takes continuation lines
      if (!deferred)
        deferred = error(Errc::config_empty_property_name, line_no,
                         "Property did not have a name; write it as 'name = value'");
    }
  }
  if (deferred) return *deferred;

  ParsedFile out;
  out.kind = kind;
  // botocore parses sub-properties per section, [DEFAULT] values included
  // only where a section inherits them: a bad one is an error only then.
  std::map<std::string, ConfigError, std::less<>> default_errors;
  for (const auto& [key, raw_option] : defaults.options) {
    if (auto e = finish_option(key, raw_option, out.defaults[key])) {
      out.defaults.erase(key);  // unusable: any section inheriting it fails below
      default_errors.emplace(key, std::move(*e));
    }
  }
  out.sections.reserve(sections.size());
  for (const auto& raw : sections) {
    Section& section = out.sections.emplace_back();
    section.name = raw.name;
    section.line = raw.line;
    if (auto e = finish_section(raw.options, section.properties)) return *e;
    for (const auto& [key, e] : default_errors) {
      if (!section.properties.contains(key)) return e;
    }
  }
  return out;
}

ProfileSet merge_profiles(const ParsedFile& config, const ParsedFile& credentials) {
  ProfileSet out;
  for (const auto& section : config.sections) {
    const std::string_view name = section.name;
    SectionMap* target = nullptr;
    if (starts_with(name, "profile"))
      target = &out.profiles;
    else if (starts_with(name, "sso-session"))
      target = &out.sso_sessions;
    else if (starts_with(name, "services"))
      target = &out.services;
    if (target) {
      if (auto word = prefixed_name(name)) (*target)[*word] = with_defaults(config, section);
    } else if (name == "default") {
      out.profiles["default"] = with_defaults(config, section);
    } else {
      out.other_sections[section.name] = with_defaults(config, section);
    }
  }
  for (const auto& section : credentials.sections) {
    Properties& profile = out.profiles[section.name];
    for (auto& [key, property] : with_defaults(credentials, section)) profile[key] = std::move(property);
  }
  return out;
}

const Property* find_property(const Properties& properties, std::string_view name) {
  const auto it = properties.find(name);
  return it == properties.end() ? nullptr : &it->second;
}

Result<ConfigFilePaths> config_file_paths(const Environment& env, Platform platform) {
  const bool posix = platform == Platform::posix;
  auto resolve = [&](std::string_view variable, std::string_view file) -> Result<std::string> {
    const auto* set = env_get(env, variable);
    const std::string path = set ? *set : std::string("~") + (posix ? "/.aws/" : "\\.aws\\") + std::string(file);
    return expand_user(expand_vars(path, env), env, platform);
  };
  auto config = resolve("AWS_CONFIG_FILE", "config");
  if (!config) return config.error();
  auto credentials = resolve("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (!credentials) return credentials.error();
  return ConfigFilePaths{std::move(*config), std::move(*credentials)};
}

std::string selected_profile(const Environment& env, std::string_view cli_profile) {
  if (!cli_profile.empty()) return std::string(cli_profile);
  if (const auto* p = env_get(env, "AWS_PROFILE")) return *p;
  if (const auto* p = env_get(env, "AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}


std::optional<std::vector<std::string>> shell_split(std::string_view s) {
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::vector<std::string> words;
  std::string token;
  bool in_token = false;  // a token has started (possibly empty, as in "")
  char quote = 0;         // inside '...' or "..."
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (quote == '"' && c == '\\') {
        if (++i == s.size()) return std::nullopt;  // "No escaped character"
        if (s[i] != '"' && s[i] != '\\') token += '\\';
        token += s[i];
      } else {
        token += c;
      }
    } else if (is_ws(c)) {
      if (in_token) words.push_back(std::move(token));
      token.clear();
      in_token = false;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_token = true;
    } else if (c == '\\') {
      if (++i == s.size()) return std::nullopt;  // "No escaped character"
      token += s[i];
      in_token = true;
    } else {
      token += c;
      in_token = true;
    }
  }
  if (quote != 0) return std::nullopt;  // "No closing quotation"
  if (in_token) words.push_back(std::move(token));
  return words;
}

}  // namespace ssmc::aws
