// SigV4: every case of both AWS suites in shared/testdata/sigv4/ (one
// parameterised test per case and mode), the signed WebSocket upgrade of
// 02 §1.5 with every variant, the 01 §2 StartSession vector, and edge cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aws/errors.hpp"
#include "aws/sigv4.hpp"
#include "crypto/sha256.hpp"

namespace ssmc::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const fs::path kSigV4Dir = fs::path(SSMC_SHARED_DIR) / "testdata" / "sigv4";
constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// Both suites sign at 2015-08-30T12:36:00Z (shared/testdata/sigv4/README.md).
const system_clock::time_point kSuiteTime = sys_days{year{2015} / 8 / 30} + hours{12} + minutes{36};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Credentials credentials(std::optional<std::string> token = std::nullopt) {
  return {std::string(kAccessKey), std::string(kSecret), std::move(token), std::nullopt};
}

// A raw HTTP/1.1 request of the suites: request line, header lines (an
// indented line continues the previous header, obs-fold), blank line, body.
struct RawRequest {
  std::string request_line;
  std::string method, path, query, version;
  std::vector<std::string> header_lines;  // as written
  Headers headers;                        // continuation lines joined with '\n'
  std::string body;
};

RawRequest parse_request(std::string_view text) {
  RawRequest r;
  std::string_view head = text;
  if (const auto blank = text.find("\n\n"); blank != std::string_view::npos) {
    head = text.substr(0, blank);
    r.body = std::string(text.substr(blank + 2));
  } else if (!head.empty() && head.back() == '\n') {
    head.remove_suffix(1);
  }
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= head.size();) {
    const auto nl = std::min(head.find('\n', pos), head.size());
    lines.push_back(head.substr(pos, nl - pos));
    pos = nl + 1;
  }
  // The request target may contain a raw space (get-space): split at the
  // first and the last space.
  const auto line = lines.at(0);
  r.request_line = std::string(line);
  const auto first = line.find(' '), last = line.rfind(' ');
  r.method = std::string(line.substr(0, first));
  r.version = std::string(line.substr(last + 1));
  const auto target = line.substr(first + 1, last - first - 1);
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    r.header_lines.emplace_back(lines[i]);
    if (!lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
      r.headers.back().value += '\n';
      r.headers.back().value += lines[i];
      continue;
    }
    const auto colon = lines[i].find(':');
    r.headers.push_back({std::string(lines[i].substr(0, colon)), std::string(lines[i].substr(colon + 1))});
  }
  return r;
}

HttpRequest to_request(const RawRequest& raw) {
  HttpRequest request;
  request.method = raw.method;
  request.path = raw.path;
  request.query = raw.query;
  request.headers = raw.headers;
  request.body = raw.body;
  return request;
}

std::string authorization(const Headers& headers) {
  for (const auto& h : headers)
    if (h.name == "Authorization") return h.value;
  return {};
}

std::vector<std::string> case_dirs(const fs::path& root) {
  std::vector<std::string> out;
  if (!fs::is_directory(root)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    const auto name = entry.path().filename().string();
    if (fs::exists(entry.path() / (name + ".req")) || fs::exists(entry.path() / "request.txt"))
      out.push_back(fs::relative(entry.path(), root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// ---------------------------------------------------------------------------
// aws4_testsuite (botocore copy of the classic AWS suite): .req -> .creq,
// .sts, .authz, .sreq.

const fs::path kClassicDir = kSigV4Dir / "aws4_testsuite";

class ClassicSuite : public testing::TestWithParam<std::string> {};

TEST_P(ClassicSuite, SignsExactly) {
  const fs::path dir = kClassicDir / GetParam();
  const std::string base = dir.filename().string();
  auto file = [&](std::string_view ext) { return read_file(dir / (base + std::string(ext))); };
  const RawRequest raw = parse_request(file(".req"));

  // Session tokens (README "Session tokens used"): post-sts-token/* use the
  // value in post-sts-token/readme.txt; get-vanilla-with-session-token the one
  // in its .creq. post-sts-header-after adds the token after signing.
  std::optional<std::string> token;
  bool omit_token = false;
  if (GetParam().rfind("post-sts-token/", 0) == 0) {
    const std::string readme = read_file(kClassicDir / "post-sts-token" / "readme.txt");
    token = readme.substr(readme.rfind("\n\n") + 2);
    omit_token = base == "post-sts-header-after";
  } else if (base == "get-vanilla-with-session-token") {
    const std::string creq = file(".creq");
    const std::string key = "x-amz-security-token:";
    const auto at = creq.find(key) + key.size();
    token = creq.substr(at, creq.find('\n', at) - at);
  }

  SigningParams params;
  params.region = "us-east-1";
  params.service = "service";
  params.time = kSuiteTime;
  params.omit_session_token = omit_token;
  const auto signed_request = sign_headers(to_request(raw), credentials(token), params);
  ASSERT_TRUE(signed_request) << signed_request.error().message();
  EXPECT_EQ(signed_request->canonical_request, file(".creq"));
  EXPECT_EQ(signed_request->string_to_sign, file(".sts"));
  EXPECT_EQ(authorization(signed_request->headers), file(".authz"));

  // .sreq = the .req header lines, the added headers ("Authorization: " with a
  // space, as the suite writes it), then the body if any.
  std::string sreq;
  for (std::size_t i = 0; i < raw.header_lines.size() + 1; ++i) {
    if (i > 0) sreq += '\n';
    sreq += i == 0 ? raw.request_line : raw.header_lines[i - 1];
  }
  for (const auto& h : signed_request->headers)
    sreq += '\n' + h.name + (h.name == "Authorization" ? ": " : ":") + h.value;
  if (!raw.body.empty()) sreq += "\n\n" + raw.body;
  std::string expected_sreq = file(".sreq");
  if (base == "get-vanilla-with-session-token") {
    // Known stale .sreq (README §1 "Known quirks"): it carries get-vanilla's
    // signature 5fa00f...; .creq/.sts/.authz agree on 07ec16.... Check every
    // other byte of it.
    const std::string stale = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const auto at = expected_sreq.find(stale);
    ASSERT_NE(at, std::string::npos) << "the stale signature is gone: drop this special case";
    expected_sreq.replace(at, stale.size(), signed_request->signature);
  }
  EXPECT_EQ(sreq, expected_sreq);
}

INSTANTIATE_TEST_SUITE_P(Aws4TestSuite, ClassicSuite, testing::ValuesIn(case_dirs(kClassicDir)), test_name);

TEST(ClassicSuiteData, HasAll34Cases) { EXPECT_EQ(case_dirs(kClassicDir).size(), 34u) << kClassicDir; }

// ---------------------------------------------------------------------------
// aws-c-auth aws-signing-test-suite/v4: context.json + request.txt -> header-*
// and query-* files.

const fs::path kCrtDir = kSigV4Dir / "aws-signing-test-suite" / "v4";

struct CrtCase {
  RawRequest raw;
  Credentials creds;
  SigningParams params;
  bool sign_body = false;
};

system_clock::time_point parse_timestamp(std::string_view iso) {  // "2015-08-30T12:36:00Z"
  auto num = [&](std::size_t at, std::size_t len) { return std::stoi(std::string(iso.substr(at, len))); };
  return sys_days{year{num(0, 4)} / num(5, 2) / num(8, 2)} + hours{num(11, 2)} + minutes{num(14, 2)} +
         seconds{num(17, 2)};
}

CrtCase load_crt_case(const fs::path& dir) {
  CrtCase c;
  c.raw = parse_request(read_file(dir / "request.txt"));
  const auto ctx = boost::json::parse(read_file(dir / "context.json")).as_object();
  const auto& cr = ctx.at("credentials").as_object();
  c.creds.access_key_id = std::string(cr.at("access_key_id").as_string());
  c.creds.secret_access_key = std::string(cr.at("secret_access_key").as_string());
  if (const auto* token = cr.if_contains("token")) c.creds.session_token = std::string(token->as_string());
  c.params.region = std::string(ctx.at("region").as_string());
  c.params.service = std::string(ctx.at("service").as_string());
  c.params.time = parse_timestamp(ctx.at("timestamp").as_string());
  c.params.normalize_path = ctx.at("normalize").as_bool();
  c.sign_body = ctx.at("sign_body").as_bool();
  if (const auto* omit = ctx.if_contains("omit_session_token")) c.params.omit_session_token = omit->as_bool();
  c.params.expires = seconds{ctx.at("expiration_in_seconds").as_int64()};
  return c;
}

// `query` = nullptr: the original request line.
std::string signed_request_text(const RawRequest& raw, const std::string* query, const Headers& added) {
  std::string out =
      query ? raw.method + ' ' + raw.path + (query->empty() ? "" : "?" + *query) + ' ' + raw.version : raw.request_line;
  out += '\n';
  for (const auto& line : raw.header_lines) out += line + '\n';
  for (const auto& h : added) out += h.name + ':' + h.value + '\n';
  return out + '\n' + raw.body;
}

class CrtSuite : public testing::TestWithParam<std::string> {};

TEST_P(CrtSuite, HeaderSigning) {
  const fs::path dir = kCrtDir / GetParam();
  CrtCase c = load_crt_case(dir);
  c.params.add_content_sha256_header = c.sign_body;  // aws-c-auth `sign_body`: x-amz-content-sha256
  const auto r = sign_headers(to_request(c.raw), c.creds, c.params);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_request, read_file(dir / "header-canonical-request.txt"));
  EXPECT_EQ(r->string_to_sign, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(r->signature, read_file(dir / "header-signature.txt"));
  EXPECT_EQ(signed_request_text(c.raw, nullptr, r->headers), read_file(dir / "header-signed-request.txt"));
}

TEST_P(CrtSuite, QuerySigning) {
  const fs::path dir = kCrtDir / GetParam();
  const CrtCase c = load_crt_case(dir);
  // In query mode `sign_body` only means "sign the body's hash", which is the
  // default here (no x-amz-content-sha256 in presigned URLs).
  const auto r = presign_query(to_request(c.raw), c.creds, c.params);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_request, read_file(dir / "query-canonical-request.txt"));
  EXPECT_EQ(r->string_to_sign, read_file(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(r->signature, read_file(dir / "query-signature.txt"));
  EXPECT_EQ(signed_request_text(c.raw, &r->query, {}), read_file(dir / "query-signed-request.txt"));
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuiteV4, CrtSuite, testing::ValuesIn(case_dirs(kCrtDir)), test_name);

TEST(CrtSuiteData, HasAll38Cases) { EXPECT_EQ(case_dirs(kCrtDir).size(), 38u) << kCrtDir; }

// ---------------------------------------------------------------------------
// 01 §2: the StartSession test vector (service ssm, JSON body).

TEST(SigV4Spec, StartSessionVectorOf01) {
  const std::string body =
      R"({"Target":"i-0123456789abcdef0","DocumentName":"AWS-StartPortForwardingSession","Parameters":{"portNumber":["80"],"localPortNumber":["56789"]}})";
  ASSERT_EQ(body.size(), 143u);
  HttpRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                     {"X-Amz-Target", "AmazonSSM.StartSession"},
                     {"X-Amz-Date", "20231114T221320Z"},
                     {"Host", "ssm.us-east-1.amazonaws.com"}};
  request.body = body;
  SigningParams params;
  params.region = "us-east-1";
  params.service = "ssm";
  params.time = sys_days{year{2023} / 11 / 14} + hours{22} + minutes{13} + seconds{20};
  const auto r = sign_headers(request, credentials(), params);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(crypto::to_hex(crypto::sha256(body)), "e606966685a713d5e6e9824f2234bba093d7e59012c18f81a4996a0589811617");
  EXPECT_EQ(crypto::to_hex(crypto::sha256(r->canonical_request)),
            "d2f2c9aa583cbb47575115e4b1a808e3bf17a1d10bc377921c9123f19a3eb4a3");
  EXPECT_EQ(r->signature, "68cd83f0db6e02a4eb1165454894cc2ff45cf8d983a8cb07b9c86e498f01a4f3");
  ASSERT_EQ(r->headers.size(), 1u);  // X-Amz-Date was already there
  EXPECT_EQ(r->headers[0], (Header{"Authorization",
                                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/ssm/aws4_request, "
                                   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                                   "Signature=68cd83f0db6e02a4eb1165454894cc2ff45cf8d983a8cb07b9c86e498f01a4f3"}));
}

// ---------------------------------------------------------------------------
// 02 §1.5: the signed WebSocket upgrade, byte for byte, and every variant.

constexpr std::string_view kStreamUrl =
    "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-0123?role=publish_subscribe";

std::string hash_hex(std::string_view s) { return crypto::to_hex(crypto::sha256(s)); }

TEST(WebSocketUpgrade, WorkedExample) {
  const auto r = sign_websocket_upgrade(kStreamUrl, "us-east-1", credentials(), kSuiteTime);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->canonical_request,
            "GET\n"
            "/v1/data-channel/s-0123\n"
            "role=publish_subscribe\n"
            "host:ssmmessages.us-east-1.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n"
            "\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash_hex(r->canonical_request), "d16ab5ddddbadeb57fac569babd33634035fc951511d7357c9cbb6ce2c8cc938");
  EXPECT_EQ(r->string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20150830T123600Z\n"
            "20150830/us-east-1/ssmmessages/aws4_request\n"
            "d16ab5ddddbadeb57fac569babd33634035fc951511d7357c9cbb6ce2c8cc938");
  EXPECT_EQ(crypto::to_hex(signing_key(kSecret, "20150830", "us-east-1", "ssmmessages")),
            "6b2287cc4f07777cecbc7221ee73c43753c9bac1bb194348bbcba61ba2654737");
  EXPECT_EQ(r->signature, "488e69aea76069e93009faca75bd206d19c6ad32f238838320fa3978d38d2fa0");
  EXPECT_EQ(r->signed_headers, "host;x-amz-date");
  EXPECT_EQ(r->host, "ssmmessages.us-east-1.amazonaws.com");
  EXPECT_EQ(r->target, "/v1/data-channel/s-0123?role=publish_subscribe");
  const Headers expected = {
      {"X-Amz-Date", "20150830T123600Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ssmmessages/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=488e69aea76069e93009faca75bd206d19c6ad32f238838320fa3978d38d2fa0"}};
  EXPECT_EQ(r->headers, expected);  // no X-Amz-Content-Sha256, no Host
}

TEST(WebSocketUpgrade, SigningKeyChainOf02) {
  // kDate, kRegion, kService of 02 §1.5, step by step.
  auto hmac = [](const crypto::Sha256Digest& key, std::string_view data) {
    return crypto::hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), data);
  };
  const auto k_date = crypto::hmac_sha256("AWS4" + std::string(kSecret), "20150830");
  EXPECT_EQ(crypto::to_hex(k_date), "0138c7a6cbd60aa727b2f653a522567439dfb9f3e72b21f9b25941a42f04a7cd");
  const auto k_region = hmac(k_date, "us-east-1");
  EXPECT_EQ(crypto::to_hex(k_region), "f33d5808504bf34812e5fade63308b424b244c59189be2a591dd2282c7cb563f");
  const auto k_service = hmac(k_region, "ssmmessages");
  EXPECT_EQ(crypto::to_hex(k_service), "c8c79cf9e71ff8100a7cc2d203d4716f98a3bb68641bb203865592b1bbbfb90e");
  EXPECT_EQ(hmac(k_service, "aws4_request"), signing_key(kSecret, "20150830", "us-east-1", "ssmmessages"));
}

TEST(WebSocketUpgrade, VariantSessionToken) {
  const auto r = sign_websocket_upgrade(kStreamUrl, "us-east-1", credentials("AQoDYXdzEXAMPLETOKEN"), kSuiteTime);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->canonical_request.find("\nx-amz-date:20150830T123600Z\nx-amz-security-token:AQoDYXdzEXAMPLETOKEN\n\n"),
            std::string::npos);
  EXPECT_EQ(r->signed_headers, "host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(hash_hex(r->canonical_request), "d9967d46596591abf3c617bd176752f5f86f4a684e519ff8ecb813292049810c");
  EXPECT_EQ(r->signature, "f10b64225a308281bd1daaa4c9c2f266dd6c15eff08104a86a18da8ace200047");
  const Headers expected = {{"X-Amz-Date", "20150830T123600Z"},
                            {"Authorization",
                             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ssmmessages/aws4_request, "
                             "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                             "Signature=f10b64225a308281bd1daaa4c9c2f266dd6c15eff08104a86a18da8ace200047"},
                            {"X-Amz-Security-Token", "AQoDYXdzEXAMPLETOKEN"}};
  EXPECT_EQ(r->headers, expected);
}

TEST(WebSocketUpgrade, VariantLoopbackWithPort) {
  const auto r = sign_websocket_upgrade("ws://127.0.0.1:8080/v1/data-channel/s-0123?role=publish_subscribe",
                                        "us-east-1", credentials(), kSuiteTime);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->host, "127.0.0.1:8080");
  EXPECT_NE(r->canonical_request.find("\nhost:127.0.0.1:8080\n"), std::string::npos);
  EXPECT_EQ(hash_hex(r->canonical_request), "7b309933031b24c5ae042fbe0ffb5bf92151a68d0551e972dd22b8ee395ae32b");
  EXPECT_EQ(r->signature, "51d21280329af50f5ab3597195c672f345beed73e90fbfe03fa23993cd12ef82");
}

TEST(WebSocketUpgrade, VariantExplicitDefaultPortIsKept) {
  const auto r = sign_websocket_upgrade(
      "wss://ssmmessages.us-east-1.amazonaws.com:443/v1/data-channel/s-0123?role=publish_subscribe", "us-east-1",
      credentials(), kSuiteTime);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->host, "ssmmessages.us-east-1.amazonaws.com:443");
  EXPECT_NE(r->canonical_request.find("\nhost:ssmmessages.us-east-1.amazonaws.com:443\n"), std::string::npos);
  EXPECT_EQ(r->signature, "2ee2daf90ad766db83a40d9c77c83d10208c23dc59667bae3a22465f8a7c4cc3");
}

TEST(WebSocketUpgrade, VariantPlusInQuerySignsAsSpaceLikeGo) {
  const auto r = sign_websocket_upgrade(
      "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-0123?"
      "role=publish_subscribe&cell-number=AAEAAQ%2Fx+y%3D%3D",
      "us-east-1", credentials(), kSuiteTime);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->canonical_request.find("\ncell-number=AAEAAQ%2Fx%20y%3D%3D&role=publish_subscribe\n"), std::string::npos)
      << r->canonical_request;
  EXPECT_EQ(r->signature, "3128ace7568a69b5dd29eecbfeff71df1c2ebda6fb96018eda41a37f667ca63c");
  // The request line keeps the original query text.
  EXPECT_EQ(r->target, "/v1/data-channel/s-0123?role=publish_subscribe&cell-number=AAEAAQ%2Fx+y%3D%3D");
}

TEST(WebSocketUpgrade, FreshSignaturePerAttempt) {
  const auto a = sign_websocket_upgrade(kStreamUrl, "us-east-1", credentials(), kSuiteTime);
  const auto b = sign_websocket_upgrade(kStreamUrl, "us-east-1", credentials(), kSuiteTime + seconds{1});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->headers[0], (Header{"X-Amz-Date", "20150830T123601Z"}));
  EXPECT_NE(a->signature, b->signature);
}

TEST(WebSocketUpgrade, RejectsWhatItCannotSign) {
  EXPECT_EQ(
      sign_websocket_upgrade("https://ssmmessages.us-east-1.amazonaws.com/x", "us-east-1", credentials(), kSuiteTime)
          .error(),
      Errc::unsupported_url_scheme);
  EXPECT_EQ(sign_websocket_upgrade("not a url", "us-east-1", credentials(), kSuiteTime).error(), Errc::bad_url);
  EXPECT_EQ(sign_websocket_upgrade("wss:///x", "us-east-1", credentials(), kSuiteTime).error(), Errc::missing_url_host);
  EXPECT_EQ(sign_websocket_upgrade(kStreamUrl, "", credentials(), kSuiteTime).error(), Errc::missing_scope);
  EXPECT_EQ(sign_websocket_upgrade(kStreamUrl, "us-east-1", Credentials{}, kSuiteTime).error(),
            Errc::missing_credentials);
  EXPECT_EQ(
      sign_websocket_upgrade(std::string(kStreamUrl) + "&X-Amz-Signature=abc", "us-east-1", credentials(), kSuiteTime)
          .error(),
      Errc::url_already_presigned);
  // Scheme is compared case-insensitively (02 §1.1.1).
  EXPECT_TRUE(
      sign_websocket_upgrade("WSS://ssmmessages.us-east-1.amazonaws.com/x", "us-east-1", credentials(), kSuiteTime));
}

// 02 §1.3: IsPresignedURL.
TEST(PresignedUrl, AnyOfTheSevenParametersMarksAPresignedUrl) {
  for (const char* name : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                           "X-Amz-Signature", "X-Amz-Security-Token"}) {
    const auto r = is_presigned_url(std::string(kStreamUrl) + "&" + name + "=v");
    ASSERT_TRUE(r) << name;
    EXPECT_TRUE(*r) << name;
  }
  EXPECT_FALSE(*is_presigned_url(kStreamUrl));
  EXPECT_FALSE(*is_presigned_url(std::string(kStreamUrl) + "&x-amz-date=v"));    // case-sensitive
  EXPECT_FALSE(*is_presigned_url(std::string(kStreamUrl) + "&foo=X-Amz-Date"));  // names only
  EXPECT_TRUE(*is_presigned_url(std::string(kStreamUrl) + "&X-Amz-Dat%65=v"));   // names are decoded, as in Go
  EXPECT_EQ(is_presigned_url("::bad").error(), Errc::bad_url);
}

// ---------------------------------------------------------------------------
// Building blocks and error paths the suites do not reach.

TEST(SigV4Blocks, AmzDateFormatAndRange) {
  EXPECT_EQ(*format_amz_date(kSuiteTime + milliseconds{999}), "20150830T123600Z");
  EXPECT_EQ(*format_amz_date(sys_days{year{1970} / 1 / 1}), "19700101T000000Z");
  EXPECT_EQ(format_amz_date(sys_days{year{1969} / 12 / 31}).error(), Errc::bad_signing_time);
}

TEST(SigV4Blocks, UriEncoding) {
  EXPECT_EQ(uri_encode("a b/c~-._+*"), "a%20b%2Fc~-._%2B%2A");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xE1\x88\xB4"), "%E1%88%B4");
}

TEST(SigV4Blocks, CanonicalUriSwitches) {
  // Default (all services but S3): normalize, then encode the wire path again.
  EXPECT_EQ(*canonical_uri("/a/./b/../c//d/", true, true), "/a/c/d/");
  EXPECT_EQ(*canonical_uri("/a%2Fb", true, true), "/a%252Fb");
  EXPECT_EQ(*canonical_uri("", true, true), "/");
  // S3: no normalization, single encoding (escapes kept, raw bytes encoded).
  EXPECT_EQ(*canonical_uri("//a%2Fb c/./", false, false), "//a%2Fb%20c/./");
  EXPECT_EQ(canonical_uri("/a%2", false, false).error(), Errc::bad_percent_encoding);
  EXPECT_EQ(canonical_uri("/a%zz", false, false).error(), Errc::bad_percent_encoding);
}

TEST(SigV4Blocks, CanonicalQuery) {
  EXPECT_EQ(*canonical_query(""), "");
  EXPECT_EQ(*canonical_query("b=2&a=1&&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(*canonical_query("x=a+b%20c%7e"), "x=a%20b%20c~");
  EXPECT_EQ(canonical_query("x=%G1").error(), Errc::bad_percent_encoding);
  EXPECT_EQ(canonical_query("x=%4").error(), Errc::bad_percent_encoding);
}

TEST(SigV4Blocks, HeaderValueTrimAndFold) {
  EXPECT_EQ(canonical_header_value("  a   b\t\tc  "), "a b c");
  EXPECT_EQ(canonical_header_value("value1\n  value2\r\n     value3"), "value1 value2 value3");
  EXPECT_EQ(canonical_header_value(""), "");
}

HttpRequest simple_request() {
  HttpRequest r;
  r.headers = {{"Host", "example.amazonaws.com"}};
  return r;
}

SigningParams suite_params() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "service";
  p.time = kSuiteTime;
  return p;
}

TEST(SigV4Errors, ValuesNotExceptions) {
  HttpRequest no_host;
  EXPECT_EQ(sign_headers(no_host, credentials(), suite_params()).error(), Errc::missing_host_header);
  EXPECT_EQ(sign_headers(simple_request(), Credentials{"AKID", "", {}, {}}, suite_params()).error(),
            Errc::missing_credentials);
  auto conflicting = simple_request();
  conflicting.headers.push_back({"x-amz-date", "20000101T000000Z"});
  EXPECT_EQ(sign_headers(conflicting, credentials(), suite_params()).error(), Errc::conflicting_header);
  auto bad_query = simple_request();
  bad_query.query = "a=%";
  EXPECT_EQ(sign_headers(bad_query, credentials(), suite_params()).error(), Errc::bad_percent_encoding);
  auto params = suite_params();
  params.expires = seconds{0};
  EXPECT_EQ(presign_query(simple_request(), credentials(), params).error(), Errc::bad_expiry);
  params.expires = kMaxPresignExpiry + seconds{1};
  EXPECT_EQ(presign_query(simple_request(), credentials(), params).error(), Errc::bad_expiry);
}

TEST(SigV4Payload, UnsignedPayloadAndContentSha256OnlyWhenAsked) {
  auto request = simple_request();
  request.body = "hello";
  const auto plain = sign_headers(request, credentials(), suite_params());
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->canonical_request.ends_with("\n" + hash_hex("hello")));
  for (const auto& h : plain->headers) EXPECT_NE(h.name, "x-amz-content-sha256");

  request.payload_hash = kUnsignedPayload;
  auto params = suite_params();
  params.add_content_sha256_header = true;
  const auto s3 = sign_headers(request, credentials(), params);
  ASSERT_TRUE(s3);
  EXPECT_TRUE(s3->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  EXPECT_NE(s3->canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_EQ(s3->signed_headers, "host;x-amz-content-sha256;x-amz-date");

  const auto presigned = presign_query(request, credentials(), suite_params());
  ASSERT_TRUE(presigned);
  EXPECT_TRUE(presigned->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4Headers, UnsignedHeadersAreSkippedAndDuplicatesJoined) {
  auto request = simple_request();
  request.headers.push_back({"User-Agent", "ssmc"});
  request.headers.push_back({"Upgrade", "websocket"});
  request.headers.push_back({"Sec-WebSocket-Key", "abc"});
  request.headers.push_back({"X-Dup", " b "});
  request.headers.push_back({"x-dup", "a"});
  const auto r = sign_headers(request, credentials(), suite_params());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->signed_headers, "host;x-amz-date;x-dup");
  EXPECT_NE(r->canonical_request.find("\nx-dup:b,a\n"), std::string::npos);
}

TEST(Credentials, RedactedNeverShowsSecrets) {
  Credentials c = credentials("TOKENSECRET");
  c.expiration = kSuiteTime + hours{1};
  const std::string text = redacted(c);
  EXPECT_EQ(text, "AKIDEXAMPLE secret=**** token=**** expires=2015-08-30T13:36:00Z");
  std::ostringstream os;
  os << c;
  EXPECT_EQ(os.str(), text);
  EXPECT_EQ(redacted(credentials()), "AKIDEXAMPLE secret=****");
}

}  // namespace
}  // namespace ssmc::aws
