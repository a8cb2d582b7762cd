// SigV4 verifier (src/aws/sigv4_verify.hpp): every case of both AWS suites,
// signed by our signer (header and query form) and as the suites' own signed
// requests, verifies; every single-character mutation of a signed part fails
// unless it leaves the canonical form unchanged; wrong secret, clock skew,
// presigned expiry, tokens, malformed Authorization headers; the 01 §2 and
// 02 §1.5 examples; and an oracle: requests signed by the real AWS CLI (v2
// and, if installed, v1) captured by a loopback server.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "aws/api.hpp"
#include "aws/errors.hpp"
#include "aws/sigv4.hpp"
#include "aws/sigv4_verify.hpp"
#include "crypto/sha256.hpp"

namespace ssmc::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const fs::path kSigV4Dir = fs::path(SSMC_SHARED_DIR) / "testdata" / "sigv4";
const fs::path kClassicDir = kSigV4Dir / "aws4_testsuite";
const fs::path kCrtDir = kSigV4Dir / "aws-signing-test-suite" / "v4";
constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const system_clock::time_point kSuiteTime = sys_days{year{2015} / 8 / 30} + hours{12} + minutes{36};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A raw request of the suites (LF lines, obs-fold continuation) or of a
// capture (CRLF): request line, headers, blank line, body.
struct RawRequest {
  std::string method, path, query;
  Headers headers;
  std::string body;
};

RawRequest parse_raw(std::string text) {
  // Normalise CRLF to LF for the head only.
  const auto head_end = text.find("\r\n\r\n");
  if (head_end != std::string::npos) {
    std::string head = text.substr(0, head_end);
    std::string body = text.substr(head_end + 4);
    head.erase(std::remove(head.begin(), head.end(), '\r'), head.end());
    text = head + "\n\n" + body;
  }
  RawRequest r;
  std::string_view all = text;
  std::string_view head = all;
  if (const auto blank = all.find("\n\n"); blank != std::string_view::npos) {
    head = all.substr(0, blank);
    r.body = std::string(all.substr(blank + 2));
  } else if (!head.empty() && head.back() == '\n') {
    head.remove_suffix(1);
  }
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= head.size();) {
    const auto nl = std::min(head.find('\n', pos), head.size());
    lines.push_back(head.substr(pos, nl - pos));
    pos = nl + 1;
  }
  const auto line = lines.at(0);
  const auto first = line.find(' '), last = line.rfind(' ');
  r.method = std::string(line.substr(0, first));
  const auto target = line.substr(first + 1, last - first - 1);
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (std::size_t i = 1; i < lines.size(); ++i) {
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

Credentials credentials(std::optional<std::string> token = std::nullopt) {
  return {std::string(kAccessKey), std::string(kSecret), std::move(token), std::nullopt};
}

// A key store with one key.
CredentialLookup store(Credentials creds) {
  return [creds](std::string_view id) -> std::optional<Credentials> {
    if (id == creds.access_key_id) return creds;
    return std::nullopt;
  };
}

VerifyOptions suite_options(system_clock::time_point now = kSuiteTime) {
  VerifyOptions o;
  o.service = "service";
  o.region = "us-east-1";
  o.now = now;
  return o;
}

// A signed request as the server receives it, and what it takes to verify it.
struct SignedCase {
  RawRequest received;
  Credentials creds;
  VerifyOptions options;
};

// Classic suite case signed by our signer (header form).
SignedCase classic_case(const std::string& name) {
  const fs::path dir = kClassicDir / name;
  const std::string base = dir.filename().string();
  SignedCase c;
  c.received = parse_raw(read_file(dir / (base + ".req")));
  std::optional<std::string> token;
  SigningParams params;
  params.region = "us-east-1";
  params.service = "service";
  params.time = kSuiteTime;
  if (name.rfind("post-sts-token/", 0) == 0) {
    const std::string readme = read_file(kClassicDir / "post-sts-token" / "readme.txt");
    token = readme.substr(readme.rfind("\n\n") + 2);
    params.omit_session_token = base == "post-sts-header-after";
  } else if (base == "get-vanilla-with-session-token") {
    const std::string creq = read_file(dir / (base + ".creq"));
    const std::string key = "x-amz-security-token:";
    const auto at = creq.find(key) + key.size();
    token = creq.substr(at, creq.find('\n', at) - at);
  }
  c.creds = credentials(token);
  const auto signed_request = sign_headers(to_request(c.received), c.creds, params);
  EXPECT_TRUE(signed_request) << name;
  if (signed_request)
    for (const auto& h : signed_request->headers) c.received.headers.push_back(h);
  c.options = suite_options();
  return c;
}

struct CrtContext {
  Credentials creds;
  SigningParams params;
  bool sign_body = false;
};

system_clock::time_point parse_timestamp(std::string_view iso) {  // "2015-08-30T12:36:00Z"
  auto num = [&](std::size_t at, std::size_t len) { return std::stoi(std::string(iso.substr(at, len))); };
  return sys_days{year{num(0, 4)} / num(5, 2) / num(8, 2)} + hours{num(11, 2)} + minutes{num(14, 2)} +
         seconds{num(17, 2)};
}

CrtContext crt_context(const fs::path& dir) {
  CrtContext c;
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

VerifyOptions crt_options(const CrtContext& ctx) {
  VerifyOptions o;
  o.service = ctx.params.service;
  o.region = ctx.params.region;
  o.now = ctx.params.time;
  o.normalize_path = ctx.params.normalize_path;
  return o;
}

SignedCase crt_case(const std::string& name, bool query_form) {
  const fs::path dir = kCrtDir / name;
  CrtContext ctx = crt_context(dir);
  SignedCase c;
  c.received = parse_raw(read_file(dir / "request.txt"));
  c.creds = ctx.creds;
  c.options = crt_options(ctx);
  if (query_form) {
    const auto r = presign_query(to_request(c.received), ctx.creds, ctx.params);
    EXPECT_TRUE(r) << name;
    if (r) c.received.query = r->query;
  } else {
    ctx.params.add_content_sha256_header = ctx.sign_body;
    const auto r = sign_headers(to_request(c.received), ctx.creds, ctx.params);
    EXPECT_TRUE(r) << name;
    if (r)
      for (const auto& h : r->headers) c.received.headers.push_back(h);
  }
  return c;
}

VerifyResult<VerifiedRequest> verify(const SignedCase& c, const RawRequest& received) {
  return verify_sigv4(to_request(received), store(c.creds), c.options);
}

// A different character that keeps the class (digit, lower, upper; others -> 'x').
char mutate(char c) {
  if (c >= '0' && c <= '9') return c == '9' ? '0' : static_cast<char>(c + 1);
  if (c >= 'a' && c <= 'z') return c == 'z' ? 'a' : static_cast<char>(c + 1);
  if (c >= 'A' && c <= 'Z') return c == 'Z' ? 'A' : static_cast<char>(c + 1);
  return c == 'x' ? 'y' : 'x';
}

// Every single-character mutation of every signed part (method, path, query,
// every header name and value, body) must be rejected — unless it leaves the
// part's canonical form (by the signer's building blocks) unchanged, in which
// case it must still verify. Returns the number of mutations tried.
int check_mutations(const SignedCase& c) {
  int tried = 0, equivalents = 0;
  auto expect = [&](const RawRequest& mutated, bool equivalent, const std::string& what) {
    ++tried;
    equivalents += equivalent ? 1 : 0;
    const auto r = verify(c, mutated);
    if (equivalent)
      EXPECT_TRUE(r) << what << ": " << (r ? "" : r.error().error.message);
    else
      EXPECT_FALSE(r) << what;
  };
  auto same = [](const Result<std::string>& a, const Result<std::string>& b) { return a && b && *a == *b; };
  const RawRequest& orig = c.received;

  for (std::size_t i = 0; i < orig.method.size(); ++i) {
    RawRequest m = orig;
    m.method[i] = mutate(m.method[i]);
    expect(m, false, "method " + m.method);
  }
  for (std::size_t i = 0; i < orig.path.size(); ++i) {
    RawRequest m = orig;
    m.path[i] = mutate(m.path[i]);
    const bool eq = same(canonical_uri(m.path, c.options.normalize_path, true),
                         canonical_uri(orig.path, c.options.normalize_path, true));
    expect(m, eq, "path " + m.path);
  }
  for (std::size_t i = 0; i < orig.query.size(); ++i) {
    RawRequest m = orig;
    m.query[i] = mutate(m.query[i]);
    expect(m, same(canonical_query(m.query), canonical_query(orig.query)), "query " + m.query);
  }
  for (std::size_t h = 0; h < orig.headers.size(); ++h) {
    for (std::size_t i = 0; i < orig.headers[h].name.size(); ++i) {
      RawRequest m = orig;
      m.headers[h].name[i] = mutate(m.headers[h].name[i]);
      expect(m, false, "header name " + m.headers[h].name);
    }
    for (std::size_t i = 0; i < orig.headers[h].value.size(); ++i) {
      RawRequest m = orig;
      m.headers[h].value[i] = mutate(m.headers[h].value[i]);
      const bool eq = canonical_header_value(m.headers[h].value) == canonical_header_value(orig.headers[h].value);
      expect(m, eq, "header " + m.headers[h].name + ": " + m.headers[h].value);
    }
  }
  for (std::size_t i = 0; i < orig.body.size(); ++i) {
    RawRequest m = orig;
    m.body[i] = mutate(m.body[i]);
    expect(m, false, "body " + m.body);
  }
  testing::Test::RecordProperty("mutations", tried);
  testing::Test::RecordProperty("equivalent_mutations", equivalents);
  return tried;
}

// ---------------------------------------------------------------------------
// aws4_testsuite

class ClassicVerify : public testing::TestWithParam<std::string> {};

TEST_P(ClassicVerify, OurSignatureVerifies) {
  const SignedCase c = classic_case(GetParam());
  const auto r = verify(c, c.received);
  ASSERT_TRUE(r) << r.error().error.code << ": " << r.error().error.message;
  EXPECT_EQ(r->access_key_id, kAccessKey);
  EXPECT_EQ(r->region, "us-east-1");
  EXPECT_EQ(r->service, "service");
  EXPECT_FALSE(r->presigned);
  EXPECT_EQ(r->signed_at, kSuiteTime);
}

TEST_P(ClassicVerify, SuiteSignedRequestVerifies) {
  // The suite's own .sreq as received ("Authorization: " with a space).
  const fs::path dir = kClassicDir / GetParam();
  const std::string base = dir.filename().string();
  const SignedCase c = classic_case(GetParam());
  const RawRequest sreq = parse_raw(read_file(dir / (base + ".sreq")));
  const auto r = verify(c, sreq);
  if (base == "get-vanilla-with-session-token") {
    // Known stale signature in this .sreq (testdata README): must be refused.
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, Errc::sigv4_signature_mismatch);
    return;
  }
  ASSERT_TRUE(r) << r.error().error.message;
}

TEST_P(ClassicVerify, EverySignedCharacterMatters) {
  const SignedCase c = classic_case(GetParam());
  EXPECT_GT(check_mutations(c), 50);
}

TEST_P(ClassicVerify, WrongSecretFailsWithTheExpectedCanonicalRequest) {
  SignedCase c = classic_case(GetParam());
  // What we signed, recomputed: the refusal must show exactly it (AWS-style).
  const fs::path dir = kClassicDir / GetParam();
  const std::string base = dir.filename().string();
  c.creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
  const auto r = verify(c, c.received);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Errc::sigv4_signature_mismatch);
  EXPECT_EQ(r.error().error.code, "InvalidSignatureException");
  EXPECT_EQ(r.error().error.http_status, 400);
  const std::string& m = r.error().error.message;
  EXPECT_EQ(m.rfind("The request signature we calculated does not match the signature you provided.", 0), 0u);
  EXPECT_NE(
      m.find("The Canonical String for this request should have been\n'" + read_file(dir / (base + ".creq")) + "'\n"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("The String-to-Sign should have been\n'" + read_file(dir / (base + ".sts")) + "'\n"),
            std::string::npos);
  EXPECT_EQ(m.find(kSecret.substr(0, 20)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Aws4TestSuite, ClassicVerify, testing::ValuesIn(case_dirs(kClassicDir)), test_name);

// ---------------------------------------------------------------------------
// aws-c-auth suite, header and query forms

class CrtVerify : public testing::TestWithParam<std::string> {};

TEST_P(CrtVerify, HeaderFormVerifiesAndEveryCharacterMatters) {
  const SignedCase c = crt_case(GetParam(), false);
  const auto r = verify(c, c.received);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_FALSE(r->presigned);
  EXPECT_GT(check_mutations(c), 50);
}

TEST_P(CrtVerify, QueryFormVerifiesAndEveryCharacterMatters) {
  const SignedCase c = crt_case(GetParam(), true);
  const auto r = verify(c, c.received);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_TRUE(r->presigned);
  ASSERT_TRUE(r->expires_at);
  EXPECT_EQ(*r->expires_at, kSuiteTime + seconds{3600});
  EXPECT_GT(check_mutations(c), 100);
}

TEST_P(CrtVerify, SuiteSignedRequestsVerify) {
  const fs::path dir = kCrtDir / GetParam();
  const CrtContext ctx = crt_context(dir);
  const SignedCase c{{}, ctx.creds, crt_options(ctx)};
  for (const char* file : {"header-signed-request.txt", "query-signed-request.txt"}) {
    const auto r = verify(c, parse_raw(read_file(dir / file)));
    EXPECT_TRUE(r) << file << ": " << (r ? "" : r.error().error.message);
  }
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuiteV4, CrtVerify, testing::ValuesIn(case_dirs(kCrtDir)), test_name);

TEST(VerifySuites, AllCasesPresent) {
  EXPECT_EQ(case_dirs(kClassicDir).size(), 34u);
  EXPECT_EQ(case_dirs(kCrtDir).size(), 38u);
}

// ---------------------------------------------------------------------------
// Clock, presigned expiry

TEST(VerifyClock, FiveMinutesEitherWayAsAws) {
  const SignedCase c = classic_case("get-vanilla");
  auto at = [&](system_clock::time_point now) {
    SignedCase copy = c;
    copy.options.now = now;
    return verify(copy, copy.received);
  };
  EXPECT_TRUE(at(kSuiteTime + minutes{5}));
  EXPECT_TRUE(at(kSuiteTime - minutes{5}));
  const auto late = at(kSuiteTime + minutes{5} + seconds{1});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().reason, Errc::sigv4_request_time_skewed);
  EXPECT_EQ(late.error().error.code, "InvalidSignatureException");
  EXPECT_EQ(late.error().error.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)");
  const auto early = at(kSuiteTime - minutes{5} - seconds{1});
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().reason, Errc::sigv4_request_time_skewed);
  EXPECT_EQ(early.error().error.message,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T123059Z + 5 "
            "min.)");
}

TEST(VerifyClock, PresignedUrlValidUntilExpiry) {
  const SignedCase c = crt_case("get-vanilla", true);
  auto at = [&](system_clock::time_point now) {
    SignedCase copy = c;
    copy.options.now = now;
    return verify(copy, copy.received);
  };
  EXPECT_TRUE(at(kSuiteTime + seconds{3600}));  // X-Amz-Expires=3600, longer than the skew
  EXPECT_TRUE(at(kSuiteTime - minutes{5}));
  const auto expired = at(kSuiteTime + seconds{3601});
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().reason, Errc::sigv4_request_time_skewed);
  EXPECT_FALSE(at(kSuiteTime - minutes{5} - seconds{1}));
}

TEST(VerifyClock, ExpiresOutOfRangeIsIncomplete) {
  SignedCase c = crt_case("get-vanilla", true);
  const auto at = c.received.query.find("X-Amz-Expires=3600");
  ASSERT_NE(at, std::string::npos);
  c.received.query.replace(at, 18, "X-Amz-Expires=604801");
  const auto r = verify(c, c.received);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Errc::sigv4_incomplete_signature);
}

// ---------------------------------------------------------------------------
// Keys, tokens, scope

TEST(VerifyKeys, UnknownKeyTokenRulesAndExpiry) {
  SignedCase c = classic_case("get-vanilla");
  auto run = [&](const Credentials& stored, const RawRequest& received) {
    return verify_sigv4(to_request(received), store(stored), c.options);
  };
  // Unknown key.
  const auto unknown = verify_sigv4(to_request(c.received), store(Credentials{"AKIDOTHER", "x", {}, {}}), c.options);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().reason, Errc::sigv4_unknown_access_key);
  EXPECT_EQ(unknown.error().error.code, "UnrecognizedClientException");
  EXPECT_EQ(unknown.error().error.message, "The security token included in the request is invalid.");
  // Temporary key stored, request without token.
  const auto missing = run(credentials("TOKEN1"), c.received);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, Errc::sigv4_invalid_token);

  const SignedCase t = classic_case("get-vanilla-with-session-token");
  const std::string token = *t.creds.session_token;
  EXPECT_TRUE(run(credentials(token), t.received));
  // Wrong token, and a token where none is expected.
  EXPECT_EQ(run(credentials(token + "x"), t.received).error().reason, Errc::sigv4_invalid_token);
  EXPECT_EQ(run(credentials(), t.received).error().reason, Errc::sigv4_invalid_token);
  // Expired credentials.
  Credentials expired = credentials(token);
  expired.expiration = kSuiteTime;
  const auto e = run(expired, t.received);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().reason, Errc::sigv4_expired_token);
  EXPECT_EQ(e.error().error.code, "ExpiredTokenException");
  expired.expiration = kSuiteTime + seconds{1};
  EXPECT_TRUE(run(expired, t.received));
}

TEST(VerifyKeys, QueryDialectNames) {
  SignedCase c = classic_case("get-vanilla");
  c.options.dialect = AuthErrorDialect::query;
  c.creds.secret_access_key = "wrong";
  EXPECT_EQ(verify(c, c.received).error().error.code, "SignatureDoesNotMatch");
  EXPECT_EQ(verify(c, c.received).error().error.http_status, 403);
  const auto unknown = verify_sigv4(to_request(c.received), store(Credentials{"AKIDOTHER", "x", {}, {}}), c.options);
  EXPECT_EQ(unknown.error().error.code, "InvalidClientTokenId");
  RawRequest bare = c.received;
  bare.headers.erase(std::remove_if(bare.headers.begin(), bare.headers.end(),
                                    [](const Header& h) { return h.name == "Authorization"; }),
                     bare.headers.end());
  EXPECT_EQ(verify(c, bare).error().error.code, "MissingAuthenticationToken");
}

TEST(VerifyScope, RegionServiceTerminatorAndDate) {
  const SignedCase c = classic_case("get-vanilla");
  auto with = [&](auto change) {
    SignedCase copy = c;
    change(copy.options);
    return verify(copy, copy.received);
  };
  EXPECT_TRUE(with([](VerifyOptions& o) { o.region = "any"; }));
  EXPECT_TRUE(with([](VerifyOptions& o) { o.region = ""; }));
  EXPECT_TRUE(with([](VerifyOptions& o) { o.service = ""; }));
  const auto region = with([](VerifyOptions& o) { o.region = "eu-west-1"; });
  ASSERT_FALSE(region);
  EXPECT_EQ(region.error().reason, Errc::sigv4_signature_mismatch);
  EXPECT_EQ(region.error().error.message.rfind("Credential should be scoped to a valid region, not 'us-east-1'.", 0),
            0u);
  const auto service = with([](VerifyOptions& o) { o.service = "ssm"; });
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().error.message, "Credential should be scoped to correct service: 'ssm'.");
}

TEST(VerifyForm, MissingBothOrMalformed) {
  const SignedCase c = classic_case("get-vanilla");
  RawRequest bare = c.received;
  bare.headers.pop_back();  // Authorization
  const auto missing = verify(c, bare);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, Errc::sigv4_missing_authentication);
  EXPECT_EQ(missing.error().error.code, "MissingAuthenticationTokenException");
  EXPECT_EQ(missing.error().error.http_status, 403);
  EXPECT_EQ(missing.error().error.message, "Missing Authentication Token");

  RawRequest both = c.received;
  both.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
  EXPECT_EQ(verify(c, both).error().reason, Errc::sigv4_incomplete_signature);

  RawRequest no_date = c.received;
  no_date.headers.erase(std::remove_if(no_date.headers.begin(), no_date.headers.end(),
                                       [](const Header& h) { return h.name == "X-Amz-Date"; }),
                        no_date.headers.end());
  const auto nd = verify(c, no_date);
  ASSERT_FALSE(nd);
  EXPECT_EQ(nd.error().error.code, "IncompleteSignatureException");
  EXPECT_EQ(nd.error().error.message.rfind("Authorization header requires existence of either a 'X-Amz-Date' or a "
                                           "'Date' header.",
                                           0),
            0u);
}

TEST(VerifyForm, AuthorizationHeaderParsing) {
  const auto ok = parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,"
      "  Signature=abc");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(ok->date, "20150830");
  EXPECT_EQ(ok->region, "us-east-1");
  EXPECT_EQ(ok->service, "service");
  EXPECT_EQ(ok->terminator, "aws4_request");
  EXPECT_EQ(ok->signed_headers, "host;x-amz-date");
  EXPECT_EQ(ok->signature, "abc");

  struct Bad {
    const char* value;
    const char* message_start;
  };
  for (const Bad& b : {
           Bad{"AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
               "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"},
           Bad{"AWS AKIDEXAMPLE:signature", "Unsupported AWS 'algorithm': 'AWS'"},
           Bad{"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=x",
               "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256"},
           Bad{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e",
               "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
               "parameter."},
           Bad{"AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=x",
               "Credential must have exactly 5 slash-delimited elements"},
           Bad{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=x",
               "Credential must have exactly 5 slash-delimited elements"},
           Bad{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
               "Authorization header has a repeated 'Credential' component."},
           Bad{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders, Signature=x",
               "Authorization header requires each component to be of the form key=value."},
       }) {
    const auto r = parse_authorization_header(b.value);
    ASSERT_FALSE(r) << b.value;
    EXPECT_EQ(r.error().reason, Errc::sigv4_incomplete_signature) << b.value;
    EXPECT_EQ(r.error().error.code, "IncompleteSignatureException");
    EXPECT_EQ(r.error().error.message.rfind(b.message_start, 0), 0u) << r.error().error.message;
  }
}

TEST(VerifyForm, HostMustBeSigned) {
  // Sign a request whose only signed headers are x-amz-date and a custom one.
  HttpRequest request;
  request.headers = {{"Host", "example.amazonaws.com"}};
  SigningParams params;
  params.region = "us-east-1";
  params.service = "service";
  params.time = kSuiteTime;
  const auto s = sign_headers(request, credentials(), params);
  ASSERT_TRUE(s);
  HttpRequest received = request;
  for (const auto& h : s->headers) received.headers.push_back(h);
  auto& auth = received.headers.back().value;
  auth.replace(auth.find("SignedHeaders=host;x-amz-date"), 29, "SignedHeaders=x-amz-date");
  const auto r = verify_sigv4(received, store(credentials()), suite_options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.message, "'Host' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST(VerifyForm, ContentSha256MustMatchBody) {
  SignedCase c = crt_case("post-vanilla", false);
  c.received.headers.push_back({"x-amz-content-sha256", std::string(kUnsignedPayload)});
  const auto r = verify(c, c.received);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.message, "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

TEST(VerifyForm, AmzDateParsing) {
  EXPECT_EQ(*parse_amz_date("20150830T123600Z"), kSuiteTime);
  EXPECT_EQ(*parse_amz_date("20240229T235959Z"), sys_days{year{2024} / 2 / 29} + hours{23} + minutes{59} + seconds{59});
  for (const char* bad : {"", "20150830T123600", "20150830 123600Z", "20230229T000000Z", "20151301T000000Z",
                          "20150830T243600Z", "20150830T126000Z", "2015083OT123600Z", "19691231T235959Z",
                          "20150830T123600Z ", "+2015083T123600Z", "27231114T221320Z" /* fuzz: chrono overflow */})
    EXPECT_EQ(parse_amz_date(bad).error(), Errc::bad_signing_time) << bad;
}

// ---------------------------------------------------------------------------
// The spec's examples

TEST(VerifySpec, StartSessionVectorOf01) {
  const std::string body =
      R"({"Target":"i-0123456789abcdef0","DocumentName":"AWS-StartPortForwardingSession","Parameters":{"portNumber":["80"],"localPortNumber":["56789"]}})";
  HttpRequest received;
  received.method = "POST";
  received.path = "/";
  received.headers = {{"Host", "ssm.us-east-1.amazonaws.com"},
                      {"Content-Type", "application/x-amz-json-1.1"},
                      {"X-Amz-Target", "AmazonSSM.StartSession"},
                      {"X-Amz-Date", "20231114T221320Z"},
                      {"Authorization",
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/ssm/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                       "Signature=68cd83f0db6e02a4eb1165454894cc2ff45cf8d983a8cb07b9c86e498f01a4f3"},
                      {"Content-Length", "143"},
                      {"User-Agent", "aws-cli/2"}};
  received.body = body;
  VerifyOptions o;
  o.service = "ssm";
  o.region = "us-east-1";
  o.now = sys_days{year{2023} / 11 / 14} + hours{22} + minutes{13} + seconds{20};
  const auto r = verify_sigv4(received, store(credentials()), o);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(r->signed_headers, "content-type;host;x-amz-date;x-amz-target");
  std::string tampered = body;
  tampered[tampered.find("80")] = '9';
  received.body = tampered;
  EXPECT_EQ(verify_sigv4(received, store(credentials()), o).error().reason, Errc::sigv4_signature_mismatch);
}

HttpRequest upgrade_request(const WebSocketUpgradeSigning& s) {
  HttpRequest received;
  received.method = "GET";
  const auto q = s.target.find('?');
  received.path = s.target.substr(0, q);
  received.query = q == std::string::npos ? "" : s.target.substr(q + 1);
  received.headers = {{"Host", s.host},
                      {"Upgrade", "websocket"},
                      {"Connection", "Upgrade"},
                      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                      {"Sec-WebSocket-Version", "13"}};
  for (const auto& h : s.headers) received.headers.push_back(h);
  return received;
}

TEST(VerifySpec, SignedWebSocketUpgradeOf02) {
  constexpr std::string_view url =
      "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-0123?role=publish_subscribe";
  VerifyOptions o;
  o.service = "ssmmessages";
  o.region = "us-east-1";
  o.now = kSuiteTime;
  o.normalize_path = false;

  const auto s = sign_websocket_upgrade(url, "us-east-1", credentials(), kSuiteTime);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->signature, "488e69aea76069e93009faca75bd206d19c6ad32f238838320fa3978d38d2fa0");
  const auto r = verify_sigv4(upgrade_request(*s), store(credentials()), o);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(r->service, "ssmmessages");
  EXPECT_EQ(r->signed_headers, "host;x-amz-date");

  // With a session token, and with the loopback URL of the emulator.
  const auto st = sign_websocket_upgrade(url, "us-east-1", credentials("AQoDYXdzEXAMPLETOKEN"), kSuiteTime);
  ASSERT_TRUE(st);
  EXPECT_TRUE(verify_sigv4(upgrade_request(*st), store(credentials("AQoDYXdzEXAMPLETOKEN")), o));
  const auto local = sign_websocket_upgrade("ws://127.0.0.1:8080/v1/data-channel/s-0123?role=publish_subscribe",
                                            "us-east-1", credentials(), kSuiteTime);
  ASSERT_TRUE(local);
  EXPECT_TRUE(verify_sigv4(upgrade_request(*local), store(credentials()), o));

  // Another session id in the path, or another role, is refused.
  HttpRequest other = upgrade_request(*s);
  other.path = "/v1/data-channel/s-0124";
  EXPECT_FALSE(verify_sigv4(other, store(credentials()), o));
  other = upgrade_request(*s);
  other.query = "role=subscribe";
  EXPECT_FALSE(verify_sigv4(other, store(credentials()), o));
  // A Host other than the signed authority is refused.
  other = upgrade_request(*s);
  other.headers[0].value = "ssmmessages.us-east-1.amazonaws.com:443";
  EXPECT_FALSE(verify_sigv4(other, store(credentials()), o));
}

TEST(VerifySpec, PreparedApiRequestVerifies) {
  // What the client sends (api.hpp) is what the emulator accepts.
  Endpoint endpoint;
  endpoint.scheme = "http";
  endpoint.host = "127.0.0.1";
  endpoint.port = 4566;
  const auto now = sys_days{year{2024} / 5 / 1} + hours{10};
  const auto prepared =
      prepare_json_request(endpoint, "TrentService.GenerateDataKey", R"({"KeyId":"alias/x","NumberOfBytes":64})",
                           credentials("TOKEN"), "eu-west-1", "kms", now);
  ASSERT_TRUE(prepared);
  HttpRequest received;
  received.method = prepared->method;
  received.path = prepared->target;
  received.headers = prepared->headers;
  received.body = prepared->body;
  VerifyOptions o;
  o.service = "kms";
  o.now = now + seconds{30};
  const auto r = verify_sigv4(received, store(credentials("TOKEN")), o);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->signed_headers, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
}

// ---------------------------------------------------------------------------
// ORACLE: requests signed by the real AWS CLI, captured on loopback.

// The capture server: prints its port, records the first request's raw
// bytes to argv[1], answers 400 TargetNotConnected (not retried), exits.
constexpr std::string_view kCaptureServer = R"PY(
import socket, sys
out = sys.argv[1]
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
s.settimeout(60)
print(s.getsockname()[1], flush=True)
conn, _ = s.accept()
conn.settimeout(30)
data = b''
while b'\r\n\r\n' not in data:
    chunk = conn.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b'\r\n\r\n')
length = 0
for line in head.split(b'\r\n')[1:]:
    k, _, v = line.partition(b':')
    if k.strip().lower() == b'content-length':
        length = int(v.strip())
while len(body) < length:
    chunk = conn.recv(65536)
    if not chunk:
        break
    body += chunk
with open(out, 'wb') as f:
    f.write(head + b'\r\n\r\n' + body)
resp = b'{"__type":"com.amazonaws.ssm#TargetNotConnected","Message":"i-0123456789abcdef0 is not connected."}'
conn.sendall(b'HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n'
             b'x-amzn-RequestId: 11111111-2222-3333-4444-555555555555\r\nContent-Length: '
             + str(len(resp)).encode() + b'\r\nConnection: close\r\n\r\n' + resp)
conn.close()
)PY";

std::string run_capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

struct Capture {
  std::string raw;
  std::string cli_output;
};

// Runs `cli_prefix ssm start-session ...` against a fresh capture server with
// fixture credentials in a clean environment.
Capture capture_cli_request(const std::string& cli_prefix, const std::optional<std::string>& token) {
  const fs::path dir =
      fs::temp_directory_path() / ("ssmc-oracle-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  fs::create_directories(dir / "home");
  { std::ofstream(dir / "server.py") << kCaptureServer; }
  const fs::path req = dir / "request.bin";
  Capture c;
  FILE* server = ::popen(("python3 '" + (dir / "server.py").string() + "' '" + req.string() + "'").c_str(), "r");
  if (!server) return c;
  char line[64] = {};
  if (!std::fgets(line, sizeof line, server)) {
    ::pclose(server);
    return c;
  }
  const int port = std::atoi(line);
  std::string env = "env -i PATH=/usr/bin:/bin HOME='" + (dir / "home").string() +
                    "' LANG=C.UTF-8 AWS_ACCESS_KEY_ID=AKIDEXAMPLE "
                    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY "
                    "AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_PAGER= ";
  if (token) env += "AWS_SESSION_TOKEN=" + *token + " ";
  c.cli_output = run_capture(env + cli_prefix +
                             " ssm start-session --target i-0123456789abcdef0 --region us-east-1 "
                             "--cli-connect-timeout 10 --cli-read-timeout 20 --endpoint-url http://127.0.0.1:" +
                             std::to_string(port) + " 2>&1");
  ::pclose(server);
  c.raw = read_file(req);
  fs::remove_all(dir);
  return c;
}

void check_oracle(const Capture& capture, const std::optional<std::string>& token) {
  ASSERT_FALSE(capture.raw.empty()) << "no request captured; CLI said: " << capture.cli_output;
  // The CLI got our error response and shows it.
  EXPECT_NE(capture.cli_output.find("TargetNotConnected"), std::string::npos) << capture.cli_output;
  const RawRequest raw = parse_raw(capture.raw);
  std::string amz_date;
  for (const auto& h : raw.headers)
    if (h.name == "X-Amz-Date") amz_date = std::string(canonical_header_value(h.value));
  const auto when = parse_amz_date(amz_date);
  ASSERT_TRUE(when) << capture.raw;
  VerifyOptions o;
  o.service = "ssm";
  o.region = "us-east-1";
  o.now = *when;
  const auto ok = verify_sigv4(to_request(raw), store(credentials(token)), o);
  ASSERT_TRUE(ok) << ok.error().error.message << "\n" << capture.raw;
  EXPECT_EQ(ok->access_key_id, "AKIDEXAMPLE");
  EXPECT_NE(ok->signed_headers.find("x-amz-target"), std::string::npos);
  // The body is a StartSession request our server-side parser accepts.
  const auto parsed = parse_start_session_request(raw.body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->target, "i-0123456789abcdef0");
  // One byte changed anywhere signed: refused.
  RawRequest body_changed = raw;
  body_changed.body[body_changed.body.find("i-0")] = 'j';
  EXPECT_EQ(verify_sigv4(to_request(body_changed), store(credentials(token)), o).error().reason,
            Errc::sigv4_signature_mismatch);
  RawRequest target_changed = raw;
  for (auto& h : target_changed.headers)
    if (h.name == "X-Amz-Target") h.value.back() = 'X';
  EXPECT_FALSE(verify_sigv4(to_request(target_changed), store(credentials(token)), o));
  // Wrong secret: refused. An hour later: refused.
  Credentials wrong = credentials(token);
  wrong.secret_access_key.back() = 'Z';
  EXPECT_FALSE(verify_sigv4(to_request(raw), store(wrong), o));
  o.now = *when + hours{1};
  EXPECT_EQ(verify_sigv4(to_request(raw), store(credentials(token)), o).error().reason,
            Errc::sigv4_request_time_skewed);
}

bool python3_available() { return std::system("python3 -c 'import socket' >/dev/null 2>&1") == 0; }

TEST(VerifyOracle, AwsCliV2SignedRequestVerifies) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "/usr/bin/aws (AWS CLI v2) is not installed";
  if (!python3_available()) GTEST_SKIP() << "python3 is needed for the capture server";
  const auto plain = capture_cli_request("/usr/bin/aws", std::nullopt);
  check_oracle(plain, std::nullopt);
  const std::string token = "FQoGZXIvYXdzEXAMPLE/TOKEN+value==";
  const auto with_token = capture_cli_request("/usr/bin/aws", token);
  check_oracle(with_token, token);
  // The token went in a signed header.
  EXPECT_NE(with_token.raw.find("x-amz-security-token;x-amz-target"), std::string::npos) << with_token.raw;
}

TEST(VerifyOracle, AwsCliV1SignedRequestVerifies) {
  if (!python3_available()) GTEST_SKIP() << "python3 is needed";
  // The interpreter that has awscli (v1, pip), by absolute path (the
  // clean environment below has no pyenv shims).
  std::string python = run_capture("python3 -c 'import awscli, sys; print(sys.executable)' 2>/dev/null");
  while (!python.empty() && (python.back() == '\n' || python.back() == '\r')) python.pop_back();
  if (python.empty()) GTEST_SKIP() << "awscli (v1) is not importable by python3";
  check_oracle(capture_cli_request("'" + python + "' -m awscli", std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace ssmc::aws
