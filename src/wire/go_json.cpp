#include "wire/go_json.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace ssmc::wire::go_json {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u(std::string& out, unsigned cp) {
  out += "\\u";
  out += kHex[(cp >> 12) & 0xf];
  out += kHex[(cp >> 8) & 0xf];
  out += kHex[(cp >> 4) & 0xf];
  out += kHex[cp & 0xf];
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
  else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
  else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Reject overlong forms, surrogates and out-of-range code points.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// Go's encoding/json float64 format (floatEncoder): shortest round-trip
// digits, fixed notation for 1e-6 <= |v| < 1e21, otherwise exponent
// notation with at least one exponent digit ("1e-7", "1e+21").
void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {  // Go refuses to encode these; parsers never produce them
    out += "null";
    return;
  }
  constexpr double kFixedMin = 1e-6;
  constexpr double kFixedMax = 1e21;
  const double a = std::fabs(v);
  const bool exponent = a != 0 && (a < kFixedMin || a >= kFixedMax);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v,
                               exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::size_t n = static_cast<std::size_t>(r.ptr - buf);
  // C++ (like strconv) writes at least two exponent digits; Go's JSON
  // encoder trims "e-09" to "e-9".
  if (exponent && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];
    --n;
  }
  out.append(buf, n);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<': case '>': case '&': append_u(out, c); break;
        default:
          if (c < 0x20) append_u(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 / U+2029 (E2 80 A8 / E2 80 A9) are escaped by Go.
    if (n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
      append_u(out, 0x2028u + (static_cast<unsigned char>(s[i + 2]) & 1u));
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

void append_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); break;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case boost::json::kind::double_: append_double(out, v.get_double()); break;
    case boost::json::kind::string: append_string(out, v.get_string()); break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_value(out, e);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, kv.key());
        out += ':';
        append_value(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

std::string to_string(const boost::json::value& v) {
  std::string out;
  append_value(out, v);
  return out;
}

const boost::json::value* find(const boost::json::object& obj, std::string_view key) noexcept {
  // Go assigns every key that matches the field (exactly or under case
  // folding) in document order, so the last one wins.
  const boost::json::value* found = nullptr;
  for (const auto& kv : obj)
    if (iequals(kv.key(), key)) found = &kv.value();
  return found;
}

std::optional<std::string_view> get_string(const boost::json::object& obj, std::string_view key) noexcept {
  const auto* v = find(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

std::optional<std::int64_t> get_int(const boost::json::object& obj, std::string_view key) noexcept {
  const auto* v = find(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::optional<bool> get_bool(const boost::json::object& obj, std::string_view key) noexcept {
  const auto* v = find(obj, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

}  // namespace ssmc::wire::go_json
