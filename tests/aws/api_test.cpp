// JSON 1.1 API codecs (src/aws/api.hpp): exact request bodies (the 01 §2
// StartSession vector and its signature, the 01 §6.1 GenerateDataKey body),
// response parsing, the emulator's request parsers with AWS-worded
// validation errors, AWS error responses as the services send them, user
// messages free of secrets, and the retry policy.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "aws/api.hpp"
#include "aws/errors.hpp"
#include "crypto/base64.hpp"
#include "crypto/random.hpp"
#include "crypto/sha256.hpp"

namespace ssmc::aws {
namespace {

using namespace std::chrono;

constexpr std::string_view kSpecBody =
    R"({"Target":"i-0123456789abcdef0","DocumentName":"AWS-StartPortForwardingSession","Parameters":{"portNumber":["80"],"localPortNumber":["56789"]}})";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kToken = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN/abc+def==";

Credentials credentials(std::optional<std::string> token = std::nullopt) {
  return {"AKIDEXAMPLE", std::string(kSecret), std::move(token), std::nullopt};
}

StartSessionRequest spec_start_session() {
  StartSessionRequest r;
  r.target = "i-0123456789abcdef0";
  r.document_name = "AWS-StartPortForwardingSession";
  r.parameters = {{"portNumber", {"80"}}, {"localPortNumber", {"56789"}}};
  return r;
}

const Header* header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return &h;
  return nullptr;
}

// ---------------------------------------------------------------------------
// Requests, byte for byte

TEST(ApiRequests, StartSessionBodyOf01IsExact) {
  const std::string body = build_start_session_request(spec_start_session());
  EXPECT_EQ(body, kSpecBody);
  EXPECT_EQ(body.size(), 143u);
  EXPECT_EQ(build_start_session_request({"i-0123456789abcdef0", {}, {}, {}}), R"({"Target":"i-0123456789abcdef0"})");
  StartSessionRequest with_reason{
      "mi-0123456789abcdef0", "AWS-StartSSHSession", "ticket \"42\"\n", {{"portNumber", {"22"}}}};
  EXPECT_EQ(
      build_start_session_request(with_reason),
      R"({"Target":"mi-0123456789abcdef0","DocumentName":"AWS-StartSSHSession","Reason":"ticket \"42\"\n","Parameters":{"portNumber":["22"]}})");
}

TEST(ApiRequests, SignedStartSessionReproducesTheVectorOf01) {
  Endpoint endpoint;
  endpoint.host = "ssm.us-east-1.amazonaws.com";
  const auto now = sys_days{year{2023} / 11 / 14} + hours{22} + minutes{13} + seconds{20};
  const auto r =
      prepare_json_request(endpoint, "AmazonSSM.StartSession", build_start_session_request(spec_start_session()),
                           credentials(), "us-east-1", "ssm", now);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/");
  EXPECT_EQ(r->host, "ssm.us-east-1.amazonaws.com");
  EXPECT_EQ(r->port, 443);
  EXPECT_EQ(r->body, kSpecBody);
  const Headers expected = {{"Host", "ssm.us-east-1.amazonaws.com"},
                            {"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", "AmazonSSM.StartSession"},
                            {"User-Agent", "ssmc/0.1.0"},
                            {"X-Amz-Date", "20231114T221320Z"},
                            {"Authorization",
                             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/ssm/aws4_request, "
                             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                             "Signature=68cd83f0db6e02a4eb1165454894cc2ff45cf8d983a8cb07b9c86e498f01a4f3"}};
  EXPECT_EQ(r->headers, expected);
}

TEST(ApiRequests, TemporaryCredentialsSignTheToken) {
  auto endpoint = default_endpoint(Service::kms, "eu-west-1");
  ASSERT_TRUE(endpoint);
  const auto r = prepare_api_request(Operation::generate_data_key, *endpoint, "{}", credentials(std::string(kToken)),
                                     sys_days{year{2024} / 1 / 2});
  ASSERT_TRUE(r);
  ASSERT_NE(header(r->headers, "X-Amz-Security-Token"), nullptr);
  EXPECT_EQ(header(r->headers, "X-Amz-Security-Token")->value, kToken);
  EXPECT_EQ(header(r->headers, "X-Amz-Target")->value, "TrentService.GenerateDataKey");
  const std::string auth = header(r->headers, "Authorization")->value;
  EXPECT_NE(auth.find("Credential=AKIDEXAMPLE/20240102/eu-west-1/kms/aws4_request, "
                      "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "),
            std::string::npos)
      << auth;
  EXPECT_EQ(header(r->headers, "Host")->value, "kms.eu-west-1.amazonaws.com");
}

TEST(ApiRequests, LocalEndpointKeepsPortAndPath) {
  auto endpoint = parse_endpoint_url("http://127.0.0.1:4566/ssm/");
  ASSERT_TRUE(endpoint);
  const auto r = prepare_json_request(*endpoint, "AmazonSSM.TerminateSession", "{}", credentials(), "us-east-1", "ssm",
                                      sys_days{year{2024} / 1 / 2});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->scheme, "http");
  EXPECT_EQ(r->port, 4566);
  EXPECT_EQ(r->target, "/ssm/");
  EXPECT_EQ(header(r->headers, "Host")->value, "127.0.0.1:4566");
  Endpoint none;
  EXPECT_EQ(prepare_json_request(none, "x", "{}", credentials(), "r", "s", {}).error(), Errc::endpoint_bad_url);
  EXPECT_EQ(prepare_json_request(*endpoint, "x", "{}", Credentials{}, "r", "s", sys_days{year{2024} / 1 / 2}).error(),
            Errc::missing_credentials);
}

TEST(ApiRequests, GenerateDataKeyBodyOf01) {
  GenerateDataKeyRequest r;
  r.key_id = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  r.encryption_context = {{"aws:ssm:SessionId", "alice-0a1b2c3d4e5f67890"},
                          {"aws:ssm:TargetId", "i-0123456789abcdef0"}};
  EXPECT_EQ(
      build_generate_data_key_request(r),
      R"({"KeyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","NumberOfBytes":64,"EncryptionContext":{"aws:ssm:SessionId":"alice-0a1b2c3d4e5f67890","aws:ssm:TargetId":"i-0123456789abcdef0"}})");
}

TEST(ApiRequests, SmallBodies) {
  EXPECT_EQ(build_resume_session_request({"alice-0a1b2c3d4e5f67890"}), R"({"SessionId":"alice-0a1b2c3d4e5f67890"})");
  EXPECT_EQ(build_terminate_session_request({"s-1"}), R"({"SessionId":"s-1"})");
  EXPECT_EQ(build_describe_instance_information_request({}), "{}");
  DescribeInstanceInformationRequest d;
  d.filters = {{"InstanceIds", {"i-0123456789abcdef0"}}, {"PingStatus", {"Online", "ConnectionLost"}}};
  d.max_results = 50;
  d.next_token = "AAEAAQ==";
  EXPECT_EQ(
      build_describe_instance_information_request(d),
      R"({"Filters":[{"Key":"InstanceIds","Values":["i-0123456789abcdef0"]},{"Key":"PingStatus","Values":["Online","ConnectionLost"]}],"MaxResults":50,"NextToken":"AAEAAQ=="})");
  DecryptRequest dr;
  dr.ciphertext_blob = {1, 2, 3, 255};
  dr.encryption_context = {{"aws:ssm:SessionId", "s"}, {"aws:ssm:TargetId", "i-1"}};
  dr.key_id = "alias/ssm";
  EXPECT_EQ(
      build_decrypt_request(dr),
      R"({"CiphertextBlob":"AQID/w==","EncryptionContext":{"aws:ssm:SessionId":"s","aws:ssm:TargetId":"i-1"},"KeyId":"alias/ssm"})");
}

TEST(ApiOperations, TargetsAndServices) {
  EXPECT_EQ(operation_target(Operation::start_session), "AmazonSSM.StartSession");
  EXPECT_EQ(operation_target(Operation::describe_instance_information), "AmazonSSM.DescribeInstanceInformation");
  EXPECT_EQ(operation_target(Operation::decrypt), "TrentService.Decrypt");
  EXPECT_EQ(operation_name(Operation::resume_session), "ResumeSession");
  EXPECT_EQ(operation_service(Operation::generate_data_key), Service::kms);
  EXPECT_EQ(operation_service(Operation::terminate_session), Service::ssm);
  for (auto op : {Operation::start_session, Operation::resume_session, Operation::terminate_session,
                  Operation::describe_instance_information, Operation::generate_data_key, Operation::decrypt})
    EXPECT_EQ(operation_from_target(operation_target(op)), op);
  EXPECT_EQ(operation_from_target("AmazonSSM.startsession"), std::nullopt);
  EXPECT_EQ(operation_from_target("AmazonSSM.SendCommand"), std::nullopt);
}

// ---------------------------------------------------------------------------
// Responses

TEST(ApiResponses, StartSessionExampleOf01) {
  const auto r = parse_start_session_response(
      R"({"SessionId":"alice-0a1b2c3d4e5f67890","StreamUrl":"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e5f67890?role=publish_subscribe","TokenValue":"AAEAAf..."})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->session_id, "alice-0a1b2c3d4e5f67890");
  EXPECT_EQ(r->stream_url,
            "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e5f67890?role=publish_subscribe");
  EXPECT_EQ(r->token_value, "AAEAAf...");
  // Unknown members and nulls are ignored.
  EXPECT_TRUE(
      parse_start_session_response(R"({"SessionId":"s","StreamUrl":"wss://x/y","TokenValue":null,"Extra":{"a":[1]}})"));
}

TEST(ApiResponses, StartSessionErrors) {
  EXPECT_EQ(parse_start_session_response("").error(), Errc::api_bad_json);
  EXPECT_EQ(parse_start_session_response("<html>").error(), Errc::api_bad_json);
  EXPECT_EQ(parse_start_session_response("[1]").error(), Errc::api_bad_json);
  EXPECT_EQ(parse_start_session_response(R"({"SessionId":"s"})").error(), Errc::api_missing_member);
  EXPECT_EQ(parse_start_session_response(R"({"SessionId":"s","StreamUrl":""})").error(), Errc::api_missing_member);
  EXPECT_EQ(parse_start_session_response(R"({"SessionId":7,"StreamUrl":"wss://x"})").error(), Errc::api_bad_member);
  EXPECT_EQ(parse_start_session_response("{\"SessionId\":\"\xff\",\"StreamUrl\":\"wss://x\"}").error(),
            Errc::api_bad_json);  // invalid UTF-8
}

TEST(ApiResponses, ResumeSessionWithoutTokenMeansTimedOut) {
  const auto r = parse_resume_session_response(R"({"SessionId":"alice-0a1b2c3d4e5f67890"})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->token_value.empty());
  EXPECT_TRUE(r->stream_url.empty());
  EXPECT_TRUE(parse_resume_session_response("{}"));
  const auto t = parse_terminate_session_response(R"({"SessionId":"s-1"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->session_id, "s-1");
}

TEST(ApiResponses, GenerateDataKeyDecodesBlobs) {
  std::vector<std::uint8_t> key(64);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7);
  const std::vector<std::uint8_t> blob = {0x01, 0x02, 0x03, 0x00, 0x78};
  const std::string body =
      R"({"CiphertextBlob":")" + crypto::base64_encode(blob) +
      R"(","KeyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","Plaintext":")" +
      crypto::base64_encode(key) + R"("})";
  const auto r = parse_generate_data_key_response(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plaintext, key);
  EXPECT_EQ(r->ciphertext_blob, blob);
  EXPECT_EQ(r->key_id, "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  EXPECT_EQ(parse_generate_data_key_response(R"({"CiphertextBlob":"AQ==","Plaintext":"not base64!"})").error(),
            Errc::api_bad_base64);
  EXPECT_EQ(parse_generate_data_key_response(R"({"CiphertextBlob":"AQ=="})").error(), Errc::api_missing_member);
  EXPECT_EQ(parse_generate_data_key_response(R"({"CiphertextBlob":"AQ==","Plaintext":["AQ=="]})").error(),
            Errc::api_bad_member);
}

TEST(ApiResponses, DescribeInstanceInformationRealisticPage) {
  const auto r = parse_describe_instance_information_response(R"({
    "InstanceInformationList": [
      {"InstanceId": "i-0123456789abcdef0", "PingStatus": "Online", "LastPingDateTime": 1.700000123456E9,
       "AgentVersion": "3.2.1705.0", "IsLatestVersion": false, "PlatformType": "Linux",
       "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "ResourceType": "EC2Instance",
       "IPAddress": "10.0.1.23", "ComputerName": "ip-10-0-1-23.ec2.internal",
       "AssociationStatus": "Success", "AssociationOverview": {"DetailedStatus": "Success"},
       "SourceId": "i-0123456789abcdef0", "SourceType": "AWS::EC2::Instance"},
      {"InstanceId": "mi-0123456789abcdef0", "PingStatus": "ConnectionLost", "PlatformType": "Windows",
       "ResourceType": "ManagedInstance", "Name": "build-box", "LastPingDateTime": 1700000000}
    ],
    "NextToken": "AAEAAW..."})");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->instances.size(), 2u);
  const auto& a = r->instances[0];
  EXPECT_EQ(a.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(a.ping_status, "Online");
  EXPECT_EQ(a.agent_version, "3.2.1705.0");
  EXPECT_EQ(a.platform_type, "Linux");
  EXPECT_EQ(a.platform_name, "Amazon Linux");
  EXPECT_EQ(a.platform_version, "2023");
  EXPECT_EQ(a.resource_type, "EC2Instance");
  EXPECT_EQ(a.ip_address, "10.0.1.23");
  EXPECT_EQ(a.computer_name, "ip-10-0-1-23.ec2.internal");
  EXPECT_DOUBLE_EQ(*a.last_ping_date_time, 1700000123.456);
  EXPECT_EQ(a.is_latest_version, false);
  EXPECT_EQ(r->instances[1].name, "build-box");
  EXPECT_DOUBLE_EQ(*r->instances[1].last_ping_date_time, 1700000000.0);
  EXPECT_EQ(r->next_token, "AAEAAW...");
  EXPECT_EQ(
      parse_describe_instance_information_response(R"({"InstanceInformationList":[{"PingStatus":"Online"}]})").error(),
      Errc::api_missing_member);
  EXPECT_EQ(parse_describe_instance_information_response(R"({"InstanceInformationList":{}})").error(),
            Errc::api_bad_member);
  EXPECT_TRUE(parse_describe_instance_information_response(R"({"InstanceInformationList":[]})")->instances.empty());
}

// ---------------------------------------------------------------------------
// Server side (emulator): round trips and AWS-worded refusals

TEST(ApiServer, RoundTripsEveryOperation) {
  const auto start = parse_start_session_request(build_start_session_request(spec_start_session()));
  ASSERT_TRUE(start);
  EXPECT_EQ(*start, spec_start_session());
  const StartSessionResponse response{
      "alice-0a1b2c3d4e5f67890", "AAEAAf...",
      "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice?role=publish_subscribe"};
  EXPECT_EQ(
      build_start_session_response(response),
      R"({"SessionId":"alice-0a1b2c3d4e5f67890","StreamUrl":"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/alice?role=publish_subscribe","TokenValue":"AAEAAf..."})");
  EXPECT_EQ(*parse_start_session_response(build_start_session_response(response)), response);
  EXPECT_EQ(*parse_resume_session_request(build_resume_session_request({"s-1"})), SessionIdMessage{"s-1"});
  EXPECT_EQ(*parse_resume_session_response(build_resume_session_response({"s-1", "", ""})),
            (SessionResponse{"s-1", "", ""}));
  EXPECT_EQ(build_resume_session_response({"s-1", "", ""}), R"({"SessionId":"s-1"})");
  EXPECT_EQ(*parse_terminate_session_request(build_terminate_session_request({"s-2"})), SessionIdMessage{"s-2"});
  EXPECT_EQ(*parse_terminate_session_response(build_terminate_session_response({"s-2"})), SessionIdMessage{"s-2"});

  DescribeInstanceInformationRequest d;
  d.filters = {{"tag:Name", {"web"}}};
  d.max_results = 5;
  EXPECT_EQ(*parse_describe_instance_information_request(build_describe_instance_information_request(d)), d);
  DescribeInstanceInformationResponse dr;
  InstanceInformation i;
  i.instance_id = "i-0123456789abcdef0";
  i.ping_status = "Online";
  i.platform_type = "Linux";
  i.last_ping_date_time = 1700000000.5;
  i.is_latest_version = true;
  dr.instances = {i};
  dr.next_token = "n";
  EXPECT_EQ(*parse_describe_instance_information_response(build_describe_instance_information_response(dr)), dr);

  GenerateDataKeyRequest g;
  g.key_id = "alias/aws/ssm";
  g.encryption_context = {{"aws:ssm:SessionId", "s"}, {"aws:ssm:TargetId", "i-1"}};
  EXPECT_EQ(*parse_generate_data_key_request(build_generate_data_key_request(g)), g);
  const GenerateDataKeyResponse gr{{9, 8, 7}, std::vector<std::uint8_t>(64, 0xAB), "arn:aws:kms:r:1:key/k"};
  EXPECT_EQ(*parse_generate_data_key_response(build_generate_data_key_response(gr)), gr);

  const DecryptRequest dq{{1, 2, 3}, {{"aws:ssm:SessionId", "s"}}, std::string("alias/x")};
  EXPECT_EQ(*parse_decrypt_request(build_decrypt_request(dq)), dq);
  const DecryptResponse ds{"arn:aws:kms:r:1:key/k", std::vector<std::uint8_t>(64, 0x11), "SYMMETRIC_DEFAULT"};
  EXPECT_EQ(*parse_decrypt_response(build_decrypt_response(ds)), ds);
}

void expect_validation(const ApiError& e, std::string_view message) {
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.message, message);
}

TEST(ApiServer, ValidationErrorsAreWordedLikeCoral) {
  expect_validation(parse_start_session_request("{}").error(),
                    "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must "
                    "not be null");
  expect_validation(
      parse_start_session_request(R"({"Target":"","DocumentName":"x y"})").error(),
      "2 validation errors detected: Value '' at 'target' failed to satisfy constraint: Member must have length "
      "greater than or equal to 1; Value 'x y' at 'documentName' failed to satisfy constraint: Member must satisfy "
      "regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$");
  expect_validation(parse_start_session_request(R"({"Target":"i-1","Reason":"a\nb"})").error(),
                    "1 validation error detected: Value 'a\nb' at 'reason' failed to satisfy constraint: Member must "
                    "satisfy regular expression pattern: ^.{1,256}$");
  expect_validation(parse_resume_session_request(R"({"SessionId":")" + std::string(97, 's') + R"("})").error(),
                    "1 validation error detected: Value '" + std::string(97, 's') +
                        "' at 'sessionId' failed to satisfy constraint: Member must have length less than or equal "
                        "to 96");
  expect_validation(parse_describe_instance_information_request(R"({"MaxResults":4})").error(),
                    "1 validation error detected: Value '4' at 'maxResults' failed to satisfy constraint: Member must "
                    "have value greater than or equal to 5");
  expect_validation(parse_generate_data_key_request(R"({"KeyId":"k"})").error(),
                    "1 validation error detected: Please specify either number of bytes or key spec.");
  expect_validation(parse_generate_data_key_request(R"({"KeyId":"k","NumberOfBytes":2048})").error(),
                    "1 validation error detected: Value '2048' at 'numberOfBytes' failed to satisfy constraint: "
                    "Member must have value less than or equal to 1024");
  EXPECT_TRUE(parse_generate_data_key_request(R"({"KeyId":"k","KeySpec":"AES_256"})"));
  // Length counts UTF-16 units: 400 x U+1F600 is 800 units.
  std::string emoji;
  for (int i = 0; i < 200; ++i) emoji += "\xF0\x9F\x98\x80";
  EXPECT_TRUE(parse_start_session_request(R"({"Target":")" + emoji + R"("})"));
  emoji += "\xF0\x9F\x98\x80";
  EXPECT_FALSE(parse_start_session_request(R"({"Target":")" + emoji + R"("})"));
}

TEST(ApiServer, WrongTypesAreSerializationErrors) {
  for (const char* body : {"", "not json", "[]", R"({"Target":5})", R"({"Target":"i","Parameters":{"a":"b"}})",
                           R"({"Target":"i","Parameters":{"a":[1]}})", R"({"Target":"i","Parameters":[]})"}) {
    const auto r = parse_start_session_request(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, "SerializationException") << body;
    EXPECT_EQ(r.error().http_status, 400);
  }
  EXPECT_EQ(parse_generate_data_key_request(R"({"KeyId":"k","NumberOfBytes":"64"})").error().code,
            "SerializationException");
  EXPECT_EQ(
      parse_generate_data_key_request(R"({"KeyId":"k","NumberOfBytes":64,"EncryptionContext":{"a":1}})").error().code,
      "SerializationException");
  EXPECT_EQ(parse_decrypt_request(R"({"CiphertextBlob":"%%%"})").error().code, "SerializationException");
  EXPECT_EQ(parse_describe_instance_information_request(R"({"Filters":[{"Key":1,"Values":["a"]}]})").error().code,
            "SerializationException");
}

TEST(ApiServer, TargetHeaderRouting) {
  EXPECT_EQ(*parse_api_target({{"x-amz-target", "AmazonSSM.StartSession"}}), Operation::start_session);
  EXPECT_EQ(*parse_api_target({{"X-Amz-Target", " TrentService.Decrypt "}}), Operation::decrypt);
  const auto unknown = parse_api_target({{"X-Amz-Target", "AmazonSSM.SendCommand"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "UnknownOperationException");
  EXPECT_EQ(parse_api_target({}).error().message, "Missing X-Amz-Target header");
}

// ---------------------------------------------------------------------------
// Error responses

TEST(ApiErrors, RealisticAwsErrorBodies) {
  struct Case {
    int status;
    Headers headers;
    std::string body;
    std::string code, message;
    ErrorClass klass;
  };
  const std::vector<Case> cases = {
      {400,
       {{"x-amzn-RequestId", "8f0c6e5a-1111-2222-3333-444455556666"}},
       R"({"__type":"com.amazonaws.ssm#TargetNotConnected","Message":"i-0123456789abcdef0 is not connected."})",
       "TargetNotConnected",
       "i-0123456789abcdef0 is not connected.",
       ErrorClass::other},
      {400,
       {},
       R"({"__type":"InvalidDocument","Message":"Document with name AWS-Nope does not exist."})",
       "InvalidDocument",
       "Document with name AWS-Nope does not exist.",
       ErrorClass::other},
      {400,
       {},
       R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})",
       "UnrecognizedClientException",
       "The security token included in the request is invalid.",
       ErrorClass::auth},
      {400,
       {},
       R"({"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"})",
       "ExpiredTokenException",
       "The security token included in the request is expired",
       ErrorClass::auth},
      {400,
       {},
       R"({"__type":"ThrottlingException","message":"Rate exceeded"})",
       "ThrottlingException",
       "Rate exceeded",
       ErrorClass::throttling},
      {400,
       {},
       R"({"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null"})",
       "ValidationException",
       "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null",
       ErrorClass::other},
      {400,
       {{"x-amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/"},
        {"X-Amzn-RequestId", "req-1"}},
       R"({"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0 because no identity-based policy allows the ssm:StartSession action"})",
       "AccessDeniedException",
       "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ssm:StartSession on resource: "
       "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0 because no identity-based policy allows the "
       "ssm:StartSession action",
       ErrorClass::auth},
      {500,
       {},
       R"({"__type":"InternalServerError","Message":"An error occurred."})",
       "InternalServerError",
       "An error occurred.",
       ErrorClass::transient},
      {503,
       {{"Content-Type", "text/html"}},
       "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n</html>",
       "503",
       "<html>  <head><title>503 Service Temporarily Unavailable</title></head>  </html>",
       ErrorClass::transient},
      {502, {}, "", "502", "", ErrorClass::transient},
      {400,
       {},
       R"({"__type":"NotFoundException","message":"Alias arn:aws:kms:us-east-1:111122223333:alias/missing is not found."})",
       "NotFoundException",
       "Alias arn:aws:kms:us-east-1:111122223333:alias/missing is not found.",
       ErrorClass::other},
      {400,
       {},
       R"({"code":"DoesNotExistException","message":"Session s-1 does not exist"})",
       "DoesNotExistException",
       "Session s-1 does not exist",
       ErrorClass::other},
      {400,
       {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}},
       R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"q"})",
       "AWS.SimpleQueueService.NonExistentQueue",
       "q",
       ErrorClass::other},
      {429, {}, R"({"__type":"SomethingElse"})", "SomethingElse", "", ErrorClass::throttling},
      {403,
       {},
       R"({"message":"Missing Authentication Token"})",
       "403",
       "Missing Authentication Token",
       ErrorClass::auth},
  };
  for (const auto& c : cases) {
    const ApiError e = parse_api_error(c.status, c.headers, c.body);
    EXPECT_EQ(e.http_status, c.status) << c.body;
    EXPECT_EQ(e.code, c.code) << c.body;
    EXPECT_EQ(e.message, c.message) << c.body;
    EXPECT_EQ(classify(e), c.klass) << c.body;
  }
  EXPECT_EQ(parse_api_error(400, {{"x-amzn-RequestId", " 8f0c "}}, "{}").request_id, "8f0c");
  EXPECT_EQ(parse_api_error(400, {{"x-amz-request-id", "abc"}}, "{}").request_id, "abc");
}

TEST(ApiErrors, SignatureErrorsAreRedacted) {
  // AWS echoes its canonical request, session token included.
  const std::string body =
      R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:ssm.us-east-1.amazonaws.com\nx-amz-date:20231114T221320Z\nx-amz-security-token:)" +
      std::string(kToken) +
      R"(\nx-amz-target:AmazonSSM.StartSession\n\ncontent-type;host;x-amz-date;x-amz-security-token;x-amz-target\ne606966685a713d5e6e9824f2234bba093d7e59012c18f81a4996a0589811617'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20231114T221320Z\n20231114/us-east-1/ssm/aws4_request\nabc'\n"})";
  const ApiError e = parse_api_error(400, {{"x-amzn-RequestId", "r-9"}}, body);
  EXPECT_EQ(e.code, "InvalidSignatureException");
  EXPECT_EQ(e.message.find(kToken), std::string::npos);
  EXPECT_NE(e.message.find("x-amz-security-token:****\nx-amz-target"), std::string::npos) << e.message;
  const std::string m = user_message(e, Operation::start_session, "i-0123456789abcdef0");
  EXPECT_EQ(m,
            "StartSession was rejected: the request signature does not match: check the secret access key of the "
            "credentials in use (and that no proxy rewrites requests) (request id r-9)");
  // Query form too.
  const ApiError q = parse_api_error(
      403, {}, R"({"message":"bad X-Amz-Security-Token=FQoG%2Fsecret&X-Amz-Date=1 and X-Amz-Security-Token: abc"})");
  EXPECT_EQ(q.message, "bad X-Amz-Security-Token=****&X-Amz-Date=1 and X-Amz-Security-Token: ****");
}

// Fuzz finding (aws_api_fuzz, corpus/aws_api/regression-redaction-cr): a '\r'
// ended a token value for the redaction but became '?' afterwards, so the
// error the emulator sends back (build_error_response) parsed to another code.
TEST(ApiErrors, RedactionIsTheSameWhenAnErrorIsParsedAgain) {
  const ApiError e = parse_api_error(
      573, {{"x-amzn-ErrorType", "Bad x-amz-security-token=abc\rdef/ghi"}, {"x-amzn-RequestId", "x-amz-security-token:t\rq"}},
      "\r\n");
  EXPECT_EQ(e.code, "Bad x-amz-security-token=****");
  EXPECT_EQ(e.request_id, "x-amz-security-token:****");
  const ApiHttpResponse sent = build_error_response(e);
  const ApiError back = parse_api_error(sent.status, sent.headers, sent.body);
  EXPECT_EQ(back.code, e.code);
  EXPECT_EQ(back.request_id, e.request_id);
  const ApiError m = parse_api_error(400, {}, R"({"__type":"X","message":"x-amz-security-token:abc\rdef\nnext"})");
  EXPECT_EQ(m.message, "x-amz-security-token:****\nnext");
  const ApiHttpResponse sent_m = build_error_response(m);
  EXPECT_EQ(parse_api_error(sent_m.status, sent_m.headers, sent_m.body).message, m.message);
}

// Fuzz finding (aws_api_fuzz, corpus/aws_api/regression-dangling-token-key):
// the 128-character limit on a code cut right after "x-amz-security-token=",
// and the user message went on with " (HTTP 453)" as if it were the value.
TEST(ApiErrors, LengthLimitLeavesNoDanglingTokenKey) {
  const std::string code = std::string(107, 'C') + "x-amz-security-token=abcdef";  // the value starts at 128
  const ApiError e = parse_api_error(453, {{"x-amzn-ErrorType", code}}, "");
  EXPECT_EQ(e.code, std::string(107, 'C'));
  const ApiHttpResponse sent = build_error_response(e);
  EXPECT_EQ(parse_api_error(sent.status, sent.headers, sent.body).code, e.code);
  const std::string id = std::string(105, 'r') + "x-amz-security-token:  secret";
  EXPECT_EQ(parse_api_error(400, {{"x-amzn-RequestId", id}}, "").request_id, std::string(105, 'r'));
  // Nothing but the key: the status stands in for the code.
  EXPECT_EQ(parse_api_error(400, {{"x-amzn-ErrorType", "x-amz-security-token="}}, "").code, "400");
}

TEST(ApiErrors, UserMessagesSayWhatToDo) {
  auto msg = [](const char* body, Operation op, std::string_view subject, int status = 400) {
    return user_message(parse_api_error(status, {{"x-amzn-RequestId", "req-1"}}, body), op, subject);
  };
  EXPECT_EQ(msg(R"({"__type":"com.amazonaws.ssm#TargetNotConnected","Message":"i-0123 is not connected."})",
                Operation::start_session, "i-0123"),
            "i-0123 is not connected to SSM: check the SSM agent is running on it and that it can reach the ssm and "
            "ssmmessages endpoints of its region (request id req-1)");
  EXPECT_EQ(
      msg(R"({"__type":"ExpiredTokenException","message":"The security token included in the request is expired"})",
          Operation::resume_session, "s-1"),
      "credentials expired: refresh them (aws sso login / re-run your credential process) (request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"InvalidDocument","Message":"Document with name Foo does not exist."})",
                Operation::start_session, "i-1"),
            "StartSession: the session document does not exist or is not a session document (Document with name Foo "
            "does not exist): check --document-name and --region (request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"DoesNotExistException","Message":"x"})", Operation::resume_session, "alice-07a1"),
            "session alice-07a1 no longer exists (it ended or timed out): start a new session (request id req-1)");
  EXPECT_EQ(
      msg(R"({"__type":"AccessDeniedException","Message":"User: arn:aws:iam::1:user/a is not authorized to perform: kms:GenerateDataKey"})",
          Operation::generate_data_key, "alias/ssm"),
      "GenerateDataKey was denied (User: arn:aws:iam::1:user/a is not authorized to perform: "
      "kms:GenerateDataKey): allow kms:GenerateDataKey for the IAM identity in use (request id req-1)");
  EXPECT_EQ(
      msg(R"J({"__type":"InvalidSignatureException","message":"Signature expired: 20231114T221320Z is now earlier than 20231114T222820Z (20231114T223320Z - 5 min.)"})J",
          Operation::start_session, "i-1"),
      "StartSession was rejected because this computer's clock is more than 5 minutes off: synchronise the "
      "system clock (NTP) and retry (request id req-1)");
  EXPECT_EQ(
      msg(R"({"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."})",
          Operation::terminate_session, "s"),
      "TerminateSession was rejected: the access key id or session token is not valid: check which credentials "
      "are in use (profile, environment) and that they belong to this region's partition (request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"NotFoundException","message":"Key 'arn:aws:kms:us-east-1:1:key/x' does not exist"})",
                Operation::generate_data_key, "arn:aws:kms:us-east-1:1:key/x"),
            "KMS key arn:aws:kms:us-east-1:1:key/x was not found (Key 'arn:aws:kms:us-east-1:1:key/x' does not "
            "exist): check the key id or alias in the Session Manager preferences and its region (request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"ThrottlingException","message":"Rate exceeded"})",
                Operation::describe_instance_information, ""),
            "DescribeInstanceInformation was throttled by AWS (ThrottlingException): wait a moment and retry (request "
            "id req-1)");
  EXPECT_EQ(msg("", Operation::start_session, "", 503),
            "StartSession failed on the AWS side (503, HTTP 503): retry in a moment (request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"ValidationException","message":"1 validation error detected: x"})",
                Operation::start_session, ""),
            "StartSession rejected a parameter (1 validation error detected: x): check the command-line values "
            "(request id req-1)");
  EXPECT_EQ(msg(R"({"__type":"SomethingNew","message":"Odd.\nSecond line"})", Operation::decrypt, ""),
            "Decrypt failed: SomethingNew (HTTP 400) (Odd) (request id req-1)");
}

TEST(ApiErrors, UserMessagesNeverCarrySecretsOrLineBreaks) {
  const std::vector<std::string> bodies = {
      R"({"__type":"InvalidSignatureException","message":"x-amz-security-token:)" + std::string(kToken) + R"(\nmore"})",
      R"({"__type":"AccessDeniedException","message":"X-Amz-Security-Token=)" + std::string(kToken) + R"("})",
      "<html>\x1b[31mred\x07</html>",
      R"({"__type":"Foo","message":")" + std::string(5000, 'a') + R"("})",
  };
  for (const auto& body : bodies) {
    for (auto op : {Operation::start_session, Operation::generate_data_key}) {
      const ApiError e = parse_api_error(400, {}, body);
      EXPECT_LE(e.message.size(), kMaxErrorMessage);
      const std::string m = user_message(e, op, "i-1");
      EXPECT_EQ(m.find(kToken), std::string::npos) << m;
      EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_TRUE(std::none_of(m.begin(), m.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) << m;
      EXPECT_LT(m.size(), 700u);
    }
  }
}

TEST(ApiErrors, ErrorResponsesRoundTrip) {
  const ApiError e{400, "TargetNotConnected", "i-0123456789abcdef0 is not connected.", "req-7"};
  const ApiHttpResponse r = build_error_response(e);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"__type":"TargetNotConnected","message":"i-0123456789abcdef0 is not connected."})");
  const Headers expected = {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-RequestId", "req-7"}};
  EXPECT_EQ(r.headers, expected);
  EXPECT_EQ(parse_api_error(r.status, r.headers, r.body), e);
}

// ---------------------------------------------------------------------------
// Retries

class FixedRandom final : public crypto::RandomSource {
 public:
  explicit FixedRandom(std::uint8_t byte) : byte_(byte) {}
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), byte_); }

 private:
  std::uint8_t byte_;
};

TEST(ApiRetry, FullJitterStandardMode) {
  FixedRandom high(0xFF), low(0x00);
  const RetryPolicy p = kStandardRetryPolicy;
  EXPECT_EQ(p.max_attempts, 3);
  EXPECT_EQ(p.base, seconds{1});
  EXPECT_EQ(p.cap, seconds{20});
  // Ceilings 1 s, 2 s; the third attempt is the last.
  EXPECT_EQ(retry_delay(p, FailureKind::throttling, 1, high), milliseconds{999});
  EXPECT_EQ(retry_delay(p, FailureKind::transient, 2, high), milliseconds{1999});
  EXPECT_EQ(retry_delay(p, FailureKind::transport, 1, low), milliseconds{0});
  EXPECT_EQ(retry_delay(p, FailureKind::transport, 3, high), std::nullopt);
  EXPECT_EQ(retry_delay(p, FailureKind::permanent, 1, high), std::nullopt);
  EXPECT_EQ(retry_delay(p, FailureKind::throttling, 0, high), std::nullopt);
  // Cap: 1, 2, 4, 8, 16, 20, 20 s.
  RetryPolicy many{10, seconds{1}, seconds{20}};
  const std::vector<int> ceilings = {1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000};
  for (int k = 1; k <= 9; ++k)
    EXPECT_EQ(retry_delay(many, FailureKind::throttling, k, high)->count(), ceilings[k - 1] - 1);
  RetryPolicy huge{1000, seconds{1}, hours{1}};
  EXPECT_EQ(retry_delay(huge, FailureKind::throttling, 999, high), milliseconds{3600 * 1000 - 1});
}

TEST(ApiRetry, JitterIsUniformBelowTheCeiling) {
  crypto::DeterministicRandom random(42);
  const RetryPolicy p{5, seconds{1}, seconds{20}};
  double sum = 0;
  std::set<std::int64_t> distinct;
  for (int i = 0; i < 2000; ++i) {
    const auto d = retry_delay(p, FailureKind::transient, 3, random);  // ceiling 4 s
    ASSERT_TRUE(d);
    ASSERT_GE(d->count(), 0);
    ASSERT_LT(d->count(), 4000);
    sum += static_cast<double>(d->count());
    distinct.insert(d->count());
  }
  EXPECT_NEAR(sum / 2000, 2000, 150);
  EXPECT_GT(distinct.size(), 1000u);
}

TEST(ApiRetry, WhatIsRetried) {
  FixedRandom r(0x80);
  auto err = [](int status, const char* code) { return ApiError{status, code, "", ""}; };
  const RetryPolicy p = kStandardRetryPolicy;
  EXPECT_TRUE(retry_delay(p, err(400, "ThrottlingException"), 1, r));
  EXPECT_TRUE(retry_delay(p, err(400, "TooManyRequestsException"), 1, r));
  EXPECT_TRUE(retry_delay(p, err(400, "RequestLimitExceeded"), 1, r));
  EXPECT_TRUE(retry_delay(p, err(500, "InternalServerError"), 1, r));
  EXPECT_TRUE(retry_delay(p, err(503, "ServiceUnavailable"), 1, r));
  EXPECT_TRUE(retry_delay(p, err(500, "KMSInternalException"), 1, r));
  EXPECT_FALSE(retry_delay(p, err(400, "TargetNotConnected"), 1, r));
  EXPECT_FALSE(retry_delay(p, err(400, "AccessDeniedException"), 1, r));
  EXPECT_FALSE(retry_delay(p, err(400, "ExpiredTokenException"), 1, r));
  EXPECT_FALSE(retry_delay(p, err(400, "InvalidSignatureException"), 1, r));
  EXPECT_FALSE(retry_delay(p, err(400, "ValidationException"), 1, r));
  // 07 §6 (1.2.804.0+): Resume/Terminate single attempt, KMS 3 attempts.
  EXPECT_EQ(retry_policy_for(Operation::resume_session).max_attempts, 1);
  EXPECT_EQ(retry_policy_for(Operation::terminate_session).max_attempts, 1);
  EXPECT_EQ(retry_policy_for(Operation::generate_data_key), kStandardRetryPolicy);
  EXPECT_EQ(retry_policy_for(Operation::start_session), kStandardRetryPolicy);
  EXPECT_FALSE(retry_delay(retry_policy_for(Operation::resume_session), err(500, "InternalServerError"), 1, r));
}

}  // namespace
}  // namespace ssmc::aws
