#include "session/version.hpp"

#include <charconv>
#include <vector>

namespace ssmc::session {
namespace {
bool split(std::string_view v, std::vector<unsigned long>& out) {
  if (v.empty()) return false;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    auto dot = v.find('.', pos);
    if (dot == std::string_view::npos) dot = v.size();
    unsigned long n = 0;
    auto [p, ec] = std::from_chars(v.data() + pos, v.data() + dot, n);
    if (ec != std::errc{} || p != v.data() + dot) return false;
    out.push_back(n);
    pos = dot + 1;
  }
  return true;
}
}  // namespace

bool version_greater(std::string_view a, std::string_view b) {
  std::vector<unsigned long> x, y;
  if (!split(a, x) || !split(b, y)) return false;
  const std::size_t n = std::max(x.size(), y.size());
  x.resize(n, 0);
  y.resize(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] > y[i];
  }
  return false;
}

}  // namespace ssmc::session
