// libFuzzer target for HTTP messages from the network: Beast's HTTP/1.1
// parsers configured as src/net/http.cpp configures them, then what our code
// does with the result (src/aws/api.hpp on the client side, the emulator's
// request handling on the server side).
//
// The fuzz build has no src/net (SSMC_IO=OFF: no Asio/Beast TUs under ASan),
// so the parser set-up is repeated here; keep it in step with http.cpp:
//  * client (http.cpp exchange): response_parser<string_body>,
//    body_limit(ClientOptions::max_response_body = kDefaultMaxResponseBody),
//    Beast's default header limit, read to the end (EOF ends a body without
//    Content-Length); body_limit → Errc::response_too_large;
//  * proxy (http.cpp open_tcp): response_parser<empty_body> with skip(true),
//    header only; 2xx and no bytes after the header, else proxy_refused;
//  * server (http.cpp HttpServer::Impl::serve): request_parser<string_body>,
//    body_limit(kServerMaxRequestBody), default header limit; then
//    websocket::is_upgrade, and the emulator's to_aws_request / X-Amz-Target /
//    SigV4 verification (src/emulator/emulator.cpp).
//
// Input: byte 0 picks the API operation the response answers (bits 0-2),
// whether the bytes arrive in small chunks (bit 3, as from a socket), a
// small body limit to reach the too-large path (bit 4); the rest is the
// message. Each run parses the bytes as a response, a CONNECT response and a
// request. Properties: nothing crashes or reads out of bounds; a parsed
// body is within the limit and, with Content-Length, that long; a parsed
// error has a non-empty code and a bounded message; user messages are one
// printable line; retry delays stay within the policy's cap.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aws/api.hpp"
#include "aws/sigv4_verify.hpp"
#include "crypto/random.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace ssmc;

void check_at(bool ok, int line) {
  if (ok) return;
  std::fprintf(stderr, "http_fuzz: invariant at line %d failed\n", line);
  std::abort();
}
#define check(ok) check_at((ok), __LINE__)

// src/net/http.hpp (not includable here without Asio's awaitables).
constexpr std::size_t kDefaultMaxResponseBody = 8 * 1024 * 1024;
constexpr std::size_t kServerMaxRequestBody = 1024 * 1024;

struct Feed {
  std::string_view bytes;
  std::size_t chunk;  // 0: everything at once
};

// What http::async_read does with a parser: put() the unconsumed bytes,
// read more on need_more, put_eof() at the end of the stream once something
// arrived (else end_of_stream). Stops at the header when `header_only`.
// Returns the error and how many bytes the parser did not consume.
template <class Parser>
beast::error_code read(Parser& parser, Feed in, bool header_only, std::size_t& left_over) {
  const std::size_t total = in.bytes.size();
  auto more = [&](std::size_t have) { return in.chunk == 0 ? total : std::min(have + in.chunk, total); };
  std::size_t used = 0;          // bytes the parser consumed
  std::size_t have = more(0);    // bytes "received" so far
  beast::error_code ec;
  while (!(header_only ? parser.is_header_done() : parser.is_done())) {
    if (used < have) {
      const std::size_t n = parser.put(boost::asio::buffer(in.bytes.data() + used, have - used), ec);
      used += n;
      if (ec && ec != http::error::need_more) break;
      const bool need_more = ec == http::error::need_more;
      ec = {};
      if (!need_more && n > 0 && used < have) continue;  // consumed a part (the header): go on
    }
    if (have == total) {  // end of stream
      if (!parser.got_some()) return http::error::end_of_stream;
      parser.put_eof(ec);
      break;
    }
    have = more(have);
  }
  left_over = total - used;
  return ec;
}

aws::Headers headers_of(const http::fields& fields) {
  aws::Headers out;
  for (const auto& f : fields) {
    check(!f.name_string().empty());
    out.push_back({std::string(f.name_string()), std::string(f.value())});
  }
  return out;
}

std::optional<std::uint64_t> content_length(const http::fields& fields) {
  auto it = fields.find(http::field::content_length);
  if (it == fields.end()) return std::nullopt;
  std::uint64_t n = 0;
  const auto v = it->value();
  auto [p, e] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (e != std::errc{} || p != v.data() + v.size()) return std::nullopt;
  return n;
}

void check_user_message(const std::string& m) {
  for (const char c : m) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

// src/session/aws_client.cpp AwsClient::call and the typed wrappers.
void client_handling(aws::Operation op, int status, const aws::Headers& headers, const std::string& body) {
  if (aws::is_success_status(status)) {
    switch (op) {
      case aws::Operation::start_session: {
        auto r = aws::parse_start_session_response(body);
        if (r) check(!r->session_id.empty() && !r->stream_url.empty());
        break;
      }
      case aws::Operation::resume_session: (void)aws::parse_resume_session_response(body); break;
      case aws::Operation::terminate_session: (void)aws::parse_terminate_session_response(body); break;
      case aws::Operation::describe_instance_information:
        (void)aws::parse_describe_instance_information_response(body);
        break;
      case aws::Operation::generate_data_key: (void)aws::parse_generate_data_key_response(body); break;
      case aws::Operation::decrypt: (void)aws::parse_decrypt_response(body); break;
    }
    return;
  }
  const aws::ApiError e = aws::parse_api_error(status, headers, body);
  check(!e.code.empty());
  check(e.message.size() <= aws::kMaxErrorMessage);
  check(e.http_status == status);
  check_user_message(aws::user_message(e, op, "i-0123456789abcdef0"));
  (void)aws::classify(e);
  const aws::RetryPolicy policy = aws::retry_policy_for(op);
  crypto::DeterministicRandom rng(static_cast<std::uint64_t>(status));
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    const auto delay = aws::retry_delay(policy, e, attempt, rng);
    if (!delay) break;
    check(attempt < policy.max_attempts);
    check(delay->count() >= 0 && *delay <= policy.cap);
  }
}

void response(Feed in, aws::Operation op, std::size_t body_limit) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);  // as http::async_read
  parser.body_limit(body_limit);
  std::size_t left_over = 0;
  const beast::error_code ec = read(parser, in, false, left_over);
  if (ec == http::error::body_limit) return;  // Errc::response_too_large
  if (ec) return;
  check(parser.is_done());
  auto res = parser.release();
  check(res.body().size() <= body_limit);
  if (auto n = content_length(res.base()); n && !res.chunked() && res.result_int() / 100 != 1 &&
                                           res.result_int() != 204 && res.result_int() != 304) {
    check(res.body().size() == *n);
  }
  const int status = static_cast<int>(res.result_int());
  check(status >= 0 && status <= 999);
  client_handling(op, status, headers_of(res.base()), res.body());
}

void proxy_connect(Feed in) {
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT response has no body
  std::size_t left_over = 0;
  if (read(parser, in, true, left_over)) return;
  check(parser.is_header_done());
  const unsigned status = parser.get().result_int();
  const bool tunnel = status >= 200 && status <= 299 && left_over == 0;
  (void)tunnel;
}

// src/emulator/emulator.cpp to_aws_request.
aws::HttpRequest to_aws_request(const std::string& method, const std::string& target, const aws::Headers& headers,
                                const std::string& body) {
  aws::HttpRequest out;
  out.method = method;
  const auto q = target.find('?');
  out.path = target.substr(0, q);
  out.query = q == std::string::npos ? std::string() : target.substr(q + 1);
  out.headers = headers;
  out.body = body;
  return out;
}

void request(Feed in) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(kServerMaxRequestBody);
  std::size_t left_over = 0;
  if (read(parser, in, false, left_over)) return;  // body_limit → 413, else close
  check(parser.is_done());
  auto req = parser.release();
  check(req.body().size() <= kServerMaxRequestBody);
  const std::string method(req.method_string());
  const std::string target(req.target());
  const aws::Headers headers = headers_of(req.base());
  (void)beast::websocket::is_upgrade(req);
  (void)req.keep_alive();
  if (auto op = aws::parse_api_target(headers); !op) check(op.error().http_status == 400);
  const aws::HttpRequest r = to_aws_request(method, target, headers, req.body());
  aws::VerifyOptions options;
  options.now = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + std::chrono::hours{12} +
                std::chrono::minutes{36};
  const aws::CredentialLookup lookup = [](std::string_view id) -> std::optional<aws::Credentials> {
    if (id != "AKIDEXAMPLE") return std::nullopt;
    return aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::nullopt, std::nullopt};
  };
  const auto v = aws::verify_sigv4(r, lookup, options);
  if (!v) check(!v.error().error.code.empty() && v.error().error.http_status >= 400);
}

constexpr aws::Operation kOps[] = {
    aws::Operation::start_session,       aws::Operation::resume_session,
    aws::Operation::terminate_session,   aws::Operation::describe_instance_information,
    aws::Operation::generate_data_key,   aws::Operation::decrypt,
    aws::Operation::start_session,       aws::Operation::generate_data_key,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Feed feed{bytes, (mode & 8) ? std::size_t{1} + (mode >> 5) * 7 : 0};
  const std::size_t body_limit = (mode & 16) ? 64 : kDefaultMaxResponseBody;
  response(feed, kOps[mode & 7], body_limit);
  proxy_connect(feed);
  request(feed);
  return 0;
}
