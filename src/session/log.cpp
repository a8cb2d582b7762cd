#include "util/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ssmc::log {
namespace {
Level g_level = Level::warn;
std::FILE* g_file = nullptr;
constexpr const char* kNames[] = {"trace", "debug", "info", "warn", "error", "off"};
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

bool set_file(const std::string& path) {
  if (g_file) std::fclose(g_file);
  g_file = nullptr;
  if (path.empty()) return true;
  g_file = std::fopen(path.c_str(), "a");
  return g_file != nullptr;
}

void write(Level l, std::string_view message) {
  std::FILE* out = g_file ? g_file : stderr;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  // A full disk must not take the session down: errors are ignored.
  std::fprintf(out, "%s.%03lld %s %.*s\n", stamp, static_cast<long long>(ms), kNames[static_cast<int>(l)],
               static_cast<int>(message.size()), message.data());
  std::fflush(out);
}

}  // namespace ssmc::log
