// Logging facade: levels + {fmt} format strings, to stderr or a file.
// Never pass secrets (keys, tokens, signatures) to these functions.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace ssmc::log {

enum class Level { trace = 0, debug, info, warn, error, off };

void set_level(Level level);
Level level();
/// Writes to `path` (appending) instead of stderr; "" = stderr. Returns false
/// if the file cannot be opened (stderr stays in use).
bool set_file(const std::string& path);
void write(Level level, std::string_view message);

template <class... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::trace) write(Level::trace, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::error) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace ssmc::log
