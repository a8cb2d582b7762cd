// STS Query codec and the small XML parser (src/aws/sts_codec.hpp), plus the
// exact wire form of the AssumeRole request the resolver builds.
#include "aws/sts_codec.hpp"

#include <gtest/gtest.h>

#include "aws/credential_chain.hpp"
#include "aws/credential_test_support.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

using test::at;
using test::to_unix;

// The AssumeRole answer recorded in profile-provider/e2e_assume_role.
constexpr std::string_view kAssumeRoleResponse =
    R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROARABCDEFGHIJKLMNOP:assume-role-provider-session</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/integration-test/assume-role-provider-session</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIARTESTID</AccessKeyId>
      <SecretAccessKey>TESTSECRETKEY</SecretAccessKey>
      <SessionToken>TESTSESSIONTOKEN</SessionToken>
      <Expiration>2021-08-05T19:58:02Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c2e971c2-702d-4124-9b1f-1670febbea18</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
)";

constexpr std::string_view kErrorResponse = R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>InvalidIdentityToken</Code>
    <Message>No OpenIDConnect provider found in your account for https://s3-us-west-2.amazonaws.com/oidc-test-tzzotbwmznwimurcbkebndpxaimixbkc</Message>
  </Error>
  <RequestId>5045ca91-d123-4749-9d66-00a3c906be6c</RequestId>
</ErrorResponse>
)";

TEST(StsQuery, FormEncodingIsBotocores) {
  EXPECT_EQ(form_urlencode("arn:aws:iam::123456789:role/integration-test"),
            "arn%3Aaws%3Aiam%3A%3A123456789%3Arole%2Fintegration-test");
  EXPECT_EQ(form_urlencode("a b+c=d&e~f_g.h-i"), "a%20b%2Bc%3Dd%26e~f_g.h-i");
  EXPECT_EQ(form_urlencode("\xC3\xA9"), "%C3%A9");
}

TEST(StsQuery, AssumeRoleBodyMatchesTheRecordedRequest) {
  // profile-provider/e2e_assume_role/http-traffic.json (our session name differs, see the suite test).
  EXPECT_EQ(assume_role_body(
                {"arn:aws:iam::123456789:role/integration-test", "assume-role-provider-session", {}, {}, {}, {}}),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789%3Arole%2Fintegration-test"
            "&RoleSessionName=assume-role-provider-session");
  // Optional members in service-model order.
  EXPECT_EQ(assume_role_body({"arn:aws:iam::1:role/r", "s", 900, "ext id", "arn:aws:iam::1:mfa/u", "123456"}),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s"
            "&DurationSeconds=900&ExternalId=ext%20id&SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fu&TokenCode=123456");
  EXPECT_EQ(
      assume_role_with_web_identity_body({"arn:aws:iam::123456789012:role/test-role", "test-session", "eyJ0.a-b_c"}),
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
      "test-role&RoleSessionName=test-session&WebIdentityToken=eyJ0.a-b_c");
}

TEST(Xml, ParsesElementsTextEntitiesAndIgnoresTheRest) {
  auto doc = parse_xml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><!DOCTYPE r>"
      "<ns:r a='1' b=\"x&amp;y\"><k>a &lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#xe9;</k>"
      "<e/><c><![CDATA[<raw>&amp;]]></c><?pi x?><!-- inner --><k>second</k></ns:r>  <!-- end -->\n");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->name, "r");
  ASSERT_EQ(doc->children.size(), 4u);
  EXPECT_EQ(doc->child("k")->text, "a <>&\"' AB\xC3\xA9");
  EXPECT_EQ(doc->child("e")->text, "");
  EXPECT_EQ(doc->child("c")->text, "<raw>&amp;");
  EXPECT_EQ(doc->children[3].text, "second");
  EXPECT_EQ(doc->child("missing"), nullptr);
  EXPECT_NE(doc->find("e"), nullptr);
}

TEST(Xml, RejectsMalformedDocuments) {
  std::string deep;
  for (std::size_t i = 0; i <= kMaxXmlDepth; ++i) deep += "<a>";
  for (std::size_t i = 0; i <= kMaxXmlDepth; ++i) deep += "</a>";
  for (std::string_view bad : std::initializer_list<std::string_view>{"",
                                                                      "   ",
                                                                      "text",
                                                                      "<a>",
                                                                      "<a></b>",
                                                                      "<a><b></a></b>",
                                                                      "<a></a><b></b>",
                                                                      "<a></a>trailing",
                                                                      "x<a></a>",
                                                                      "<a>&unknown;</a>",
                                                                      "<a>&#0;</a>",
                                                                      "<a>&#x110000;</a>",
                                                                      "<a>&amp</a>",
                                                                      "<a b=c></a>",
                                                                      "<a b='1'c='2'/>",
                                                                      "<a b='<'/>",
                                                                      "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
                                                                      "<a><!-- unterminated</a>",
                                                                      "<a><![CDATA[ unterminated</a>",
                                                                      "<a><!ELEMENT x></a>",
                                                                      "</a>",
                                                                      "<>",
                                                                      "<a/ >",
                                                                      "<:>"}) {
    EXPECT_FALSE(parse_xml(bad)) << bad;
  }
  EXPECT_FALSE(parse_xml(deep));
  std::string ok_deep;
  for (std::size_t i = 0; i < kMaxXmlDepth; ++i) ok_deep += "<a>";
  for (std::size_t i = 0; i < kMaxXmlDepth; ++i) ok_deep += "</a>";
  EXPECT_TRUE(parse_xml(ok_deep));
}

TEST(StsResponse, ParsesAssumeRoleCredentials) {
  auto r = parse_sts_credentials(kAssumeRoleResponse, "AssumeRole");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->credentials.access_key_id, "ASIARTESTID");
  EXPECT_EQ(r->credentials.secret_access_key, "TESTSECRETKEY");
  EXPECT_EQ(r->credentials.session_token, "TESTSESSIONTOKEN");
  EXPECT_EQ(to_unix(*r->credentials.expiration), 1628193482);
  EXPECT_EQ(r->assumed_role_id, "AROARABCDEFGHIJKLMNOP:assume-role-provider-session");
  EXPECT_EQ(r->account_id, "123456789012");
  // Wrong action, missing pieces, not XML.
  auto wrong = parse_sts_credentials(kAssumeRoleResponse, "AssumeRoleWithWebIdentity");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, make_error_code(Errc::bad_credential_response));
  std::string no_token(kAssumeRoleResponse);
  no_token.erase(no_token.find("<SessionToken>"), std::string("<SessionToken>TESTSESSIONTOKEN</SessionToken>").size());
  auto missing = parse_sts_credentials(no_token, "AssumeRole");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("<SessionToken>"), std::string::npos);
  EXPECT_EQ(missing.error().message.find("TESTSECRETKEY"), std::string::npos);
  EXPECT_FALSE(parse_sts_credentials("{\"json\": true}", "AssumeRole"));
}

TEST(StsResponse, ParsesWebIdentityCredentialsWithPrefixesAndPadding) {
  auto r = parse_sts_credentials(
      "<sts:AssumeRoleWithWebIdentityResponse xmlns:sts='https://sts.amazonaws.com/doc/2011-06-15/'>"
      "<sts:AssumeRoleWithWebIdentityResult><sts:Credentials>"
      "<sts:AccessKeyId> AKIDTEST </sts:AccessKeyId><sts:SecretAccessKey>SECRETKEYTEST</sts:SecretAccessKey>"
      "<sts:SessionToken>SESSIONTOKEN_TEST</sts:SessionToken><sts:Expiration>2021-08-16T20:52:53Z</sts:Expiration>"
      "</sts:Credentials></sts:AssumeRoleWithWebIdentityResult></sts:AssumeRoleWithWebIdentityResponse>",
      "AssumeRoleWithWebIdentity");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->credentials.access_key_id, "AKIDTEST");
  EXPECT_FALSE(r->account_id);
}

TEST(StsResponse, ParsesErrors) {
  auto e = parse_sts_error(kErrorResponse);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "Sender");
  EXPECT_EQ(e->code, "InvalidIdentityToken");
  EXPECT_EQ(e->message.rfind("No OpenIDConnect provider found in your account", 0), 0u);
  EXPECT_EQ(e->request_id, "5045ca91-d123-4749-9d66-00a3c906be6c");
  auto ec2 = parse_sts_error(
      "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow</Message></Error></Errors>"
      "<RequestID>r-1</RequestID></Response>");
  ASSERT_TRUE(ec2);
  EXPECT_EQ(ec2->code, "RequestLimitExceeded");
  EXPECT_EQ(ec2->request_id, "r-1");
  EXPECT_FALSE(parse_sts_error(""));
  EXPECT_FALSE(parse_sts_error("<html><body>503</body></html>"));
  EXPECT_FALSE(parse_sts_error(kAssumeRoleResponse));
  EXPECT_TRUE(is_retryable_error_code("Throttling"));
  EXPECT_TRUE(is_retryable_error_code("IDPCommunicationError"));
  EXPECT_FALSE(is_retryable_error_code("AccessDenied"));
  EXPECT_FALSE(is_retryable_error_code("InvalidIdentityToken"));
}

// --- The AssumeRole request as the resolver sends it ----------------------------------------

// Golden Authorization values computed with botocore's SigV4Auth (python3,
// botocore.auth.SigV4Auth("sts", "us-east-1") at 2015-08-30T12:36:00Z) for
// the same body and credentials: an independent check of the whole request.
constexpr std::string_view kBody =
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
    "&RoleSessionName=s1&DurationSeconds=900&ExternalId=ext-1";

HttpAction first_assume_role(std::string_view credentials_text) {
  test::MapFiles files;
  ResolverInput in;
  in.cli_profile = "demo";
  in.env = {{"HOME", "/home/u"}};
  in.files = &files;
  in.now = at("2015-08-30T12:36:00Z");
  in.config = test::shared_config(
      "[profile demo]\nrole_arn = arn:aws:iam::123456789012:role/demo\nsource_profile = base\n"
      "role_session_name = s1\nexternal_id = ext-1\nduration_seconds = 900\nregion = us-east-1\n",
      credentials_text);
  CredentialResolver r(std::move(in));
  auto action = r.next_action();
  EXPECT_TRUE(std::holds_alternative<HttpAction>(action));
  return std::holds_alternative<HttpAction>(action) ? std::get<HttpAction>(action) : HttpAction{};
}

TEST(AssumeRoleRequest, ExactWireFormSignedLikeBotocore) {
  const HttpAction a = first_assume_role(
      "[base]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n");
  EXPECT_EQ(a.purpose, "sts:AssumeRole");
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.host, "sts.us-east-1.amazonaws.com");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.method, "POST");
  EXPECT_EQ(a.path, "/");
  EXPECT_EQ(a.query, "");
  EXPECT_EQ(a.body, kBody);
  EXPECT_EQ(a.url(), "https://sts.us-east-1.amazonaws.com/");
  EXPECT_EQ(a.timeout, kServiceTimeout);
  const Headers expected = {
      {"Host", "sts.us-east-1.amazonaws.com"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"X-Amz-Date", "20150830T123600Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=cad2a08bc8a840c5712323f5a7eb808621d2c54b4336dd27c0aad89e01b7fb4e"},
      {"Content-Length", std::to_string(kBody.size())},
  };
  EXPECT_EQ(a.headers, expected);
}

TEST(AssumeRoleRequest, CanonicalRequestIsBotocores) {
  const HttpAction a = first_assume_role(
      "[base]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n");
  // Re-sign what was sent, minus the signing headers, to see the canonical request.
  HttpRequest sent;
  sent.method = a.method;
  sent.path = a.path;
  sent.query = a.query;
  for (const auto& h : a.headers)
    if (h.name == "Host" || h.name == "Content-Type") sent.headers.push_back(h);
  sent.body = a.body;
  SigningParams params;
  params.region = "us-east-1";
  params.service = "sts";
  params.time = at("2015-08-30T12:36:00Z");
  auto signing =
      sign_headers(sent, Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {}, {}}, params);
  ASSERT_TRUE(signing);
  // botocore's SigV4Auth.canonical_request for the same request.
  EXPECT_EQ(signing->canonical_request,
            "POST\n/\n\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:sts.us-east-1.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "0c0f2f24a60d483e62b5dfbff1c8f58c075de0c0137c14127b3004c474257787");
  EXPECT_EQ(signing->signature, "cad2a08bc8a840c5712323f5a7eb808621d2c54b4336dd27c0aad89e01b7fb4e");
}

TEST(AssumeRoleRequest, SessionTokenOfTheSourceIsSentAndSigned) {
  const HttpAction a = first_assume_role(
      "[base]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
      "aws_session_token = SESSIONTOKEN/+=\n");
  const Headers expected = {
      {"Host", "sts.us-east-1.amazonaws.com"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"X-Amz-Security-Token", "SESSIONTOKEN/+="},
      {"X-Amz-Date", "20150830T123600Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
       "Signature=43df2713987be095e390d527aa3484d77b9885e4166349de7e110a4cb967add7"},
      {"Content-Length", std::to_string(kBody.size())},
  };
  EXPECT_EQ(a.headers, expected);
}

}  // namespace
}  // namespace ssmc::aws
