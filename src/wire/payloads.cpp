#include "wire/payloads.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "wire/go_json.hpp"

namespace ssmc::wire {
namespace json = boost::json;
using go_json::append_string;

namespace {

std::error_code bad_json() { return make_error_code(Errc::bad_json); }

// Parses a JSON object; small documents are parsed into a stack buffer so
// that the per-message acknowledge path does not touch the heap.
Result<json::value> parse_object(std::string_view text, json::storage_ptr sp = {}) {
  boost::system::error_code bec;
  json::value v = json::parse(text, bec, std::move(sp));
  if (bec || !v.is_object()) return bad_json();
  return v;
}

// Typed fields read like Go's Unmarshal into a struct field: an absent or
// `null` field leaves the zero value, a value of another JSON type makes the
// whole payload invalid (Go's UnmarshalTypeError). Each returns false on a
// type mismatch.
bool read_string(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = go_json::find(o, key);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string()) return false;
  out.assign(v->get_string());
  return true;
}

bool read_int(const json::object& o, std::string_view key, std::int64_t& out) {
  const json::value* v = go_json::find(o, key);
  if (v == nullptr || v->is_null()) return true;
  auto i = go_json::get_int(o, key);
  if (!i) return false;
  out = *i;
  return true;
}

bool read_bool(const json::object& o, std::string_view key, bool& out) {
  const json::value* v = go_json::find(o, key);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_bool()) return false;
  out = v->get_bool();
  return true;
}

// Free-form values (Go interface{}) keep any JSON, except numbers outside
// float64's range, which Go rejects and which could not be written back.
bool all_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array())
        if (!all_finite(e)) return false;
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object())
        if (!all_finite(kv.value())) return false;
      return true;
    default: return true;
  }
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;  // keys are fixed ASCII identifiers
  out += "\":";
}

}  // namespace

// ---------------------------------------------------------------- acknowledge

void write_acknowledge(std::string& out, std::string_view acked_type, const Uuid& acked_id, std::int64_t seq) {
  out.clear();
  out += R"({"AcknowledgedMessageType":")";
  out += acked_type;
  out += R"(","AcknowledgedMessageId":")";
  const std::size_t at = out.size();
  out.resize(at + kUuidTextLength);
  acked_id.write_to(out.data() + at);
  out += R"(","AcknowledgedMessageSequenceNumber":)";
  append_int(out, seq);
  out += R"(,"IsSequentialMessage":true})";
}

std::string to_json(const Acknowledge& a) {
  std::string out = "{";
  append_key(out, "AcknowledgedMessageType");
  append_string(out, a.message_type);
  out += ',';
  append_key(out, "AcknowledgedMessageId");
  append_string(out, a.message_id);
  out += ',';
  append_key(out, "AcknowledgedMessageSequenceNumber");
  append_int(out, a.sequence_number);
  out += ',';
  append_key(out, "IsSequentialMessage");
  out += a.is_sequential ? "true" : "false";
  out += '}';
  return out;
}

Result<Acknowledge> parse_acknowledge(std::span<const std::uint8_t> payload) {
  unsigned char buffer[2048];
  json::monotonic_resource mr(buffer, sizeof buffer);
  auto v = parse_object(as_text(payload), &mr);
  if (!v) return v.error();
  const auto& o = v->get_object();
  auto seq = go_json::get_int(o, "AcknowledgedMessageSequenceNumber");
  if (!seq) return bad_json();
  Acknowledge a;
  a.sequence_number = *seq;
  a.is_sequential = false;
  if (!read_string(o, "AcknowledgedMessageType", a.message_type) ||
      !read_string(o, "AcknowledgedMessageId", a.message_id) || !read_bool(o, "IsSequentialMessage", a.is_sequential))
    return bad_json();
  return a;
}

Result<std::int64_t> parse_acknowledged_sequence(std::span<const std::uint8_t> payload) {
  // Fast path (one ack per received message, so it is hot): the exact shape
  // both official writers produce; anything else takes the full Go-semantics
  // parse (case-insensitive keys, last one wins).
  static constexpr std::string_view kHead = R"({"AcknowledgedMessageType":")";
  static constexpr std::string_view kMid = R"(","AcknowledgedMessageId":")";
  static constexpr std::string_view kSeq = R"(","AcknowledgedMessageSequenceNumber":)";
  static constexpr std::string_view kTail = R"(,"IsSequentialMessage":true})";
  std::string_view text = as_text(payload);
  if (text.starts_with(kHead) && text.ends_with(kTail)) {
    text.remove_prefix(kHead.size());
    text.remove_suffix(kTail.size());
    // Only plain catalogue-style names ([a-z_]): anything else (escapes,
    // control characters, invalid UTF-8) must go through the real parser,
    // which rejects what Go rejects.
    const auto type_end = text.find('"');
    const auto plain = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    if (type_end != std::string_view::npos && std::all_of(text.begin(), text.begin() + type_end, plain) &&
        text.substr(type_end).starts_with(kMid)) {
      text.remove_prefix(type_end + kMid.size());
      if (text.size() > kUuidTextLength && Uuid::parse(text.substr(0, kUuidTextLength)) &&
          text.substr(kUuidTextLength).starts_with(kSeq)) {
        text.remove_prefix(kUuidTextLength + kSeq.size());
        // JSON integers have no leading zeros (from_chars would take "007").
        const std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
        std::int64_t seq = 0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), seq);
        if (r.ec == std::errc() && r.ptr == text.data() + text.size() && !digits.empty() &&
            (digits.front() != '0' || digits.size() == 1))
          return seq;
      }
    }
  }
  unsigned char buffer[2048];
  json::monotonic_resource mr(buffer, sizeof buffer);
  auto v = parse_object(as_text(payload), &mr);
  if (!v) return v.error();
  auto seq = go_json::get_int(v->get_object(), "AcknowledgedMessageSequenceNumber");
  if (!seq) return bad_json();
  return *seq;
}

// ------------------------------------------------------------- channel_closed

std::string to_json(const ChannelClosed& c) {
  std::string out = "{";
  append_key(out, "MessageId");
  append_string(out, c.message_id);
  out += ',';
  append_key(out, "CreatedDate");
  append_string(out, c.created_date);
  out += ',';
  append_key(out, "DestinationId");
  append_string(out, c.destination_id);
  out += ',';
  append_key(out, "SessionId");
  append_string(out, c.session_id);
  out += ',';
  append_key(out, "MessageType");
  append_string(out, c.message_type);
  out += ',';
  append_key(out, "SchemaVersion");
  append_int(out, c.schema_version);
  out += ',';
  append_key(out, "Output");
  append_string(out, c.output);
  out += '}';
  return out;
}

Result<ChannelClosed> parse_channel_closed(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  ChannelClosed c;
  c.message_type.clear();
  c.schema_version = 0;
  if (!read_string(o, "MessageId", c.message_id) || !read_string(o, "CreatedDate", c.created_date) ||
      !read_string(o, "DestinationId", c.destination_id) || !read_string(o, "SessionId", c.session_id) ||
      !read_string(o, "MessageType", c.message_type) || !read_int(o, "SchemaVersion", c.schema_version) ||
      !read_string(o, "Output", c.output))
    return bad_json();
  return c;
}

// -------------------------------------------------------- agent_session_state

std::string to_json(const AgentSessionState& s) {
  std::string out = "{";
  append_key(out, "SchemaVersion");
  append_int(out, s.schema_version);
  out += ',';
  append_key(out, "SessionState");
  append_string(out, s.session_state);
  out += ',';
  append_key(out, "SessionId");
  append_string(out, s.session_id);
  out += '}';
  return out;
}

Result<AgentSessionState> parse_agent_session_state(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  AgentSessionState s;
  s.schema_version = 0;
  if (!read_int(o, "SchemaVersion", s.schema_version) || !read_string(o, "SessionState", s.session_state) ||
      !read_string(o, "SessionId", s.session_id))
    return bad_json();
  return s;
}

// ----------------------------------------------------------------------- size

std::string to_json(const TerminalSize& s) {
  std::string out = R"({"cols":)";
  append_int(out, s.cols);
  out += R"(,"rows":)";
  append_int(out, s.rows);
  out += '}';
  return out;
}

Result<TerminalSize> parse_terminal_size(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  auto cols = go_json::get_int(o, "cols");
  auto rows = go_json::get_int(o, "rows");
  if (!cols || !rows || *cols < 0 || *rows < 0 || *cols > UINT32_MAX || *rows > UINT32_MAX) return bad_json();
  return TerminalSize{static_cast<std::uint32_t>(*cols), static_cast<std::uint32_t>(*rows)};
}

// ----------------------------------------------------------------------- flag

std::array<std::uint8_t, 4> encode_flag(FlagValue f) {
  const auto v = static_cast<std::uint32_t>(f);
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

Result<FlagValue> parse_flag(std::span<const std::uint8_t> payload) {
  if (payload.size() != 4) return make_error_code(Errc::bad_payload_size);
  const std::uint32_t v = (std::uint32_t{payload[0]} << 24) | (std::uint32_t{payload[1]} << 16) |
                          (std::uint32_t{payload[2]} << 8) | payload[3];
  return static_cast<FlagValue>(v);
}

// ---------------------------------------------------------- handshake request

std::string to_json(const HandshakeRequest& r) {
  std::string out = "{";
  append_key(out, "AgentVersion");
  append_string(out, r.agent_version);
  out += ',';
  append_key(out, "RequestedClientActions");
  out += '[';
  for (std::size_t i = 0; i < r.actions.size(); ++i) {
    if (i) out += ',';
    out += '{';
    append_key(out, "ActionType");
    append_string(out, r.actions[i].action_type);
    out += ',';
    append_key(out, "ActionParameters");
    go_json::append_value(out, r.actions[i].parameters);
    out += '}';
  }
  out += "]}";
  return out;
}

Result<HandshakeRequest> parse_handshake_request(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  HandshakeRequest r;
  if (!read_string(o, "AgentVersion", r.agent_version)) return bad_json();
  if (const auto* actions = go_json::find(o, "RequestedClientActions"); actions && !actions->is_null()) {
    if (!actions->is_array()) return bad_json();
    for (const auto& a : actions->get_array()) {
      RequestedAction ra;
      if (a.is_object()) {
        if (!read_string(a.get_object(), "ActionType", ra.action_type)) return bad_json();
        if (const auto* p = go_json::find(a.get_object(), "ActionParameters")) ra.parameters = *p;
        if (!all_finite(ra.parameters)) return bad_json();
      } else if (!a.is_null()) {  // null: Go appends a zero action
        return bad_json();
      }
      r.actions.push_back(std::move(ra));
    }
  }
  return r;
}

Result<SessionTypeParams> parse_session_type_params(const json::value& parameters) {
  if (!parameters.is_object()) return bad_json();
  const auto& o = parameters.get_object();
  auto type = go_json::get_string(o, "SessionType");
  if (!type) return bad_json();
  SessionTypeParams p;
  p.session_type = std::string(*type);
  if (const auto* props = go_json::find(o, "Properties")) p.properties = *props;
  return p;
}

Result<KmsEncryptionParams> parse_kms_encryption_params(const json::value& parameters) {
  if (!parameters.is_object()) return bad_json();
  const auto& o = parameters.get_object();
  auto key = go_json::get_string(o, "KMSKeyId");
  if (!key) return bad_json();
  KmsEncryptionParams p{std::string(*key), {}};
  if (!read_string(o, "Challenge", p.challenge)) return bad_json();
  return p;
}

// --------------------------------------------------------- handshake response

std::string to_json(const HandshakeResponse& r) {
  std::string out = "{";
  append_key(out, "ClientVersion");
  append_string(out, r.client_version);
  out += ',';
  append_key(out, "ProcessedClientActions");
  out += '[';
  for (std::size_t i = 0; i < r.actions.size(); ++i) {
    const auto& a = r.actions[i];
    if (i) out += ',';
    out += '{';
    append_key(out, "ActionType");
    append_string(out, a.action_type);
    out += ',';
    append_key(out, "ActionStatus");
    append_int(out, a.action_status);
    out += ',';
    append_key(out, "ActionResult");
    go_json::append_value(out, a.action_result);
    out += ',';
    append_key(out, "Error");
    append_string(out, a.error);
    out += '}';
  }
  out += "],";
  append_key(out, "Errors");
  if (r.errors.empty()) {
    out += "null";
  } else {
    out += '[';
    for (std::size_t i = 0; i < r.errors.size(); ++i) {
      if (i) out += ',';
      append_string(out, r.errors[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

Result<HandshakeResponse> parse_handshake_response(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  HandshakeResponse r;
  if (!read_string(o, "ClientVersion", r.client_version)) return bad_json();
  if (const auto* actions = go_json::find(o, "ProcessedClientActions"); actions && !actions->is_null()) {
    if (!actions->is_array()) return bad_json();
    for (const auto& a : actions->get_array()) {
      ProcessedAction pa;
      if (a.is_object()) {
        const auto& ao = a.get_object();
        if (!read_string(ao, "ActionType", pa.action_type) || !read_int(ao, "ActionStatus", pa.action_status) ||
            !read_string(ao, "Error", pa.error))
          return bad_json();
        if (const auto* res = go_json::find(ao, "ActionResult")) pa.action_result = *res;
        if (!all_finite(pa.action_result)) return bad_json();
      } else if (!a.is_null()) {  // null: Go appends a zero action
        return bad_json();
      }
      r.actions.push_back(std::move(pa));
    }
  }
  if (const auto* errors = go_json::find(o, "Errors"); errors && !errors->is_null()) {
    if (!errors->is_array()) return bad_json();
    for (const auto& e : errors->get_array()) {
      if (e.is_string()) r.errors.emplace_back(e.get_string());
      else if (e.is_null()) r.errors.emplace_back();  // Go: zero string
      else return bad_json();
    }
  }
  return r;
}

json::value to_json_value(const KmsEncryptionResult& r) {
  json::object o;
  o["KMSCipherTextKey"] = r.kms_ciphertext_key;
  o["KMSCipherTextHash"] = nullptr;
  if (r.challenge_acknowledgement) o["ChallengeAcknowledgement"] = *r.challenge_acknowledgement;
  return o;
}

Result<KmsEncryptionResult> parse_kms_encryption_result(const json::value& v) {
  if (!v.is_object()) return bad_json();
  const auto& o = v.get_object();
  auto key = go_json::get_string(o, "KMSCipherTextKey");
  if (!key) return bad_json();
  KmsEncryptionResult r{std::string(*key), go_json::get_bool(o, "ChallengeAcknowledgement")};
  if (const auto* ack = go_json::find(o, "ChallengeAcknowledgement"); ack && !ack->is_null() && !ack->is_bool())
    return bad_json();
  return r;
}

// --------------------------------------------------------- handshake complete

std::string to_json(const HandshakeComplete& c) {
  std::string out = "{";
  append_key(out, "HandshakeTimeToComplete");
  append_int(out, c.handshake_time_to_complete_ns);
  out += ',';
  append_key(out, "CustomerMessage");
  append_string(out, c.customer_message);
  out += '}';
  return out;
}

Result<HandshakeComplete> parse_handshake_complete(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  const auto& o = v->get_object();
  HandshakeComplete c;
  if (!read_int(o, "HandshakeTimeToComplete", c.handshake_time_to_complete_ns) ||
      !read_string(o, "CustomerMessage", c.customer_message))
    return bad_json();
  return c;
}

// ------------------------------------------------------ encryption challenge

std::string to_json(const EncryptionChallenge& c) {
  std::string out = "{";
  append_key(out, "Challenge");
  append_string(out, c.challenge);
  out += '}';
  return out;
}

Result<EncryptionChallenge> parse_encryption_challenge(std::span<const std::uint8_t> payload) {
  auto v = parse_object(as_text(payload));
  if (!v) return v.error();
  auto c = go_json::get_string(v->get_object(), "Challenge");
  if (!c) return bad_json();
  return EncryptionChallenge{std::string(*c)};
}

// ----------------------------------------------------------- OpenDataChannel

std::string to_json(const OpenDataChannel& o) {
  std::string out = "{";
  append_key(out, "MessageSchemaVersion");
  append_string(out, o.message_schema_version);
  out += ',';
  append_key(out, "RequestId");
  append_string(out, o.request_id);
  out += ',';
  append_key(out, "TokenValue");
  append_string(out, o.token_value);
  if (!o.client_instance_id.empty()) {  // agent leg: field order of agent/session/service/api.go
    out += ',';
    append_key(out, "ClientInstanceId");
    append_string(out, o.client_instance_id);
  }
  out += ',';
  append_key(out, "ClientId");
  append_string(out, o.client_id);
  if (!o.client_version.empty()) {
    out += ',';
    append_key(out, "ClientVersion");
    append_string(out, o.client_version);
  }
  out += '}';
  return out;
}

Result<OpenDataChannel> parse_open_data_channel(std::string_view text) {
  auto v = parse_object(text);
  if (!v) return v.error();
  const auto& o = v->get_object();
  auto token = go_json::get_string(o, "TokenValue");
  if (!token) return bad_json();
  OpenDataChannel r;
  r.message_schema_version.clear();
  r.token_value = std::string(*token);
  if (!read_string(o, "MessageSchemaVersion", r.message_schema_version) || !read_string(o, "RequestId", r.request_id) ||
      !read_string(o, "ClientId", r.client_id) || !read_string(o, "ClientVersion", r.client_version) ||
      !read_string(o, "ClientInstanceId", r.client_instance_id))
    return bad_json();
  return r;
}

// ------------------------------------------------------------------ exit code

std::optional<int> parse_exit_code(std::span<const std::uint8_t> payload) {
  constexpr std::string_view kPrefix = "EXIT_CODE:";
  std::string_view s = as_text(payload);
  if (s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  int code = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), code);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return code;
}

std::string format_exit_code(int code) { return "EXIT_CODE: " + std::to_string(code); }

}  // namespace ssmc::wire
