// JSON helpers that match Go's encoding/json, the encoder of both official
// implementations: struct field order, no white space, `<`, `>`, `&`,
// U+2028 and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029; and
// reading that, like Go, matches object keys case-insensitively.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ssmc::wire::go_json {

/// Appends `s` as a JSON string literal (quotes included) with Go's escaping.
/// Invalid UTF-8 bytes are replaced by U+FFFD, as Go does.
void append_string(std::string& out, std::string_view s);

/// Appends a JSON value (objects in insertion order) with Go's escaping and
/// Go's float64 format (1e-7, 1e+21, 0.5). A non-finite double, which Go
/// cannot encode and no parser here produces, is written as `null`.
void append_value(std::string& out, const boost::json::value& v);

/// Serializes a value with Go's escaping.
std::string to_string(const boost::json::value& v);

/// Finds `key` in `obj` like Go's Unmarshal assigns a struct field: every key
/// equal under ASCII case folding matches, and the last one in the document
/// wins. nullptr when absent. (Go also folds U+017F and U+212A into s and k;
/// this does not.)
const boost::json::value* find(const boost::json::object& obj, std::string_view key) noexcept;

/// Typed lookups: nullopt when absent or of another JSON type. `null` counts
/// as absent.
std::optional<std::string_view> get_string(const boost::json::object& obj, std::string_view key) noexcept;
std::optional<std::int64_t> get_int(const boost::json::object& obj, std::string_view key) noexcept;
std::optional<bool> get_bool(const boost::json::object& obj, std::string_view key) noexcept;

}  // namespace ssmc::wire::go_json
