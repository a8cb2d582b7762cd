#include "aws/credential_codecs.hpp"

#include "aws/config_file.hpp"

#include <openssl/evp.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/throw_exception.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

CredentialError fail(Errc code, std::string message) { return {make_error_code(code), std::move(message)}; }

// --- Civil calendar (proleptic Gregorian, H. Hinnant's algorithms) -------------

constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  return true;
}

// Reads exactly `n` digits at s[i]; advances i.
bool read_digits(std::string_view s, std::size_t& i, std::size_t n, int& out) {
  if (i + n > s.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!is_digit(s[i + k])) return false;
    v = v * 10 + (s[i + k] - '0');
  }
  out = v;
  i += n;
  return true;
}

// Parses a zone designator (the whole rest of `s`); sets the offset east of
// UTC in seconds.
bool parse_zone(std::string_view s, std::int64_t& offset) {
  offset = 0;
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty()) return true;
  if (s == "Z" || s == "z" || iequals(s, "UTC") || iequals(s, "GMT")) return true;
  if (s.front() != '+' && s.front() != '-') return false;
  const int sign = s.front() == '-' ? -1 : 1;
  std::size_t i = 1;
  int hh = 0, mm = 0;
  if (!read_digits(s, i, 2, hh)) return false;
  if (i < s.size() && s[i] == ':') ++i;
  if (i < s.size() && !read_digits(s, i, 2, mm)) return false;
  if (i != s.size() || hh > 23 || mm > 59) return false;
  offset = sign * (static_cast<std::int64_t>(hh) * 3600 + mm * 60);
  return true;
}

// --- JSON helpers -----------------------------------------------------------------

const json::value* member(const json::object& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &it->value();
}

// A string member: nullopt when absent or null; `bad` set when another type.
std::optional<std::string> string_member(const json::object& object, std::string_view key, bool& bad) {
  const json::value* v = member(object, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    bad = true;
    return std::nullopt;
  }
  return std::string(v->get_string());
}

Result<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return std::error_code(ec);
  if (!value.is_object()) return make_error_code(std::errc::invalid_argument);
  return std::move(value.get_object());
}

std::string json_kind(std::string_view text) {
  boost::system::error_code ec;
  const json::value value = json::parse(text, ec);
  if (ec) return "not valid JSON (" + ec.message() + ")";
  switch (value.kind()) {
    case json::kind::array:
      return "a JSON array, not an object";
    case json::kind::string:
      return "a JSON string, not an object";
    case json::kind::null:
      return "JSON null, not an object";
    case json::kind::bool_:
      return "a JSON boolean, not an object";
    default:
      return "a JSON number, not an object";
  }
}

// Numeric JSON value as a double (for Python-style equality and epoch ms).
// (A bool + out parameter: g++ 12 warns falsely about optional<double>.)
bool number_value(const json::value* v, double& out) {
  out = 0;
  if (!v) return false;
  if (v->is_int64()) {
    out = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    out = static_cast<double>(v->get_uint64());
  } else if (v->is_double()) {
    out = v->get_double();
  } else {
    return false;
  }
  return true;
}

std::optional<std::string> empty_to_none(std::optional<std::string> s) {
  if (s && s->empty()) return std::nullopt;
  return s;
}

// Reads the four-key credential object shared by the metadata services.
CredentialResult<SourcedCredentials> credentials_from(const json::object& object, std::string_view what,
                                                      std::string_view token_key, bool token_required, Errc code) {
  SourcedCredentials out;
  bool bad = false;
  auto id = string_member(object, "AccessKeyId", bad);
  auto secret = string_member(object, "SecretAccessKey", bad);
  auto token = string_member(object, token_key, bad);
  auto expiration = string_member(object, "Expiration", bad);
  auto account = string_member(object, "AccountId", bad);
  if (bad) return fail(code, std::string(what) + " has a credential member that is not a string");
  if (!id) return fail(code, std::string(what) + " lacks AccessKeyId");
  if (!secret) return fail(code, std::string(what) + " lacks SecretAccessKey");
  if (token_required && !token) return fail(code, std::string(what) + " lacks " + std::string(token_key));
  out.credentials.access_key_id = std::move(*id);
  out.credentials.secret_access_key = std::move(*secret);
  out.credentials.session_token = empty_to_none(std::move(token));
  out.account_id = empty_to_none(std::move(account));
  if (expiration) {
    auto t = parse_iso8601(*expiration);
    if (!t) return fail(code, std::string(what) + " has an Expiration that is not an ISO-8601 time");
    out.credentials.expiration = *t;
  }
  return out;
}

TimePoint from_epoch_ms(double ms) {
  const double max_ms =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::duration::max()).count()) -
      1000.0;
  if (ms >= max_ms) return TimePoint::max();
  if (ms <= -max_ms) return TimePoint::min();
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(ms)))));
}

}  // namespace

void throw_exception_from_error(const CredentialError& error, const boost::source_location& location) {
  boost::throw_with_location(std::system_error(error.code, error.message), location);
}

// --- Time -------------------------------------------------------------------

Result<TimePoint> parse_iso8601(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  const auto bad = make_error_code(Errc::bad_timestamp);
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t nanos = 0;
  if (!read_digits(text, i, 4, year)) return bad;
  const bool extended = i < text.size() && text[i] == '-';
  if (extended) ++i;
  if (!read_digits(text, i, 2, month)) return bad;
  if (extended && (i >= text.size() || text[i++] != '-')) return bad;
  if (!read_digits(text, i, 2, day)) return bad;
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
    return bad;
  std::string_view zone;
  if (i < text.size() && (text[i] == 'T' || text[i] == 't' || text[i] == ' ') && i + 1 < text.size() &&
      is_digit(text[i + 1])) {
    ++i;
    if (!read_digits(text, i, 2, hour)) return bad;
    const bool colon = i < text.size() && text[i] == ':';
    if (colon) ++i;
    if (!read_digits(text, i, 2, minute)) return bad;
    if (i < text.size() && ((colon && text[i] == ':') || (!colon && is_digit(text[i])))) {
      if (colon) ++i;
      if (!read_digits(text, i, 2, second)) return bad;
      if (i + 1 < text.size() && (text[i] == '.' || text[i] == ',') && is_digit(text[i + 1])) {
        ++i;
        std::int64_t scale = 100000000;
        while (i < text.size() && is_digit(text[i])) {
          nanos += (text[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return bad;
  }
  zone = text.substr(i);
  std::int64_t offset = 0;
  if (!parse_zone(zone, offset)) return bad;

  const std::int64_t seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                               hour * 3600 + minute * 60 + second - offset;
  using namespace std::chrono;
  const std::int64_t max_seconds = duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() - 1;
  if (seconds >= max_seconds) return TimePoint::max();
  if (seconds <= -max_seconds) return TimePoint::min();
  return TimePoint(duration_cast<TimePoint::duration>(std::chrono::seconds(seconds)) +
                   duration_cast<TimePoint::duration>(nanoseconds(nanos)));
}

std::string format_iso8601(TimePoint time) {
  using namespace std::chrono;
  const auto t = floor<seconds>(time);
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// --- Command line -------------------------------------------------------------

Result<std::vector<std::string>> split_command_line(std::string_view s) {
  auto words = shell_split(s);
  if (!words) return make_error_code(Errc::credential_process_bad_command);
  return std::move(*words);
}

// --- Hashes and Python JSON text -------------------------------------------------

std::string sha1_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(SHA-1) failed");  // broken OpenSSL installation
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0F];
  }
  return out;
}

std::string python_json_string(std::string_view data) {
  std::string out = "\"";
  auto u16 = [&out](unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", v & 0xFFFFu);
    out += buf;
  };
  std::size_t i = 0;
  while (i < data.size()) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            if (c == 0x7F)
              out += static_cast<char>(c);  // json.dumps keeps DEL as is
            else
              u16(c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence (strict); invalid bytes become U+FFFD.
    std::size_t len = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = len != 0 && i + len <= data.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(data[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!ok) {
      u16(0xFFFD);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      u16(static_cast<unsigned>(0xD800 + (v >> 10)));
      u16(static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
    } else {
      u16(static_cast<unsigned>(cp));
    }
    i += len;
  }
  out += '"';
  return out;
}

std::string assume_role_cache_key(const AssumeRoleCacheArgs& args) {
  // Keys in sorted order: DurationSeconds, ExternalId, RoleArn, RoleSessionName, SerialNumber.
  std::string text = "{";
  auto add = [&text](std::string_view key, const std::string& value_json) {
    if (text.size() > 1) text += ", ";
    text += python_json_string(key);
    text += ": ";
    text += value_json;
  };
  if (args.duration_seconds) add("DurationSeconds", std::to_string(*args.duration_seconds));
  if (args.external_id) add("ExternalId", python_json_string(*args.external_id));
  add("RoleArn", python_json_string(args.role_arn));
  if (args.role_session_name) add("RoleSessionName", python_json_string(*args.role_session_name));
  if (args.serial_number) add("SerialNumber", python_json_string(*args.serial_number));
  text += "}";
  return sha1_hex(text);
}

std::string sso_credentials_cache_key(std::string_view account_id, std::string_view role_name,
                                      std::string_view session_name, std::string_view start_url) {
  std::string text =
      "{\"accountId\":" + python_json_string(account_id) + ",\"roleName\":" + python_json_string(role_name);
  if (!session_name.empty())
    text += ",\"sessionName\":" + python_json_string(session_name);
  else
    text += ",\"startUrl\":" + python_json_string(start_url);
  text += "}";
  return sha1_hex(text);
}

std::string sso_token_cache_key(std::string_view session_name, std::string_view start_url) {
  return sha1_hex(session_name.empty() ? start_url : session_name);
}

// --- credential_process -----------------------------------------------------------

CredentialResult<SourcedCredentials> parse_credential_process_output(std::string_view stdout_text) {
  constexpr Errc code = Errc::credential_process_bad_output;
  auto object = parse_object(stdout_text);
  if (!object)
    return fail(code, "credential_process output is " + json_kind(stdout_text) +
                          "; the program must print one JSON object with Version 1");
  const json::value* version = member(*object, "Version");
  bool version_ok = false;
  std::string version_text = "no Version";
  if (version) {
    if (version->is_bool()) {
      version_ok = version->get_bool();  // Python: True == 1
      version_text = version_ok ? "Version true" : "Version false";
    } else if (double n = 0; number_value(version, n)) {
      version_ok = n == 1.0;
      version_text = "Version " + json::serialize(*version);
    } else {
      version_text = "a non-numeric Version";
    }
  }
  if (!version_ok)
    return fail(code, "credential_process output has " + version_text +
                          ", but only Version 1 is supported; print \"Version\": 1");
  auto out = credentials_from(*object, "credential_process output", "SessionToken", false, code);
  if (!out) {
    auto e = out.error();
    e.message += "; print AccessKeyId and SecretAccessKey (and SessionToken/Expiration for temporary credentials)";
    return e;
  }
  // A non-string Expiration (e.g. a number) is rejected like a malformed one.
  if (const json::value* e = member(*object, "Expiration"); e && !e->is_null() && !e->is_string())
    return fail(code, "credential_process output has an Expiration that is not an ISO-8601 string");
  return out;
}

// --- Metadata services --------------------------------------------------------------

CredentialResult<SourcedCredentials> parse_metadata_credentials(std::string_view body) {
  constexpr Errc code = Errc::bad_credential_response;
  auto object = parse_object(body);
  if (!object) return fail(code, "the credentials response is " + json_kind(body));
  auto out = credentials_from(*object, "the credentials response", "Token", true, code);
  if (out && !out->credentials.expiration) return fail(code, "the credentials response lacks Expiration");
  return out;
}

bool is_valid_json(std::string_view body) {
  boost::system::error_code ec;
  (void)json::parse(body, ec);
  return !ec;
}

// --- SSO -------------------------------------------------------------------------------

CredentialResult<SsoToken> parse_sso_token(std::string_view text) {
  auto object = parse_object(text);
  if (!object) return fail(Errc::sso_token_missing, "the cached SSO token is " + json_kind(text));
  bool bad = false;
  SsoToken token;
  auto access = string_member(*object, "accessToken", bad);
  auto expires = string_member(*object, "expiresAt", bad);
  token.start_url = string_member(*object, "startUrl", bad);
  token.region = string_member(*object, "region", bad);
  token.refresh_token = string_member(*object, "refreshToken", bad);
  token.client_id = string_member(*object, "clientId", bad);
  token.client_secret = string_member(*object, "clientSecret", bad);
  token.registration_expires_at = string_member(*object, "registrationExpiresAt", bad);
  if (bad) return fail(Errc::sso_token_missing, "the cached SSO token has a member that is not a string");
  if (!access || !expires) return fail(Errc::sso_token_missing, "the cached SSO token lacks accessToken or expiresAt");
  auto t = parse_iso8601(*expires);
  if (!t) return fail(Errc::bad_timestamp, "the cached SSO token's expiresAt is not an ISO-8601 time");
  token.access_token = std::move(*access);
  token.expires_at = *t;
  return token;
}

std::string serialize_sso_token(const SsoToken& token) {
  json::object o;
  if (token.start_url) o["startUrl"] = *token.start_url;
  if (token.region) o["region"] = *token.region;
  o["accessToken"] = token.access_token;
  o["expiresAt"] = format_iso8601(token.expires_at);
  if (token.client_id) o["clientId"] = *token.client_id;
  if (token.client_secret) o["clientSecret"] = *token.client_secret;
  if (token.registration_expires_at) o["registrationExpiresAt"] = *token.registration_expires_at;
  if (token.refresh_token) o["refreshToken"] = *token.refresh_token;
  return json::serialize(o);
}

std::string create_token_refresh_body(const SsoToken& token) {
  json::object o;
  o["clientId"] = token.client_id.value_or("");
  o["clientSecret"] = token.client_secret.value_or("");
  o["grantType"] = "refresh_token";
  o["refreshToken"] = token.refresh_token.value_or("");
  return json::serialize(o);
}

CredentialResult<CreateTokenResult> parse_create_token_response(std::string_view body) {
  constexpr Errc code = Errc::bad_credential_response;
  auto object = parse_object(body);
  if (!object) return fail(code, "the SSO OIDC CreateToken response is " + json_kind(body));
  bool bad = false;
  CreateTokenResult out;
  auto access = string_member(*object, "accessToken", bad);
  out.refresh_token = empty_to_none(string_member(*object, "refreshToken", bad));
  double seconds = 0;
  const bool have_seconds = number_value(member(*object, "expiresIn"), seconds);
  if (bad || !access || !have_seconds || !std::isfinite(seconds) || seconds < 0 || seconds > 1e9)
    return fail(code, "the SSO OIDC CreateToken response lacks accessToken or a valid expiresIn");
  out.access_token = std::move(*access);
  out.expires_in = std::chrono::seconds(static_cast<std::int64_t>(seconds));
  return out;
}

CredentialResult<Credentials> parse_sso_role_credentials(std::string_view body) {
  constexpr Errc code = Errc::bad_credential_response;
  auto object = parse_object(body);
  if (!object) return fail(code, "the SSO GetRoleCredentials response is " + json_kind(body));
  const json::value* role = member(*object, "roleCredentials");
  if (!role || !role->is_object()) return fail(code, "the SSO GetRoleCredentials response lacks roleCredentials");
  const json::object& rc = role->get_object();
  bool bad = false;
  auto id = string_member(rc, "accessKeyId", bad);
  auto secret = string_member(rc, "secretAccessKey", bad);
  auto token = string_member(rc, "sessionToken", bad);
  double ms = 0;
  const bool have_ms = number_value(member(rc, "expiration"), ms);
  if (bad || !id || !secret || !token || !have_ms || !std::isfinite(ms))
    return fail(code,
                "the SSO GetRoleCredentials response lacks accessKeyId, secretAccessKey, sessionToken or expiration");
  Credentials c;
  c.access_key_id = std::move(*id);
  c.secret_access_key = std::move(*secret);
  c.session_token = empty_to_none(std::move(token));
  c.expiration = from_epoch_ms(ms);
  return c;
}

std::string json_error_message(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return {};
  bool bad = false;
  for (std::string_view key : {"message", "Message", "error_description"}) {
    if (auto m = string_member(*object, key, bad)) return *m;
  }
  return {};
}

// --- CLI cache ---------------------------------------------------------------------------

CredentialResult<CachedCredentials> parse_cached_credentials(std::string_view text) {
  constexpr Errc code = Errc::bad_credential_response;
  auto object = parse_object(text);
  if (!object) return fail(code, "the cached credentials file is " + json_kind(text));
  const json::value* creds = member(*object, "Credentials");
  if (!creds || !creds->is_object()) return fail(code, "the cached credentials file lacks Credentials");
  auto out = credentials_from(creds->get_object(), "the cached credentials file", "SessionToken", true, code);
  if (!out) return out.error();
  if (!out->credentials.expiration) return fail(code, "the cached credentials file lacks Expiration");
  CachedCredentials cached;
  cached.credentials = std::move(out->credentials);
  if (const json::value* user = member(*object, "AssumedRoleUser"); user && user->is_object()) {
    bool bad = false;
    cached.assumed_role_arn = string_member(user->get_object(), "Arn", bad);
  }
  return cached;
}

std::string serialize_cached_credentials(const Credentials& credentials, std::string_view assumed_role_id,
                                         std::string_view assumed_role_arn, std::string_view provider_type) {
  json::object o;
  if (!provider_type.empty()) o["ProviderType"] = provider_type;
  json::object c;
  c["AccessKeyId"] = credentials.access_key_id;
  c["SecretAccessKey"] = credentials.secret_access_key;
  c["SessionToken"] = credentials.session_token.value_or("");
  if (credentials.expiration) c["Expiration"] = format_iso8601(*credentials.expiration);
  o["Credentials"] = std::move(c);
  if (!assumed_role_arn.empty() || !assumed_role_id.empty()) {
    json::object u;
    u["AssumedRoleId"] = assumed_role_id;
    u["Arn"] = assumed_role_arn;
    o["AssumedRoleUser"] = std::move(u);
  }
  return json::serialize(o);
}

std::optional<std::string> account_id_from_arn(std::string_view arn) {
  // arn:partition:service:region:account-id:resource
  std::size_t start = 0;
  for (int field = 0; field < 4; ++field) {
    const auto colon = arn.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    start = colon + 1;
  }
  if (arn.substr(0, 4) != "arn:") return std::nullopt;
  const auto end = arn.find(':', start);
  if (end == std::string_view::npos || end == start) return std::nullopt;
  const auto account = arn.substr(start, end - start);
  for (char c : account)
    if (!is_digit(c)) return std::nullopt;
  return std::string(account);
}

}  // namespace ssmc::aws
