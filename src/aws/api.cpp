#include "aws/api.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/throw_exception.hpp>
#include <cmath>

#include "aws/errors.hpp"
#include "crypto/base64.hpp"

namespace ssmc::aws {
namespace {

namespace json = boost::json;

struct OperationInfo {
  Operation op;
  std::string_view name;
  std::string_view target;
  Service service;
  std::string_view permission;  // IAM action
};

constexpr std::array<OperationInfo, 6> kOperations = {{
    {Operation::start_session, "StartSession", "AmazonSSM.StartSession", Service::ssm, "ssm:StartSession"},
    {Operation::resume_session, "ResumeSession", "AmazonSSM.ResumeSession", Service::ssm, "ssm:ResumeSession"},
    {Operation::terminate_session, "TerminateSession", "AmazonSSM.TerminateSession", Service::ssm,
     "ssm:TerminateSession"},
    {Operation::describe_instance_information, "DescribeInstanceInformation", "AmazonSSM.DescribeInstanceInformation",
     Service::ssm, "ssm:DescribeInstanceInformation"},
    {Operation::generate_data_key, "GenerateDataKey", "TrentService.GenerateDataKey", Service::kms,
     "kms:GenerateDataKey"},
    {Operation::decrypt, "Decrypt", "TrentService.Decrypt", Service::kms, "kms:Decrypt"},
}};

const OperationInfo& info(Operation op) { return kOperations.at(static_cast<std::size_t>(op)); }

// --- Error code lists -------------------------------------------------------

// botocore 1.43.11 retries/standard.py ThrottledRetryableChecker (the union
// of throttling codes seen across services).
constexpr std::array<std::string_view, 14> kThrottlingCodes = {"Throttling",
                                                               "ThrottlingException",
                                                               "ThrottledException",
                                                               "RequestThrottledException",
                                                               "TooManyRequestsException",
                                                               "ProvisionedThroughputExceededException",
                                                               "TransactionInProgressException",
                                                               "RequestLimitExceeded",
                                                               "BandwidthLimitExceeded",
                                                               "LimitExceededException",
                                                               "RequestThrottled",
                                                               "SlowDown",
                                                               "PriorRequestNotComplete",
                                                               "EC2ThrottledException"};

// botocore TransientRetryableChecker codes, plus the 5xx codes of SSM/KMS
// models (InternalServerError, KMSInternalException, DependencyTimeoutException)
// and coral's generic ones, for when a proxy turns the status into 400.
constexpr std::array<std::string_view, 10> kTransientCodes = {"RequestTimeout",
                                                              "RequestTimeoutException",
                                                              "InternalServerError",
                                                              "InternalFailure",
                                                              "InternalError",
                                                              "ServiceUnavailable",
                                                              "ServiceUnavailableException",
                                                              "KMSInternalException",
                                                              "DependencyTimeoutException",
                                                              "KeyUnavailableException"};

constexpr std::array<std::string_view, 20> kAuthCodes = {"AccessDenied",
                                                         "AccessDeniedException",
                                                         "UnrecognizedClientException",
                                                         "InvalidClientTokenId",
                                                         "InvalidSignatureException",
                                                         "SignatureDoesNotMatch",
                                                         "IncompleteSignature",
                                                         "IncompleteSignatureException",
                                                         "MissingAuthenticationToken",
                                                         "MissingAuthenticationTokenException",
                                                         "ExpiredToken",
                                                         "ExpiredTokenException",
                                                         "RequestExpired",
                                                         "RequestTimeTooSkewed",
                                                         "InvalidAccessKeyId",
                                                         "AuthFailure",
                                                         "UnauthorizedOperation",
                                                         "NotAuthorized",
                                                         "InvalidToken",
                                                         "AuthorizationError"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

const Header* find_header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Replaces the value after every "x-amz-security-token" (any case) followed
// by ':' or '=' (header dump, canonical request, query) with "****".
std::string redact_tokens(std::string_view text) {
  static constexpr std::string_view kName = "x-amz-security-token";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= kName.size() && iequals(text.substr(i, kName.size()), kName)) {
      std::size_t j = i + kName.size();
      if (j < text.size() && (text[j] == ':' || text[j] == '=')) {
        out.append(text.substr(i, j + 1 - i));
        ++j;
        while (j < text.size() && text[j] == ' ') out += text[j++];
        const std::size_t start = j;
        while (j < text.size() && text[j] != '\n' && text[j] != '\r' && text[j] != '\'' && text[j] != '"' &&
               text[j] != '&' && text[j] != ' ' && text[j] != ',' && text[j] != ';')
          ++j;
        if (j > start) out += "****";
        i = j;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// After a length limit cut a redacted text, it may end in a token's name and
// separator with the (already removed) value cut off: drop that dangling key,
// so no "x-amz-security-token=" is followed by text of ours (e.g. " (HTTP
// 400)") that reads as its value. Parsing the result again is a no-op.
std::string drop_dangling_token_key(std::string text) {
  static constexpr std::string_view kName = "x-amz-security-token";
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == ' ') --end;
  if (end == 0 || (text[end - 1] != '=' && text[end - 1] != ':') || end - 1 < kName.size()) return text;
  const std::size_t key = end - 1 - kName.size();
  if (iequals(std::string_view(text).substr(key, kName.size()), kName)) text.resize(key);
  return text;
}

// Keeps text printable: C0 controls and DEL become '?', except '\n' and '\t'
// when `multi_line`.
std::string printable(std::string_view text, std::size_t max, bool multi_line = false) {
  if (text.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    text = text.substr(0, cut);
  }
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool keep = multi_line && (c == '\n' || c == '\t');
    out += (u < 0x20 && !keep) || u == 0x7f ? '?' : c;
  }
  return out;
}

// Codes and request ids: printable ASCII only ('?' for anything else).
std::string ascii(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

// First line of `text` without trailing " ." and with tabs as spaces, at
// most `max` bytes, with "..." when cut.
std::string first_line(std::string_view text, std::size_t max) {
  auto line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '.')) line.remove_suffix(1);
  std::string out;
  if (line.size() <= max) {
    out = std::string(line);
  } else {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    out = std::string(line.substr(0, cut)) + "...";
  }
  std::replace(out.begin(), out.end(), '\t', ' ');
  return out;
}

// --- JSON helpers -------------------------------------------------------------

Result<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !v.is_object()) return make_error_code(Errc::api_bad_json);
  return std::move(v.as_object());
}

std::string_view view(const json::string& s) { return {s.data(), s.size()}; }

// Client-side reader: absent/null members read as empty; a wrong type sets
// api_bad_member (first error wins).
class Reader {
 public:
  explicit Reader(const json::object& o) : o_(o) {}

  const json::value* get(std::string_view key) const {
    const json::value* v = o_.if_contains(json::string_view(key.data(), key.size()));
    return v && !v->is_null() ? v : nullptr;
  }
  std::string string(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return {};
    if (!v->is_string()) {
      fail(Errc::api_bad_member);
      return {};
    }
    return std::string(view(v->get_string()));
  }
  std::vector<std::uint8_t> blob(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return {};
    if (!v->is_string()) {
      fail(Errc::api_bad_member);
      return {};
    }
    auto bytes = crypto::base64_decode(view(v->get_string()));
    if (!bytes) {
      fail(Errc::api_bad_base64);
      return {};
    }
    return std::move(*bytes);
  }
  std::optional<double> number(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double()) return v->get_double();
    fail(Errc::api_bad_member);
    return std::nullopt;
  }
  std::optional<bool> boolean(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) {
      fail(Errc::api_bad_member);
      return std::nullopt;
    }
    return v->get_bool();
  }
  void require(bool present) {
    if (!present) fail(Errc::api_missing_member);
  }
  void fail(Errc e) {
    if (!error_) error_ = make_error_code(e);
  }
  const std::error_code& error() const { return error_; }

 private:
  const json::object& o_;
  std::error_code error_;
};

json::string_view jv(std::string_view s) { return {s.data(), s.size()}; }

std::string to_json_text(const json::object& o) { return json::serialize(o); }

json::object context_object(const EncryptionContext& context) {
  json::object o;
  for (const auto& [k, v] : context) o[jv(k)] = jv(v);
  return o;
}

// --- Server-side validation ---------------------------------------------------

// Model lengths count UTF-16 code units (the services are Java).
std::size_t utf16_length(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0) != 0x80) n += u >= 0xF0 ? 2 : 1;
  }
  return n;
}

ApiError serialization_error(std::string message) { return {400, "SerializationException", std::move(message), {}}; }

// Collects coral-style validation problems.
class ServerReader {
 public:
  explicit ServerReader(const json::object& o) : o_(o) {}

  const json::value* get(std::string_view key) const {
    const json::value* v = o_.if_contains(jv(key));
    return v && !v->is_null() ? v : nullptr;
  }

  // A string member; nullopt if absent (or the type is wrong: then serialization_ is set).
  std::optional<std::string> string(std::string_view key) { return string_of(get(key), key); }

  std::optional<std::string> string_of(const json::value* v, std::string_view key) {
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      type_error(key, "string");
      return std::nullopt;
    }
    return std::string(view(v->get_string()));
  }

  std::optional<std::int64_t> integer(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64())
      return v->get_uint64() > 0x7fffffffffffffffULL ? INT64_MAX : static_cast<std::int64_t>(v->get_uint64());
    type_error(key, "integer");
    return std::nullopt;
  }

  const json::object* object(std::string_view key) {
    const json::value* v = get(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
      type_error(key, "map");
      return nullptr;
    }
    return &v->get_object();
  }
  const json::array* array(std::string_view key) { return array_of(get(key), key); }
  const json::array* array_of(const json::value* v, std::string_view key) {
    if (!v) return nullptr;
    if (!v->is_array()) {
      type_error(key, "list");
      return nullptr;
    }
    return &v->get_array();
  }

  void type_error(std::string_view key, std::string_view type) {
    if (!serialization_)
      serialization_ = serialization_error("Member '" + std::string(key) + "' must be a JSON " + std::string(type));
  }

  // "Value <v> at '<path>' failed to satisfy constraint: <constraint>"
  void problem(const std::optional<std::string>& value, std::string_view path, std::string_view constraint) {
    std::string p = "Value ";
    p += value ? "'" + *value + "'" : "null";
    p += " at '" + std::string(path) + "' failed to satisfy constraint: " + std::string(constraint);
    problems_.push_back(std::move(p));
  }
  void required(const std::optional<std::string>& value, std::string_view path) {
    if (!value) problem(value, path, "Member must not be null");
  }
  void length(const std::optional<std::string>& value, std::string_view path, std::size_t min, std::size_t max) {
    if (!value) return;
    const std::size_t n = utf16_length(*value);
    if (n < min) problem(value, path, "Member must have length greater than or equal to " + std::to_string(min));
    if (n > max) problem(value, path, "Member must have length less than or equal to " + std::to_string(max));
  }
  void message(std::string text) { problems_.push_back(std::move(text)); }

  template <class T>
  ApiResult<T> finish(T value) {
    if (serialization_) return *serialization_;
    if (problems_.empty()) return value;
    std::string m = std::to_string(problems_.size()) +
                    (problems_.size() == 1 ? " validation error" : " validation errors") + " detected: ";
    for (std::size_t i = 0; i < problems_.size(); ++i) m += (i ? "; " : "") + problems_[i];
    return ApiError{400, "ValidationException", std::move(m), {}};
  }

  bool failed() const { return serialization_.has_value(); }

 private:
  const json::object& o_;
  std::optional<ApiError> serialization_;
  std::vector<std::string> problems_;
};

ApiResult<json::object> parse_server_object(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return serialization_error("Request body is not a JSON object");
  return std::move(*o);
}

EncryptionContext read_context(ServerReader& r, std::string_view key) {
  EncryptionContext out;
  const json::object* o = r.object(key);
  if (!o) return out;
  for (const auto& kv : *o) {
    if (!kv.value().is_string()) {
      r.type_error(std::string(key) + "." + std::string(kv.key().data(), kv.key().size()), "string");
      continue;
    }
    out.emplace_back(std::string(kv.key().data(), kv.key().size()), std::string(view(kv.value().get_string())));
  }
  return out;
}

bool is_document_name(std::string_view s) {  // ^[a-zA-Z0-9_\-.:/]{3,128}$
  if (s.size() < 3 || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || c == '/';
  });
}

ApiResult<SessionIdMessage> parse_session_id_request(std::string_view body) {
  auto o = parse_server_object(body);
  if (!o) return o.error();
  ServerReader r(*o);
  SessionIdMessage out;
  const auto id = r.string("SessionId");
  r.required(id, "sessionId");
  r.length(id, "sessionId", 1, 96);
  if (id) out.session_id = *id;
  return r.finish(std::move(out));
}

std::string session_response_body(const SessionResponse& response) {
  json::object o;
  if (!response.session_id.empty()) o["SessionId"] = jv(response.session_id);
  if (!response.stream_url.empty()) o["StreamUrl"] = jv(response.stream_url);
  if (!response.token_value.empty()) o["TokenValue"] = jv(response.token_value);
  return to_json_text(o);
}

Result<SessionResponse> parse_session_response(std::string_view body, bool require_session) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Reader r(*o);
  SessionResponse out;
  out.session_id = r.string("SessionId");
  out.token_value = r.string("TokenValue");
  out.stream_url = r.string("StreamUrl");
  if (require_session) r.require(!out.session_id.empty() && !out.stream_url.empty());
  if (r.error()) return r.error();
  return out;
}

std::string subject_or(std::string_view subject, std::string_view fallback) {
  return std::string(subject.empty() ? fallback : subject);
}

}  // namespace

// --- Operations -----------------------------------------------------------------

std::string_view operation_name(Operation op) { return info(op).name; }
std::string_view operation_target(Operation op) { return info(op).target; }
Service operation_service(Operation op) { return info(op).service; }

std::optional<Operation> operation_from_target(std::string_view target) {
  for (const auto& i : kOperations)
    if (i.target == target) return i.op;
  return std::nullopt;
}

// --- Errors ----------------------------------------------------------------------

void throw_exception_from_error(const ApiError& error, const boost::source_location& location) {
  boost::throw_with_location(std::runtime_error(error.code + ": " + first_line(error.message, 300)), location);
}

ApiError parse_api_error(int http_status, const Headers& headers, std::string_view body) {
  ApiError e;
  e.http_status = http_status;
  if (const Header* h = find_header(headers, "x-amzn-RequestId"))
    e.request_id = drop_dangling_token_key(ascii(redact_tokens(ascii(trim(h->value), h->value.size())), 128));
  else if (const Header* h2 = find_header(headers, "x-amz-request-id"))
    e.request_id = drop_dangling_token_key(ascii(redact_tokens(ascii(trim(h2->value), h2->value.size())), 128));

  std::string code;
  std::string message;
  if (auto o = parse_object(body)) {
    for (const char* key : {"__type", "code"}) {
      const json::value* v = o->if_contains(key);
      if (v && v->is_string() && !v->get_string().empty()) {
        code = std::string(view(v->get_string()));
        break;
      }
    }
    for (const char* key : {"message", "Message", "errorMessage"}) {
      const json::value* v = o->if_contains(key);
      if (v && v->is_string()) {
        message = std::string(view(v->get_string()));
        break;
      }
    }
  } else {
    std::string_view text = body;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r'))
      text.remove_prefix(1);
    message = std::string(text.substr(0, 200));
    for (char& c : message) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\r' || c == '\n' || c == '\t')
        c = ' ';
      else if (u < 0x20 || u >= 0x7f)
        c = '?';
    }
  }
  if (code.empty()) {
    if (const Header* h = find_header(headers, "x-amzn-ErrorType")) code = trim(h->value);
  }
  if (code.empty()) code = std::to_string(http_status);
  if (const auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  if (const auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  if (code.empty()) code = std::to_string(http_status);
  if (const Header* q = find_header(headers, "x-amzn-query-error")) {
    const auto value = trim(q->value);
    const auto semi = value.find(';');
    if (semi != std::string::npos && semi > 0) code = value.substr(0, semi);
  }
  // Control characters become '?' before the redaction, not after: a '\r'
  // ends a token value for redact_tokens but its '?' would not, so parsing
  // the error again (the emulator sends what it parsed) masked differently.
  e.code = drop_dangling_token_key(ascii(redact_tokens(ascii(code, code.size())), 128));
  if (e.code.empty()) e.code = std::to_string(http_status);
  e.message = drop_dangling_token_key(
      printable(redact_tokens(printable(message, message.size(), true)), kMaxErrorMessage, true));
  return e;
}

bool is_throttling_code(std::string_view code) { return contains(kThrottlingCodes, code); }

ErrorClass classify(const ApiError& error) {
  if (contains(kThrottlingCodes, error.code) || error.http_status == 429) return ErrorClass::throttling;
  if (contains(kTransientCodes, error.code) || error.http_status == 500 || error.http_status == 502 ||
      error.http_status == 503 || error.http_status == 504)
    return ErrorClass::transient;
  if (contains(kAuthCodes, error.code) || error.http_status == 401 || error.http_status == 403) return ErrorClass::auth;
  return ErrorClass::other;
}

std::string user_message(const ApiError& error, Operation op, std::string_view subject) {
  const OperationInfo& oi = info(op);
  const std::string name(oi.name);
  const bool kms = oi.service == Service::kms;
  const std::string server = first_line(error.message, 300);
  const std::string& code = error.code;
  auto with_server = [&](std::string text) {
    if (!server.empty()) text += " (" + server + ")";
    return text;
  };
  std::string m;
  const bool skew =
      code == "RequestTimeTooSkewed" || code == "RequestExpired" ||
      ((code == "InvalidSignatureException" || code == "SignatureDoesNotMatch") &&
       (error.message.rfind("Signature expired", 0) == 0 || error.message.rfind("Signature not yet current", 0) == 0));

  if (code == "TargetNotConnected") {
    m = subject_or(subject, "the target") +
        " is not connected to SSM: check the SSM agent is running on it and that it can reach the ssm and "
        "ssmmessages endpoints of its region";
  } else if (code == "InvalidDocument") {
    m = with_server(name + ": the session document does not exist or is not a session document") +
        ": check --document-name and --region";
  } else if (code == "InvalidTarget" || code == "InvalidInstanceId") {
    m = with_server(subject_or(subject, "the target") + " is not a managed node SSM knows in this account and region") +
        ": check the target id and --region";
  } else if (code == "DoesNotExistException" && op == Operation::resume_session) {
    m = "session " + subject_or(subject, "") + (subject.empty() ? "" : " ") +
        "no longer exists (it ended or timed out): start a new session";
    if (subject.empty()) m = "the session no longer exists (it ended or timed out): start a new session";
  } else if (code == "ExpiredToken" || code == "ExpiredTokenException") {
    m = "credentials expired: refresh them (aws sso login / re-run your credential process)";
  } else if (skew) {
    m = name +
        " was rejected because this computer's clock is more than 5 minutes off: synchronise the system clock "
        "(NTP) and retry";
  } else if (code == "InvalidSignatureException" || code == "SignatureDoesNotMatch") {
    m = name +
        " was rejected: the request signature does not match: check the secret access key of the credentials in use "
        "(and that no proxy rewrites requests)";
  } else if (code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "InvalidAccessKeyId") {
    m = name +
        " was rejected: the access key id or session token is not valid: check which credentials are in use "
        "(profile, environment) and that they belong to this region's partition";
  } else if (code == "IncompleteSignature" || code == "IncompleteSignatureException" ||
             code == "MissingAuthenticationToken" || code == "MissingAuthenticationTokenException") {
    m = name + " was rejected as not (properly) signed: check the endpoint URL points at the AWS " +
        std::string(kms ? "KMS" : "SSM") + " API";
  } else if (code == "AccessDenied" || code == "AccessDeniedException") {
    m = with_server(name + " was denied") + ": allow " + std::string(oi.permission) + " for the IAM identity in use";
  } else if (kms && code == "NotFoundException") {
    m = with_server("KMS key " + subject_or(subject, "of the session") + " was not found") +
        ": check the key id or alias in the Session Manager preferences and its region";
  } else if (kms && code == "DisabledException") {
    m = "KMS key " + subject_or(subject, "of the session") +
        " is disabled: enable it or choose another key in the Session Manager preferences";
  } else if (kms && code == "KMSInvalidStateException") {
    m = with_server("KMS key " + subject_or(subject, "of the session") + " is not usable in its current state") +
        ": check the key in the KMS console";
  } else if (kms && code == "InvalidKeyUsageException") {
    m = "KMS key " + subject_or(subject, "of the session") +
        " cannot be used for this: choose a symmetric ENCRYPT_DECRYPT key";
  } else if (kms && (code == "InvalidCiphertextException" || code == "IncorrectKeyException")) {
    m = with_server("KMS could not decrypt the session key") + ": the key or the encryption context does not match";
  } else if (code == "ValidationException") {
    m = with_server(name + " rejected a parameter") + ": check the command-line values";
  } else {
    switch (classify(error)) {
      case ErrorClass::throttling:
        m = name + " was throttled by AWS (" + code + "): wait a moment and retry";
        break;
      case ErrorClass::transient:
        m = with_server(name + " failed on the AWS side (" + code + ", HTTP " + std::to_string(error.http_status) +
                        ")") +
            ": retry in a moment";
        break;
      default:
        m = with_server(name + " failed: " + code + " (HTTP " + std::to_string(error.http_status) + ")");
        break;
    }
  }
  if (!error.request_id.empty()) m += " (request id " + error.request_id + ")";
  return m;
}

// --- Retries -------------------------------------------------------------------------

RetryPolicy retry_policy_for(Operation op) {
  switch (op) {
    case Operation::resume_session:
    case Operation::terminate_session:
      return kSingleAttemptPolicy;
    default:
      return kStandardRetryPolicy;
  }
}

FailureKind failure_kind(const ApiError& error) {
  switch (classify(error)) {
    case ErrorClass::throttling:
      return FailureKind::throttling;
    case ErrorClass::transient:
      return FailureKind::transient;
    default:
      return FailureKind::permanent;
  }
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, FailureKind failure, int attempts_made,
                                                     crypto::RandomSource& random) {
  if (failure == FailureKind::permanent || attempts_made < 1 || attempts_made >= policy.max_attempts)
    return std::nullopt;
  // Ceiling base * 2^(k-1), capped (no overflow: stop doubling at the cap).
  std::int64_t ceiling = std::max<std::int64_t>(policy.base.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(policy.cap.count(), 0);
  for (int k = 1; k < attempts_made && ceiling < cap; ++k) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  std::array<std::uint8_t, 8> bytes{};
  random.fill(bytes);
  std::uint64_t r = 0;
  for (const auto b : bytes) r = (r << 8) | b;
  const double unit = static_cast<double>(r >> 11) * 0x1.0p-53;  // [0, 1)
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(unit * static_cast<double>(ceiling))));
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const ApiError& error,
                                                     int attempts_made, crypto::RandomSource& random) {
  return retry_delay(policy, failure_kind(error), attempts_made, random);
}

// --- Signed request -------------------------------------------------------------------

Result<PreparedRequest> prepare_json_request(const Endpoint& endpoint, std::string_view target, std::string body,
                                             const Credentials& credentials, std::string_view region,
                                             std::string_view service, std::chrono::system_clock::time_point now,
                                             std::string_view user_agent) {
  if (endpoint.host.empty()) return make_error_code(Errc::endpoint_bad_url);
  PreparedRequest out;
  out.scheme = endpoint.scheme;
  out.host = endpoint.host;
  out.port = endpoint.port;
  out.target = endpoint.request_path("/");
  out.body = std::move(body);
  out.headers = {{"Host", endpoint.host_header()},
                 {"Content-Type", std::string(kJsonContentType)},
                 {"X-Amz-Target", std::string(target)},
                 {"User-Agent", std::string(user_agent)}};
  HttpRequest request;
  request.method = out.method;
  request.path = out.target;
  request.headers = out.headers;
  request.body = out.body;
  SigningParams params;
  params.region = std::string(region);
  params.service = std::string(service);
  params.time = now;
  auto signed_request = sign_headers(request, credentials, params);
  if (!signed_request) return signed_request.error();
  for (auto& h : signed_request->headers) out.headers.push_back(std::move(h));
  return out;
}

Result<PreparedRequest> prepare_api_request(Operation op, const Endpoint& endpoint, std::string body,
                                            const Credentials& credentials, std::chrono::system_clock::time_point now) {
  return prepare_json_request(endpoint, operation_target(op), std::move(body), credentials, endpoint.signing_region,
                              endpoint.signing_name, now);
}

// --- Client side ------------------------------------------------------------------------

std::string build_start_session_request(const StartSessionRequest& request) {
  json::object o;
  o["Target"] = jv(request.target);
  if (request.document_name) o["DocumentName"] = jv(*request.document_name);
  if (request.reason) o["Reason"] = jv(*request.reason);
  if (!request.parameters.empty()) {
    json::object params;
    for (const auto& [name, values] : request.parameters) {
      json::array a;
      for (const auto& v : values) a.emplace_back(jv(v));
      params[jv(name)] = std::move(a);
    }
    o["Parameters"] = std::move(params);
  }
  return to_json_text(o);
}

Result<StartSessionResponse> parse_start_session_response(std::string_view body) {
  return parse_session_response(body, true);
}

std::string build_resume_session_request(const ResumeSessionRequest& request) {
  json::object o;
  o["SessionId"] = jv(request.session_id);
  return to_json_text(o);
}

Result<ResumeSessionResponse> parse_resume_session_response(std::string_view body) {
  return parse_session_response(body, false);
}

std::string build_terminate_session_request(const TerminateSessionRequest& request) {
  return build_resume_session_request(request);
}

Result<TerminateSessionResponse> parse_terminate_session_response(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Reader r(*o);
  TerminateSessionResponse out{r.string("SessionId")};
  if (r.error()) return r.error();
  return out;
}

std::string build_describe_instance_information_request(const DescribeInstanceInformationRequest& request) {
  json::object o;
  if (!request.filters.empty()) {
    json::array filters;
    for (const auto& f : request.filters) {
      json::object fo;
      fo["Key"] = jv(f.key);
      json::array values;
      for (const auto& v : f.values) values.emplace_back(jv(v));
      fo["Values"] = std::move(values);
      filters.emplace_back(std::move(fo));
    }
    o["Filters"] = std::move(filters);
  }
  if (request.max_results) o["MaxResults"] = *request.max_results;
  if (!request.next_token.empty()) o["NextToken"] = jv(request.next_token);
  return to_json_text(o);
}

Result<DescribeInstanceInformationResponse> parse_describe_instance_information_response(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Reader r(*o);
  DescribeInstanceInformationResponse out;
  out.next_token = r.string("NextToken");
  if (const json::value* list = r.get("InstanceInformationList")) {
    if (!list->is_array()) return make_error_code(Errc::api_bad_member);
    for (const auto& item : list->get_array()) {
      if (!item.is_object()) return make_error_code(Errc::api_bad_member);
      Reader ir(item.get_object());
      InstanceInformation i;
      i.instance_id = ir.string("InstanceId");
      i.ping_status = ir.string("PingStatus");
      i.platform_type = ir.string("PlatformType");
      i.platform_name = ir.string("PlatformName");
      i.platform_version = ir.string("PlatformVersion");
      i.agent_version = ir.string("AgentVersion");
      i.computer_name = ir.string("ComputerName");
      i.ip_address = ir.string("IPAddress");
      i.resource_type = ir.string("ResourceType");
      i.name = ir.string("Name");
      i.last_ping_date_time = ir.number("LastPingDateTime");
      i.is_latest_version = ir.boolean("IsLatestVersion");
      ir.require(!i.instance_id.empty());
      if (ir.error()) return ir.error();
      out.instances.push_back(std::move(i));
    }
  }
  if (r.error()) return r.error();
  return out;
}

std::string build_generate_data_key_request(const GenerateDataKeyRequest& request) {
  json::object o;
  o["KeyId"] = jv(request.key_id);
  if (request.number_of_bytes) o["NumberOfBytes"] = *request.number_of_bytes;
  if (request.key_spec) o["KeySpec"] = jv(*request.key_spec);
  if (!request.encryption_context.empty()) o["EncryptionContext"] = context_object(request.encryption_context);
  return to_json_text(o);
}

Result<GenerateDataKeyResponse> parse_generate_data_key_response(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Reader r(*o);
  GenerateDataKeyResponse out;
  out.ciphertext_blob = r.blob("CiphertextBlob");
  out.plaintext = r.blob("Plaintext");
  out.key_id = r.string("KeyId");
  r.require(!out.ciphertext_blob.empty() && !out.plaintext.empty());
  if (r.error()) return r.error();
  return out;
}

std::string build_decrypt_request(const DecryptRequest& request) {
  json::object o;
  o["CiphertextBlob"] = jv(crypto::base64_encode(request.ciphertext_blob));
  if (!request.encryption_context.empty()) o["EncryptionContext"] = context_object(request.encryption_context);
  if (request.key_id) o["KeyId"] = jv(*request.key_id);
  return to_json_text(o);
}

Result<DecryptResponse> parse_decrypt_response(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Reader r(*o);
  DecryptResponse out;
  out.key_id = r.string("KeyId");
  out.plaintext = r.blob("Plaintext");
  out.encryption_algorithm = r.string("EncryptionAlgorithm");
  r.require(!out.plaintext.empty());
  if (r.error()) return r.error();
  return out;
}

// --- Server side -------------------------------------------------------------------------

ApiResult<Operation> parse_api_target(const Headers& headers) {
  const Header* h = find_header(headers, "X-Amz-Target");
  if (h) {
    if (const auto op = operation_from_target(trim(h->value))) return *op;
  }
  return ApiError{400,
                  "UnknownOperationException",
                  h ? "Unknown operation " + ascii(trim(h->value), 100) : "Missing X-Amz-Target header",
                  {}};
}

ApiResult<StartSessionRequest> parse_start_session_request(std::string_view body) {
  auto o = parse_server_object(body);
  if (!o) return o.error();
  ServerReader r(*o);
  StartSessionRequest out;
  const auto target = r.string("Target");
  r.required(target, "target");
  r.length(target, "target", 1, 400);
  if (target) out.target = *target;
  out.document_name = r.string("DocumentName");
  if (out.document_name && !is_document_name(*out.document_name))
    r.problem(out.document_name, "documentName",
              "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$");
  out.reason = r.string("Reason");
  r.length(out.reason, "reason", 1, 256);
  if (out.reason && out.reason->find_first_of("\r\n") != std::string::npos)
    r.problem(out.reason, "reason", "Member must satisfy regular expression pattern: ^.{1,256}$");
  if (const json::object* params = r.object("Parameters")) {
    for (const auto& kv : *params) {
      const std::string name(kv.key());
      const std::string path = "parameters." + name;
      const json::array* values = r.array_of(&kv.value(), path);
      if (!values) continue;
      std::vector<std::string> list;
      for (const auto& v : *values) {
        auto s = r.string_of(&v, path + ".member");
        if (!s) continue;
        r.length(s, path + ".member", 1, 65535);
        list.push_back(std::move(*s));
      }
      const std::optional<std::string> key = name;
      r.length(key, "parameters.key", 1, 255);
      out.parameters.emplace_back(name, std::move(list));
    }
  }
  return r.finish(std::move(out));
}

std::string build_start_session_response(const StartSessionResponse& response) {
  return session_response_body(response);
}

ApiResult<ResumeSessionRequest> parse_resume_session_request(std::string_view body) {
  return parse_session_id_request(body);
}

std::string build_resume_session_response(const ResumeSessionResponse& response) {
  return session_response_body(response);
}

ApiResult<TerminateSessionRequest> parse_terminate_session_request(std::string_view body) {
  return parse_session_id_request(body);
}

std::string build_terminate_session_response(const TerminateSessionResponse& response) {
  json::object o;
  if (!response.session_id.empty()) o["SessionId"] = jv(response.session_id);
  return to_json_text(o);
}

ApiResult<DescribeInstanceInformationRequest> parse_describe_instance_information_request(std::string_view body) {
  auto o = parse_server_object(body);
  if (!o) return o.error();
  ServerReader r(*o);
  DescribeInstanceInformationRequest out;
  if (const json::array* filters = r.array("Filters")) {
    std::size_t index = 0;
    for (const auto& f : *filters) {
      ++index;
      const std::string path = "filters." + std::to_string(index) + ".member";
      if (!f.is_object()) {
        r.type_error(path, "structure");
        continue;
      }
      ServerReader fr(f.get_object());
      InstanceInformationFilter filter;
      const auto key = fr.string("Key");
      if (fr.failed()) {
        r.type_error(path + ".key", "string");
        continue;
      }
      r.required(key, path + ".key");
      r.length(key, path + ".key", 1, SIZE_MAX);
      if (key) filter.key = *key;
      const json::array* values = fr.array("Values");
      if (fr.failed()) {
        r.type_error(path + ".values", "list");
        continue;
      }
      if (!values) {
        r.problem(std::nullopt, path + ".values", "Member must not be null");
      } else {
        if (values->empty() || values->size() > 100)
          r.message("Value at '" + path + ".values' failed to satisfy constraint: Member must have length " +
                    (values->empty() ? "greater than or equal to 1" : "less than or equal to 100"));
        for (const auto& v : *values) {
          auto s = r.string_of(&v, path + ".values.member");
          if (!s) continue;
          r.length(s, path + ".values.member", 1, SIZE_MAX);
          filter.values.push_back(std::move(*s));
        }
      }
      out.filters.push_back(std::move(filter));
    }
  }
  if (const auto max = r.integer("MaxResults")) {
    if (*max < 5)
      r.problem(std::to_string(*max), "maxResults", "Member must have value greater than or equal to 5");
    else if (*max > 50)
      r.problem(std::to_string(*max), "maxResults", "Member must have value less than or equal to 50");
    else
      out.max_results = static_cast<int>(*max);
  }
  if (const auto token = r.string("NextToken")) out.next_token = *token;
  return r.finish(std::move(out));
}

std::string build_describe_instance_information_response(const DescribeInstanceInformationResponse& response) {
  json::object o;
  json::array list;
  for (const auto& i : response.instances) {
    json::object io;
    auto put = [&io](std::string_view key, const std::string& value) {
      if (!value.empty()) io[jv(key)] = jv(value);
    };
    put("InstanceId", i.instance_id);
    put("PingStatus", i.ping_status);
    if (i.last_ping_date_time) io["LastPingDateTime"] = *i.last_ping_date_time;
    put("AgentVersion", i.agent_version);
    if (i.is_latest_version) io["IsLatestVersion"] = *i.is_latest_version;
    put("PlatformType", i.platform_type);
    put("PlatformName", i.platform_name);
    put("PlatformVersion", i.platform_version);
    put("ResourceType", i.resource_type);
    put("Name", i.name);
    put("IPAddress", i.ip_address);
    put("ComputerName", i.computer_name);
    list.emplace_back(std::move(io));
  }
  o["InstanceInformationList"] = std::move(list);
  if (!response.next_token.empty()) o["NextToken"] = jv(response.next_token);
  return to_json_text(o);
}

ApiResult<GenerateDataKeyRequest> parse_generate_data_key_request(std::string_view body) {
  auto o = parse_server_object(body);
  if (!o) return o.error();
  ServerReader r(*o);
  GenerateDataKeyRequest out;
  const auto key = r.string("KeyId");
  r.required(key, "keyId");
  r.length(key, "keyId", 1, 2048);
  if (key) out.key_id = *key;
  out.number_of_bytes.reset();
  if (const auto n = r.integer("NumberOfBytes")) {
    if (*n < 1)
      r.problem(std::to_string(*n), "numberOfBytes", "Member must have value greater than or equal to 1");
    else if (*n > 1024)
      r.problem(std::to_string(*n), "numberOfBytes", "Member must have value less than or equal to 1024");
    else
      out.number_of_bytes = static_cast<int>(*n);
  }
  out.key_spec = r.string("KeySpec");
  if (out.key_spec && *out.key_spec != "AES_256" && *out.key_spec != "AES_128")
    r.problem(out.key_spec, "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]");
  out.encryption_context = read_context(r, "EncryptionContext");
  const bool has_bytes = r.get("NumberOfBytes") != nullptr, has_spec = r.get("KeySpec") != nullptr;
  if (has_bytes == has_spec) r.message("Please specify either number of bytes or key spec.");
  return r.finish(std::move(out));
}

std::string build_generate_data_key_response(const GenerateDataKeyResponse& response) {
  json::object o;
  o["CiphertextBlob"] = jv(crypto::base64_encode(response.ciphertext_blob));
  if (!response.key_id.empty()) o["KeyId"] = jv(response.key_id);
  o["Plaintext"] = jv(crypto::base64_encode(response.plaintext));
  return to_json_text(o);
}

ApiResult<DecryptRequest> parse_decrypt_request(std::string_view body) {
  auto o = parse_server_object(body);
  if (!o) return o.error();
  ServerReader r(*o);
  DecryptRequest out;
  const auto blob = r.string("CiphertextBlob");
  r.required(blob, "ciphertextBlob");
  if (blob) {
    auto bytes = crypto::base64_decode(*blob);
    if (!bytes) return serialization_error("Member 'CiphertextBlob' is not valid base64");
    if (bytes->empty() || bytes->size() > 6144)
      r.message("Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length " +
                std::string(bytes->empty() ? "greater than or equal to 1" : "less than or equal to 6144"));
    out.ciphertext_blob = std::move(*bytes);
  }
  out.encryption_context = read_context(r, "EncryptionContext");
  out.key_id = r.string("KeyId");
  r.length(out.key_id, "keyId", 1, 2048);
  return r.finish(std::move(out));
}

std::string build_decrypt_response(const DecryptResponse& response) {
  json::object o;
  if (!response.encryption_algorithm.empty()) o["EncryptionAlgorithm"] = jv(response.encryption_algorithm);
  if (!response.key_id.empty()) o["KeyId"] = jv(response.key_id);
  o["Plaintext"] = jv(crypto::base64_encode(response.plaintext));
  return to_json_text(o);
}

ApiHttpResponse build_error_response(const ApiError& error) {
  ApiHttpResponse out;
  out.status = error.http_status;
  out.headers.push_back({"Content-Type", std::string(kJsonContentType)});
  if (!error.request_id.empty()) out.headers.push_back({"x-amzn-RequestId", error.request_id});
  json::object o;
  o["__type"] = jv(error.code);
  o["message"] = jv(error.message);
  out.body = to_json_text(o);
  return out;
}

}  // namespace ssmc::aws
