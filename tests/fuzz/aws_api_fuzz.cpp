// libFuzzer target for the AWS API codecs and the SigV4 verifier
// (src/aws/api.hpp, src/aws/sigv4_verify.hpp).
//
// The input is fed, whole, to every JSON response parser (client side),
// every request parser (emulator side), the error parser (first line = an
// x-amzn-ErrorType header, the rest = body), the Authorization-header and
// X-Amz-Date parsers, and — read as a raw HTTP request — to the verifier.
// Invariants: never crash; whatever parses re-encodes to something that
// parses back equal; parsed errors have a non-empty code without '#'/':' and
// a bounded message without session-token values; user messages are one
// printable line; a parsed X-Amz-Date formats back to itself; a request the
// verifier accepts is refused once its body changes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/api.hpp"
#include "aws/sigv4.hpp"
#include "aws/sigv4_verify.hpp"

namespace {

using namespace ssmc::aws;

void check_at(bool ok, int line) {
  if (ok) return;
  std::fprintf(stderr, "aws_api_fuzz: invariant at line %d failed\n", line);
  std::abort();
}
#define check(ok) check_at((ok), __LINE__)

template <class T, class Build, class Parse>
void round_trip(const T& value, Build build, Parse parse) {
  const auto again = parse(build(value));
  check(again.has_value());
  check(*again == value);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Every "x-amz-security-token" followed by ':' or '=' in `text` is followed
// (after spaces) by the "****" mask, nothing (an empty value), a delimiter
// that ends a value, '?' (a control character made printable), or what a
// user message puts after a cut text (")" or "...").
bool tokens_redacted(std::string_view text) {
  static constexpr std::string_view kName = "x-amz-security-token";
  for (std::size_t i = 0; i + kName.size() < text.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < kName.size() && match; ++k) match = lower(text[i + k]) == kName[k];
    if (!match || (text[i + kName.size()] != ':' && text[i + kName.size()] != '=')) continue;
    std::size_t j = i + kName.size() + 1;
    while (j < text.size() && text[j] == ' ') ++j;
    if (j < text.size() && std::string_view("*\n\r'\"&,;?).").find(text[j]) == std::string_view::npos) return false;
  }
  return true;
}

void check_user_message(const std::string& m) {
  for (const char c : m) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

void client_parsers(std::string_view text) {
  if (auto r = parse_start_session_response(text)) {
    check(!r->session_id.empty() && !r->stream_url.empty());
    round_trip(*r, build_start_session_response, parse_start_session_response);
  }
  if (auto r = parse_resume_session_response(text))
    round_trip(*r, build_resume_session_response, parse_resume_session_response);
  if (auto r = parse_terminate_session_response(text))
    round_trip(*r, build_terminate_session_response, parse_terminate_session_response);
  if (auto r = parse_describe_instance_information_response(text))
    round_trip(*r, build_describe_instance_information_response, parse_describe_instance_information_response);
  if (auto r = parse_generate_data_key_response(text))
    round_trip(*r, build_generate_data_key_response, parse_generate_data_key_response);
  if (auto r = parse_decrypt_response(text)) round_trip(*r, build_decrypt_response, parse_decrypt_response);
}

void server_parsers(std::string_view text) {
  if (auto r = parse_start_session_request(text))
    round_trip(*r, build_start_session_request, parse_start_session_request);
  if (auto r = parse_resume_session_request(text))
    round_trip(*r, build_resume_session_request, parse_resume_session_request);
  if (auto r = parse_terminate_session_request(text))
    round_trip(*r, build_terminate_session_request, parse_terminate_session_request);
  if (auto r = parse_describe_instance_information_request(text))
    round_trip(*r, build_describe_instance_information_request, parse_describe_instance_information_request);
  if (auto r = parse_generate_data_key_request(text))
    round_trip(*r, build_generate_data_key_request, parse_generate_data_key_request);
  if (auto r = parse_decrypt_request(text)) round_trip(*r, build_decrypt_request, parse_decrypt_request);
  // Refusals are AWS-shaped.
  if (auto r = parse_start_session_request(text); !r)
    check(r.error().http_status == 400 &&
          (r.error().code == "ValidationException" || r.error().code == "SerializationException"));
}

void error_parser(std::string_view text, int status) {
  const auto nl = text.find('\n');
  Headers headers;
  std::string_view body = text;
  if (nl != std::string_view::npos) {
    headers.push_back({"x-amzn-ErrorType", std::string(text.substr(0, nl))});
    headers.push_back({"x-amzn-RequestId", std::string(text.substr(0, std::min<std::size_t>(nl, 40)))});
    body = text.substr(nl + 1);
  }
  const ApiError e = parse_api_error(status, headers, body);
  check(!e.code.empty());
  check(e.code.find('#') == std::string::npos && e.code.find(':') == std::string::npos);
  check(e.message.size() <= kMaxErrorMessage);
  check(tokens_redacted(e.message));
  check(e.http_status == status);
  for (const auto op : {Operation::start_session, Operation::resume_session, Operation::generate_data_key}) {
    const std::string m = user_message(e, op, "i-0123456789abcdef0");
    check_user_message(m);
    check(tokens_redacted(m));
  }
  // What the emulator sends parses back to the same error (codes and messages
  // it would send are the printable ones the parser keeps).
  const ApiHttpResponse sent = build_error_response(e);
  const ApiError back = parse_api_error(sent.status, sent.headers, sent.body);
  check(back.code == e.code && back.http_status == e.http_status);
}

// A raw request: "METHOD target VERSION\r\n" headers "\r\n\r\n" body (LF accepted).
struct Raw {
  HttpRequest request;
  std::string body;
};

bool parse_raw(std::string_view text, Raw& out) {
  std::size_t head_end = text.find("\r\n\r\n");
  std::size_t body_at = head_end + 4;
  if (head_end == std::string_view::npos) {
    head_end = text.find("\n\n");
    body_at = head_end + 2;
  }
  if (head_end == std::string_view::npos) return false;
  out.body = std::string(text.substr(body_at));
  std::string_view head = text.substr(0, head_end);
  auto next_line = [&head]() {
    const auto nl = head.find('\n');
    auto line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view{} : head.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const auto line = next_line();
  const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  out.request.method = std::string(line.substr(0, sp1));
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');
  out.request.path = std::string(target.substr(0, q));
  out.request.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  while (!head.empty()) {
    const auto h = next_line();
    const auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    out.request.headers.push_back({std::string(h.substr(0, colon)), std::string(h.substr(colon + 1))});
  }
  return true;
}

void verifier(std::string_view text) {
  if (auto a = parse_authorization_header(text)) {
    check(!a->access_key_id.empty() && !a->date.empty() && !a->region.empty() && !a->service.empty());
  } else {
    check(a.error().error.code == "IncompleteSignatureException");
  }
  if (auto t = parse_amz_date(text)) {
    const auto again = format_amz_date(*t);
    check(again.has_value() && *again == text);
  }

  Raw raw;
  if (!parse_raw(text, raw)) return;
  raw.request.body = raw.body;
  VerifyOptions options;
  options.now =
      std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + std::chrono::hours{12} + std::chrono::minutes{36};
  for (const auto& h : raw.request.headers)
    if (h.name == "X-Amz-Date")
      if (auto t = parse_amz_date(canonical_header_value(h.value))) options.now = *t;
  const CredentialLookup lookup = [](std::string_view id) -> std::optional<Credentials> {
    if (id != "AKIDEXAMPLE") return std::nullopt;
    return Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::nullopt, std::nullopt};
  };
  const auto r = verify_sigv4(raw.request, lookup, options);
  if (!r) {
    check(!r.error().error.code.empty() && r.error().error.http_status >= 400);
    return;
  }
  check(r->access_key_id == "AKIDEXAMPLE");
  std::string changed = raw.body + "x";
  raw.request.body = changed;
  check(!verify_sigv4(raw.request, lookup, options).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  client_parsers(text);
  server_parsers(text);
  error_parser(text, size > 0 ? 400 + data[0] % 200 : 500);
  verifier(text);
  return 0;
}
