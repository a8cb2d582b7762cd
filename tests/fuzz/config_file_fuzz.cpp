// libFuzzer target for the AWS config/credentials file parser
// (src/aws/config_file.hpp).
//
// The input is parsed as a config file and as a credentials file. Invariants:
// never crash; the result does not depend on the kind except for the advice
// in error messages (same code, same line); an error's message starts with
// "line <line>: " and its line exists; on success every property's line is a
// real line, nested values start with '\n', and mapping the sections to
// profiles (config + credentials) works.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/config_file.hpp"

namespace {

using namespace ssmc::aws;

void check(bool ok) {
  if (!ok) std::abort();
}

std::size_t line_count(std::string_view text) {
  std::size_t lines = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++lines;
  }
  return lines;
}

void check_properties(const Properties& properties, std::size_t lines) {
  for (const auto& [key, property] : properties) {
    check(property.line >= 1 && property.line <= lines);
    check(property.nested == (!property.value.empty() && property.value.front() == '\n'));
    check(property.nested || property.sub_properties.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t lines = line_count(text);
  auto config = parse_config_file(text, FileKind::config);
  auto credentials = parse_config_file(text, FileKind::credentials);
  check(config.has_value() == credentials.has_value());
  if (!config) {
    const ConfigError& e = config.error();
    check(e.code == credentials.error().code && e.line == credentials.error().line);
    check(e.line >= 1 && e.line <= lines);
    check(e.message.rfind("line " + std::to_string(e.line) + ": ", 0) == 0);
    return 0;
  }
  check_properties(config->defaults, lines);
  for (const auto& section : config->sections) {
    check(section.line >= 1 && section.line <= lines);
    check_properties(section.properties, lines);
  }
  const ProfileSet profiles = merge_profiles(*config, *credentials);
  // Every credentials-file section becomes a profile of the same name.
  for (const auto& section : credentials->sections) check(profiles.profiles.contains(section.name));
  return 0;
}
