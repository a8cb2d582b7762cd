#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <openssl/crypto.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

// Headers the SDK signers never sign: Go SDK v2 `IgnoredHeaders` (Authorization,
// User-Agent, X-Amzn-Trace-Id, Expect, Transfer-Encoding) and aws-c-auth
// `s_skipped_headers` (connection, upgrade, sec-websocket-*), lower case.
constexpr std::array<std::string_view, 10> kUnsignedHeaders = {
    "authorization",          "user-agent",           "x-amzn-trace-id", "expect",
    "transfer-encoding",      "connection",           "upgrade",         "sec-websocket-key",
    "sec-websocket-protocol", "sec-websocket-version"};

// The query parameters that make a URL presigned (02 §1.3, `IsPresignedURL`).
constexpr std::array<std::string_view, 7> kPresignParams = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};

constexpr std::string_view kScopeTerminator = "aws4_request";

// Query names are compared after percent-decoding, as Go's url.Query() does.
bool has_presign_param(const boost::urls::url_view& url) {
  for (const auto& param : url.params()) {
    if (std::find(kPresignParams.begin(), kPresignParams.end(), param.key) != kPresignParams.end()) return true;
  }
  return false;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_pct(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == (y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
         });
}

using EncodedPairs = std::vector<std::pair<std::string, std::string>>;

Result<EncodedPairs> encoded_query_pairs(std::string_view query) {
  EncodedPairs pairs;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    auto name = query_decode(piece.substr(0, eq));
    auto value = query_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
    if (!name || !value) return make_error_code(Errc::bad_percent_encoding);
    pairs.emplace_back(uri_encode(*name), uri_encode(*value));
  }
  return pairs;
}

std::string join_sorted(EncodedPairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string normalize(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const auto seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out;
  for (const auto seg : segments) {
    out += '/';
    out += seg;
  }
  if (out.empty()) return "/";
  if (path.back() == '/') out += '/';
  return out;
}

// One canonical header: lower-case name, canonical (joined) value.
struct CanonicalHeader {
  std::string name;
  std::string value;
};

struct Canonical {
  std::string headers;  // "name:value\n" lines
  std::string signed_headers;
};

Canonical canonical_headers(const Headers& request_headers, const Headers& extra) {
  std::vector<CanonicalHeader> all;
  auto add = [&](const Header& h) {
    auto name = lower(h.name);
    if (std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), name) != kUnsignedHeaders.end()) return;
    all.push_back({std::move(name), canonical_header_value(h.value)});
  };
  for (const auto& h : request_headers) add(h);
  for (const auto& h : extra) add(h);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Canonical out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].name == all[i - 1].name) {
      out.headers.back() = ',';  // replace the '\n' of the previous line
      out.headers += all[i].value;
      out.headers += '\n';
      continue;
    }
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += all[i].name;
    out.headers += all[i].name;
    out.headers += ':';
    out.headers += all[i].value;
    out.headers += '\n';
  }
  return out;
}

const Header* find_header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

// What every signing mode shares: validated scope pieces and payload hash.
struct Prepared {
  std::string amz_date;
  std::string scope;  // date/region/service/aws4_request
  std::string payload_hash;
  std::string canonical_uri;
  const std::string* token = nullptr;  // non-empty session token or null
};

Result<Prepared> prepare(const HttpRequest& request, const Credentials& credentials, const SigningParams& params) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    return make_error_code(Errc::missing_credentials);
  if (params.region.empty() || params.service.empty()) return make_error_code(Errc::missing_scope);
  if (!find_header(request.headers, "host")) return make_error_code(Errc::missing_host_header);
  Prepared p;
  auto date = format_amz_date(params.time);
  if (!date) return date.error();
  p.amz_date = std::move(*date);
  p.scope = p.amz_date.substr(0, 8) + '/' + params.region + '/' + params.service + '/' + std::string(kScopeTerminator);
  p.payload_hash = request.payload_hash.empty() ? crypto::to_hex(crypto::sha256(request.body)) : request.payload_hash;
  auto uri = canonical_uri(request.path, params.normalize_path, params.double_uri_encode);
  if (!uri) return uri.error();
  p.canonical_uri = std::move(*uri);
  if (credentials.session_token && !credentials.session_token->empty()) p.token = &*credentials.session_token;
  return p;
}

void finish(SigningDetails& d, const HttpRequest& request, const Prepared& p, const std::string& canonical_query,
            const Canonical& headers, const Credentials& credentials, const SigningParams& params) {
  d.signed_headers = headers.signed_headers;
  d.canonical_request = build_canonical_request(request.method, p.canonical_uri, canonical_query, headers.headers,
                                                headers.signed_headers, p.payload_hash);
  d.string_to_sign = build_string_to_sign(p.amz_date, p.scope, d.canonical_request);
  const auto key = signing_key(credentials.secret_access_key, std::string_view(p.amz_date).substr(0, 8), params.region,
                               params.service);
  d.signature = compute_signature(key, d.string_to_sign);
}

}  // namespace

Result<std::string> format_amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto t = floor<seconds>(time);
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 1970 || year > 9999) return make_error_code(Errc::bad_signing_time);
  const hh_mm_ss hms{t - day};
  std::string out;
  out.reserve(16);
  auto put = [&out](long value, int width) {
    std::string digits = std::to_string(value);
    out.append(static_cast<std::size_t>(width) - std::min<std::size_t>(digits.size(), width), '0');
    out += digits;
  };
  put(year, 4);
  put(static_cast<unsigned>(ymd.month()), 2);
  put(static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  put(hms.hours().count(), 2);
  put(hms.minutes().count(), 2);
  put(static_cast<long>(hms.seconds().count()), 2);
  out += 'Z';
  return out;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/'))
      out += ch;
    else
      append_pct(out, c);
  }
  return out;
}

Result<std::string> canonical_uri(std::string_view path, bool normalize_path, bool double_uri_encode) {
  if (path.empty()) return std::string("/");
  const std::string normalized = normalize_path ? normalize(path) : std::string(path);
  if (double_uri_encode) return uri_encode(normalized, true);
  // Single encoding: the wire path is taken as already encoded; keep its
  // escapes, encode whatever could not appear unencoded.
  std::string out;
  out.reserve(normalized.size());
  for (std::size_t i = 0; i < normalized.size(); ++i) {
    const auto c = static_cast<unsigned char>(normalized[i]);
    if (c == '%') {
      if (i + 2 >= normalized.size() || hex_value(normalized[i + 1]) < 0 || hex_value(normalized[i + 2]) < 0)
        return make_error_code(Errc::bad_percent_encoding);
      out += normalized.substr(i, 3);
      i += 2;
    } else if (is_unreserved(c) || c == '/') {
      out += static_cast<char>(c);
    } else {
      append_pct(out, c);
    }
  }
  return out;
}

Result<std::string> canonical_query(std::string_view query) {
  auto pairs = encoded_query_pairs(query);
  if (!pairs) return pairs.error();
  return join_sorted(std::move(*pairs));
}

std::string canonical_header_value(std::string_view value) {
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (const char c : value) {
    if (is_ws(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string build_canonical_request(std::string_view method, std::string_view canonical_uri,
                                    std::string_view canonical_query, std::string_view canonical_headers,
                                    std::string_view signed_headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + canonical_uri.size() + canonical_query.size() + canonical_headers.size() +
              signed_headers.size() + payload_hash.size() + 5);
  out.append(method).append(1, '\n').append(canonical_uri).append(1, '\n').append(canonical_query).append(1, '\n');
  out.append(canonical_headers).append(1, '\n').append(signed_headers).append(1, '\n').append(payload_hash);
  return out;
}

std::string build_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.append(1, '\n').append(amz_date).append(1, '\n').append(scope).append(1, '\n');
  out += crypto::to_hex(crypto::sha256(canonical_request));
  return out;
}

std::string compute_signature(const crypto::Sha256Digest& key, std::string_view string_to_sign) {
  return crypto::to_hex(crypto::hmac_sha256(
      key, std::span(reinterpret_cast<const std::uint8_t*>(string_to_sign.data()), string_to_sign.size())));
}

crypto::Sha256Digest signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                                 std::string_view service) {
  std::string k = "AWS4";
  k += secret_access_key;
  auto as_view = [](const crypto::Sha256Digest& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
  };
  auto key = crypto::hmac_sha256(k, date);
  OPENSSL_cleanse(k.data(), k.size());
  key = crypto::hmac_sha256(as_view(key), region);
  key = crypto::hmac_sha256(as_view(key), service);
  return crypto::hmac_sha256(as_view(key), kScopeTerminator);
}

Result<HeaderSigning> sign_headers(const HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params) {
  auto prepared = prepare(request, credentials, params);
  if (!prepared) return prepared.error();
  const Prepared& p = *prepared;

  HeaderSigning out;
  Headers signed_extra;  // added headers that are signed
  // Adds `name: value` unless the request has it; a different value there is a conflict.
  auto add = [&](std::string_view name, const std::string& value, bool sign) -> bool {
    if (const Header* existing = find_header(request.headers, name)) return existing->value == value;
    out.headers.push_back({std::string(name), value});
    if (sign) signed_extra.push_back(out.headers.back());
    return true;
  };
  if (p.token && !add("X-Amz-Security-Token", *p.token, !params.omit_session_token))
    return make_error_code(Errc::conflicting_header);
  if (!add("X-Amz-Date", p.amz_date, true)) return make_error_code(Errc::conflicting_header);
  if (params.add_content_sha256_header && !add("x-amz-content-sha256", p.payload_hash, true))
    return make_error_code(Errc::conflicting_header);

  auto query = canonical_query(request.query);
  if (!query) return query.error();
  const Canonical headers = canonical_headers(request.headers, signed_extra);
  finish(out, request, p, *query, headers, credentials, params);
  out.headers.push_back({"Authorization", std::string(kSigV4Algorithm) + " Credential=" + credentials.access_key_id +
                                              '/' + p.scope + ", SignedHeaders=" + out.signed_headers +
                                              ", Signature=" + out.signature});
  return out;
}

Result<QuerySigning> presign_query(const HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params) {
  if (params.expires < std::chrono::seconds(1) || params.expires > kMaxPresignExpiry)
    return make_error_code(Errc::bad_expiry);
  auto prepared = prepare(request, credentials, params);
  if (!prepared) return prepared.error();
  const Prepared& p = *prepared;

  auto pairs = encoded_query_pairs(request.query);
  if (!pairs) return pairs.error();
  const Canonical headers = canonical_headers(request.headers, {});

  QuerySigning out;
  out.params = {
      {"X-Amz-Algorithm", std::string(kSigV4Algorithm)},
      {"X-Amz-Credential", uri_encode(credentials.access_key_id + '/' + p.scope)},
      {"X-Amz-Date", p.amz_date},
      {"X-Amz-SignedHeaders", uri_encode(headers.signed_headers)},
      {"X-Amz-Expires", std::to_string(params.expires.count())},
  };
  if (p.token) out.params.emplace_back("X-Amz-Security-Token", uri_encode(*p.token));
  EncodedPairs signed_pairs = std::move(*pairs);
  const std::size_t signed_count = (p.token && params.omit_session_token) ? out.params.size() - 1 : out.params.size();
  signed_pairs.insert(signed_pairs.end(), out.params.begin(),
                      out.params.begin() + static_cast<std::ptrdiff_t>(signed_count));
  finish(out, request, p, join_sorted(std::move(signed_pairs)), headers, credentials, params);
  out.params.emplace_back("X-Amz-Signature", out.signature);

  out.query = request.query;
  for (const auto& [name, value] : out.params) {
    if (!out.query.empty()) out.query += '&';
    out.query += name;
    out.query += '=';
    out.query += value;
  }
  return out;
}

Result<bool> is_presigned_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  // result<bool> cannot be built implicitly from an error_code (bool would also match).
  if (!parsed) return Result<bool>(boost::system::in_place_error, make_error_code(Errc::bad_url));
  return has_presign_param(*parsed);
}

Result<WebSocketUpgradeSigning> sign_websocket_upgrade(std::string_view url, std::string_view region,
                                                       const Credentials& credentials,
                                                       std::chrono::system_clock::time_point time) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return make_error_code(Errc::bad_url);
  const auto scheme = parsed->scheme();
  if (!iequals(scheme, "wss") && !iequals(scheme, "ws")) return make_error_code(Errc::unsupported_url_scheme);
  if (parsed->encoded_host().empty()) return make_error_code(Errc::missing_url_host);
  if (has_presign_param(*parsed)) return make_error_code(Errc::url_already_presigned);

  WebSocketUpgradeSigning out;
  out.host = parsed->encoded_host_and_port();
  out.target = parsed->encoded_path();
  if (out.target.empty()) out.target = "/";
  if (parsed->has_query()) {
    out.target += '?';
    out.target += parsed->encoded_query();
  }

  HttpRequest request;
  request.method = "GET";
  request.path = parsed->encoded_path();
  request.query = parsed->encoded_query();
  request.headers = {{"host", out.host}};
  request.payload_hash = kEmptyPayloadHash;
  SigningParams params;
  params.region = region;
  params.service = kSsmMessagesService;
  params.time = time;
  params.normalize_path = false;  // the Go signers do not normalize (02 §1.2)
  auto signed_request = sign_headers(request, credentials, params);
  if (!signed_request) return signed_request.error();

  static_cast<SigningDetails&>(out) = std::move(static_cast<SigningDetails&>(*signed_request));
  // sign_headers appends [X-Amz-Security-Token,] X-Amz-Date, Authorization;
  // 02 §1.2 lists them as X-Amz-Date, Authorization[, X-Amz-Security-Token].
  for (auto& h : signed_request->headers)
    if (h.name != "X-Amz-Security-Token") out.headers.push_back(std::move(h));
  if (const auto* token = find_header(signed_request->headers, "X-Amz-Security-Token")) out.headers.push_back(*token);
  return out;
}

std::optional<std::string> query_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace ssmc::aws
