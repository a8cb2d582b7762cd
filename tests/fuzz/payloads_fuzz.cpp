// libFuzzer target: the typed payload parsers and writers (src/wire/payloads).
//
// Input: byte 0 selects the parser (value modulo kSelectorCount, see Selector;
// scripts/extract-fuzz-seeds writes seeds with the same numbering), the rest
// is the payload. Properties, for any input:
//  * no parser crashes or reads out of bounds;
//  * when a parse succeeds, the writer's output parses again to equal fields,
//    and is a fixpoint (writing the re-parsed value gives the same bytes);
//    floats inside free-form values (ActionParameters, ActionResult) are
//    compared with a few ulps of tolerance, see same_json;
//  * the ack fast path agrees with the full ack parser, and accepts only
//    valid JSON.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "wire/go_json.hpp"
#include "wire/payloads.hpp"

namespace {

using namespace ssmc::wire;

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

/// Keep in sync with scripts/extract-fuzz-seeds.
enum Selector : std::uint8_t {
  kAcknowledge = 0,
  kChannelClosed = 1,
  kAgentSessionState = 2,
  kTerminalSize = 3,
  kFlag = 4,
  kHandshakeRequest = 5,
  kHandshakeResponse = 6,
  kHandshakeComplete = 7,
  kEncryptionChallenge = 8,
  kOpenDataChannel = 9,
  kExitCode = 10,
  kSelectorCount = 11,
};

std::span<const std::uint8_t> bytes(const std::string& s) { return as_bytes(s); }

boost::system::error_code& ec_sink() {
  static boost::system::error_code ec;
  return ec;
}

bool has_double(const boost::json::value& v) {
  if (v.is_double()) return true;
  if (v.is_array())
    for (const auto& e : v.get_array())
      if (has_double(e)) return true;
  if (v.is_object())
    for (const auto& kv : v.get_object())
      if (has_double(kv.value())) return true;
  return false;
}

// Equality of free-form JSON values after a write/parse cycle. Integers must
// match exactly. Boost.JSON 1.81 converts decimal text to double without
// correct rounding (off by an ulp or so for long mantissas, unlike Go's
// strconv), so a float written with Go's shortest format may come back a
// few ulps away; it may also come back as an integer ("1e+20" is written
// 100000000000000000000).
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  constexpr double kRelativeTolerance = 8 * std::numeric_limits<double>::epsilon();
  constexpr double kSubnormalUnits = 8;
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double()) return a == b;
    const double x = a.to_number<double>();
    const double y = b.to_number<double>();
    // Subnormal results carry fewer bits: allow a few of their units too.
    const double allowed = kRelativeTolerance * std::max(std::fabs(x), std::fabs(y)) +
                           kSubnormalUnits * std::numeric_limits<double>::denorm_min();
    return x == y || std::fabs(x - y) <= allowed;
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same_json(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
      if (i->key() != j->key() || !same_json(i->value(), j->value())) return false;
    return true;
  }
  return a == b;
}

void fuzz_acknowledge(std::span<const std::uint8_t> p) {
  auto a = parse_acknowledge(p);
  auto fast = parse_acknowledged_sequence(p);
  // The sequence-only fast path accepts exactly the acks the full parser
  // accepts with the canonical field types, and reads the same number.
  if (fast && !a) {
    auto v = boost::json::parse(as_text(p), ec_sink());
    FUZZ_CHECK(v.is_object());  // valid JSON: the full parser failed on another field's type
  }
  if (!a) return;
  FUZZ_CHECK(fast.has_value() && *fast == a->sequence_number);
  const std::string out = to_json(*a);
  auto b = parse_acknowledge(bytes(out));
  FUZZ_CHECK(b.has_value());
  FUZZ_CHECK(b->message_type == a->message_type && b->message_id == a->message_id &&
             b->sequence_number == a->sequence_number && b->is_sequential == a->is_sequential);
  FUZZ_CHECK(to_json(*b) == out);
  // The allocation-free writer produces the same bytes for what it can express.
  const auto id = Uuid::parse(a->message_id);
  const bool plain_type = message_type_from_string(a->message_type) != MessageType::unknown;
  if (a->is_sequential && plain_type && id && id->to_string() == a->message_id) {
    std::string w;
    write_acknowledge(w, a->message_type, *id, a->sequence_number);
    FUZZ_CHECK(w == out);
  }
}

void fuzz_channel_closed(std::span<const std::uint8_t> p) {
  auto c = parse_channel_closed(p);
  if (!c) return;
  const std::string out = to_json(*c);
  auto d = parse_channel_closed(bytes(out));
  FUZZ_CHECK(d.has_value());
  FUZZ_CHECK(d->message_id == c->message_id && d->created_date == c->created_date &&
             d->destination_id == c->destination_id && d->session_id == c->session_id &&
             d->message_type == c->message_type && d->schema_version == c->schema_version &&
             d->output == c->output);
  FUZZ_CHECK(to_json(*d) == out);
}

void fuzz_agent_session_state(std::span<const std::uint8_t> p) {
  auto s = parse_agent_session_state(p);
  if (!s) return;
  const std::string out = to_json(*s);
  auto t = parse_agent_session_state(bytes(out));
  FUZZ_CHECK(t.has_value());
  FUZZ_CHECK(t->schema_version == s->schema_version && t->session_state == s->session_state &&
             t->session_id == s->session_id);
  FUZZ_CHECK(to_json(*t) == out);
}

void fuzz_terminal_size(std::span<const std::uint8_t> p) {
  auto s = parse_terminal_size(p);
  if (!s) return;
  const std::string out = to_json(*s);
  auto t = parse_terminal_size(bytes(out));
  FUZZ_CHECK(t.has_value() && *t == *s);
  FUZZ_CHECK(to_json(*t) == out);
}

void fuzz_flag(std::span<const std::uint8_t> p) {
  auto f = parse_flag(p);
  FUZZ_CHECK(f.has_value() == (p.size() == 4));
  if (!f) return;
  const auto enc = encode_flag(*f);
  FUZZ_CHECK(std::equal(enc.begin(), enc.end(), p.begin(), p.end()));
}

void fuzz_handshake_request(std::span<const std::uint8_t> p) {
  auto r = parse_handshake_request(p);
  if (!r) return;
  for (const auto& a : r->actions) {  // the action parsers take any JSON value
    (void)parse_session_type_params(a.parameters);
    (void)parse_kms_encryption_params(a.parameters);
  }
  const std::string out = to_json(*r);
  auto s = parse_handshake_request(bytes(out));
  FUZZ_CHECK(s.has_value());
  FUZZ_CHECK(s->agent_version == r->agent_version && s->actions.size() == r->actions.size());
  for (std::size_t i = 0; i < r->actions.size(); ++i) {
    FUZZ_CHECK(s->actions[i].action_type == r->actions[i].action_type);
    FUZZ_CHECK(same_json(s->actions[i].parameters, r->actions[i].parameters));
    auto st1 = parse_session_type_params(r->actions[i].parameters);
    auto st2 = parse_session_type_params(s->actions[i].parameters);
    FUZZ_CHECK(st1.has_value() == st2.has_value());
    if (st1) FUZZ_CHECK(st1->session_type == st2->session_type);
    auto k1 = parse_kms_encryption_params(r->actions[i].parameters);
    auto k2 = parse_kms_encryption_params(s->actions[i].parameters);
    FUZZ_CHECK(k1.has_value() == k2.has_value());
    if (k1) FUZZ_CHECK(k1->kms_key_id == k2->kms_key_id && k1->challenge == k2->challenge);
  }
  const bool exact = std::none_of(r->actions.begin(), r->actions.end(),
                                  [](const RequestedAction& a) { return has_double(a.parameters); });
  if (exact) FUZZ_CHECK(to_json(*s) == out);
}

void fuzz_handshake_response(std::span<const std::uint8_t> p) {
  auto r = parse_handshake_response(p);
  if (!r) return;
  for (const auto& a : r->actions) {
    auto k = parse_kms_encryption_result(a.action_result);
    if (!k) continue;
    auto k2 = parse_kms_encryption_result(to_json_value(*k));
    FUZZ_CHECK(k2.has_value());
    FUZZ_CHECK(k2->kms_ciphertext_key == k->kms_ciphertext_key &&
               k2->challenge_acknowledgement == k->challenge_acknowledgement);
  }
  const std::string out = to_json(*r);
  auto s = parse_handshake_response(bytes(out));
  FUZZ_CHECK(s.has_value());
  FUZZ_CHECK(s->client_version == r->client_version && s->errors == r->errors &&
             s->actions.size() == r->actions.size());
  for (std::size_t i = 0; i < r->actions.size(); ++i) {
    const auto& x = r->actions[i];
    const auto& y = s->actions[i];
    FUZZ_CHECK(x.action_type == y.action_type && x.action_status == y.action_status && x.error == y.error);
    FUZZ_CHECK(same_json(x.action_result, y.action_result));
  }
  const bool exact = std::none_of(r->actions.begin(), r->actions.end(),
                                  [](const ProcessedAction& a) { return has_double(a.action_result); });
  if (exact) FUZZ_CHECK(to_json(*s) == out);
}

void fuzz_handshake_complete(std::span<const std::uint8_t> p) {
  auto c = parse_handshake_complete(p);
  if (!c) return;
  const std::string out = to_json(*c);
  auto d = parse_handshake_complete(bytes(out));
  FUZZ_CHECK(d.has_value());
  FUZZ_CHECK(d->handshake_time_to_complete_ns == c->handshake_time_to_complete_ns &&
             d->customer_message == c->customer_message);
  FUZZ_CHECK(to_json(*d) == out);
}

void fuzz_encryption_challenge(std::span<const std::uint8_t> p) {
  auto c = parse_encryption_challenge(p);
  if (!c) return;
  const std::string out = to_json(*c);
  auto d = parse_encryption_challenge(bytes(out));
  FUZZ_CHECK(d.has_value() && d->challenge == c->challenge);
  FUZZ_CHECK(to_json(*d) == out);
}

void fuzz_open_data_channel(std::span<const std::uint8_t> p) {
  auto o = parse_open_data_channel(as_text(p));
  if (!o) return;
  const std::string out = to_json(*o);
  auto q = parse_open_data_channel(out);
  FUZZ_CHECK(q.has_value());
  FUZZ_CHECK(q->message_schema_version == o->message_schema_version && q->request_id == o->request_id &&
             q->token_value == o->token_value && q->client_id == o->client_id &&
             q->client_version == o->client_version && q->client_instance_id == o->client_instance_id);
  FUZZ_CHECK(to_json(*q) == out);
}

void fuzz_exit_code(std::span<const std::uint8_t> p) {
  auto c = parse_exit_code(p);
  if (!c) return;
  const std::string out = format_exit_code(*c);
  FUZZ_CHECK(parse_exit_code(bytes(out)) == c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> payload(data + 1, size - 1);
  switch (data[0] % kSelectorCount) {
    case kAcknowledge: fuzz_acknowledge(payload); break;
    case kChannelClosed: fuzz_channel_closed(payload); break;
    case kAgentSessionState: fuzz_agent_session_state(payload); break;
    case kTerminalSize: fuzz_terminal_size(payload); break;
    case kFlag: fuzz_flag(payload); break;
    case kHandshakeRequest: fuzz_handshake_request(payload); break;
    case kHandshakeResponse: fuzz_handshake_response(payload); break;
    case kHandshakeComplete: fuzz_handshake_complete(payload); break;
    case kEncryptionChallenge: fuzz_encryption_challenge(payload); break;
    case kOpenDataChannel: fuzz_open_data_channel(payload); break;
    case kExitCode: fuzz_exit_code(payload); break;
    default: break;
  }
  return 0;
}
