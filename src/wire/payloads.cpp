#include "wire/payloads.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "wire/go_json.hpp"

namespace ssmc::wire {
namespace json = boost::json;
using go_json::append_string;

namespace {

std::error_code bad_json() { return make_error_code(Errc::bad_json); }

// Parses a JSON object; small documents are parsed into a stack buffer so
// that the per-message acknowledge path does not touch the heap.
Result<json::value> parse_object(std::string_view text, json::storage_ptr sp = {}) {
  std::error_code ec;
  boost::system::error_code bec;
  json::value v = json::parse(text, bec, std::move(sp));
  if (bec || !v.is_object()) return bad_json();
  (void)ec;
  return v;
}

std::string str_or_empty(const json::object& o, std::string_view key) {
  auto s = go_json::get_string(o, key);
  return s ? std::string(*s) : std::string();
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
  a.message_type = str_or_empty(o, "AcknowledgedMessageType");
  a.message_id = str_or_empty(o, "AcknowledgedMessageId");
  a.sequence_number = *seq;
  a.is_sequential = go_json::get_bool(o, "IsSequentialMessage").value_or(false);
  return a;
}

Result<std::int64_t> parse_acknowledged_sequence(std::span<const std::uint8_t> payload) {
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
  c.message_id = str_or_empty(o, "MessageId");
  c.created_date = str_or_empty(o, "CreatedDate");
  c.destination_id = str_or_empty(o, "DestinationId");
  c.session_id = str_or_empty(o, "SessionId");
  c.message_type = str_or_empty(o, "MessageType");
  c.schema_version = go_json::get_int(o, "SchemaVersion").value_or(0);
  c.output = str_or_empty(o, "Output");
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
  s.schema_version = go_json::get_int(o, "SchemaVersion").value_or(0);
  s.session_state = str_or_empty(o, "SessionState");
  s.session_id = str_or_empty(o, "SessionId");
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
  r.agent_version = str_or_empty(o, "AgentVersion");
  if (const auto* actions = go_json::find(o, "RequestedClientActions"); actions && !actions->is_null()) {
    if (!actions->is_array()) return bad_json();
    for (const auto& a : actions->get_array()) {
      if (!a.is_object()) return bad_json();
      RequestedAction ra;
      ra.action_type = str_or_empty(a.get_object(), "ActionType");
      if (const auto* p = go_json::find(a.get_object(), "ActionParameters")) ra.parameters = *p;
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
  return KmsEncryptionParams{std::string(*key), str_or_empty(o, "Challenge")};
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
  r.client_version = str_or_empty(o, "ClientVersion");
  if (const auto* actions = go_json::find(o, "ProcessedClientActions"); actions && !actions->is_null()) {
    if (!actions->is_array()) return bad_json();
    for (const auto& a : actions->get_array()) {
      if (!a.is_object()) return bad_json();
      const auto& ao = a.get_object();
      ProcessedAction pa;
      pa.action_type = str_or_empty(ao, "ActionType");
      pa.action_status = go_json::get_int(ao, "ActionStatus").value_or(0);
      if (const auto* res = go_json::find(ao, "ActionResult")) pa.action_result = *res;
      pa.error = str_or_empty(ao, "Error");
      r.actions.push_back(std::move(pa));
    }
  }
  if (const auto* errors = go_json::find(o, "Errors"); errors && errors->is_array()) {
    for (const auto& e : errors->get_array())
      if (e.is_string()) r.errors.emplace_back(e.get_string());
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
  return KmsEncryptionResult{std::string(*key), go_json::get_bool(o, "ChallengeAcknowledgement")};
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
  return HandshakeComplete{go_json::get_int(o, "HandshakeTimeToComplete").value_or(0),
                           str_or_empty(o, "CustomerMessage")};
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
  r.message_schema_version = str_or_empty(o, "MessageSchemaVersion");
  r.request_id = str_or_empty(o, "RequestId");
  r.token_value = std::string(*token);
  r.client_id = str_or_empty(o, "ClientId");
  r.client_version = str_or_empty(o, "ClientVersion");
  r.client_instance_id = str_or_empty(o, "ClientInstanceId");
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
