// The AWS JSON 1.1 API calls of ssmc (01 §3-§6): SSM StartSession,
// ResumeSession, TerminateSession, DescribeInstanceInformation and KMS
// GenerateDataKey, Decrypt — both directions of each:
//   client: build_<op>_request (body) / parse_<op>_response;
//   server (the local emulator): parse_<op>_request / build_<op>_response.
// Plus the signed HTTP request (prepare_json_request), AWS error responses
// (parse_api_error / build_error_response), one-line user messages and the
// retry policy (full-jitter exponential backoff).
//
// Sans-I/O: bodies in, values out; time and randomness are arguments. JSON
// members follow the service models (botocore 1.43.11 `ssm`/`kms`
// service-2.json); unknown members are ignored and JSON null counts as
// absent, as the SDKs do.
//
// Secrets: KMS `Plaintext` is a data key — wipe it (OPENSSL_cleanse) when
// done and never log it. Requests built here carry the session token in
// their headers; never log a PreparedRequest. ApiError and user_message never
// contain the secret key or the session token (server messages are redacted).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "aws/sigv4.hpp"
#include "crypto/random.hpp"
#include "util/result.hpp"

namespace ssmc::aws {

/// User-Agent of every API call (product/version; keep in step with the
/// CMake project version).
inline constexpr std::string_view kUserAgent = "ssmc/0.1.0";
/// Content-Type of JSON 1.1 requests and responses (01 §1).
inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
/// NumberOfBytes of the session data key: two AES-256 keys (01 §6.1, 04 §6).
inline constexpr int kSessionDataKeyBytes = 64;

// ---------------------------------------------------------------------------
// Operations

enum class Operation {
  start_session,
  resume_session,
  terminate_session,
  describe_instance_information,
  generate_data_key,
  decrypt,
};

/// "StartSession", ..., "GenerateDataKey", "Decrypt".
std::string_view operation_name(Operation op);
/// The X-Amz-Target value: "AmazonSSM.StartSession", "TrentService.Decrypt", ...
std::string_view operation_target(Operation op);
/// The service the operation belongs to (Service::ssm or Service::kms).
Service operation_service(Operation op);
/// The operation of an X-Amz-Target value (exact, case-sensitive), if known.
std::optional<Operation> operation_from_target(std::string_view target);

// ---------------------------------------------------------------------------
// Shapes. Ordered pairs (not maps) where the order of JSON members matters
// for byte-exact bodies (01 §2 test vector, 01 §6.1).

/// StartSession `Parameters`: document parameter name -> values, in order.
using SessionParameters = std::vector<std::pair<std::string, std::vector<std::string>>>;
/// KMS EncryptionContext, in order.
using EncryptionContext = std::vector<std::pair<std::string, std::string>>;

struct StartSessionRequest {
  std::string target;
  std::optional<std::string> document_name;
  std::optional<std::string> reason;
  SessionParameters parameters;
  friend bool operator==(const StartSessionRequest&, const StartSessionRequest&) = default;
};

/// StartSession and ResumeSession responses. `token_value` is a one-time
/// secret for OpenDataChannel; empty after ResumeSession = session timed out
/// (01 §4).
struct SessionResponse {
  std::string session_id;
  std::string token_value;
  std::string stream_url;
  friend bool operator==(const SessionResponse&, const SessionResponse&) = default;
};
using StartSessionResponse = SessionResponse;
using ResumeSessionResponse = SessionResponse;

/// ResumeSession and TerminateSession requests; TerminateSession response.
struct SessionIdMessage {
  std::string session_id;
  friend bool operator==(const SessionIdMessage&, const SessionIdMessage&) = default;
};
using ResumeSessionRequest = SessionIdMessage;
using TerminateSessionRequest = SessionIdMessage;
using TerminateSessionResponse = SessionIdMessage;

struct InstanceInformationFilter {
  std::string key;  // e.g. "InstanceIds", "PingStatus", "tag:Name"
  std::vector<std::string> values;
  friend bool operator==(const InstanceInformationFilter&, const InstanceInformationFilter&) = default;
};

struct DescribeInstanceInformationRequest {
  std::vector<InstanceInformationFilter> filters;
  std::optional<int> max_results;  // 5..50
  std::string next_token;          // "" = first page
  friend bool operator==(const DescribeInstanceInformationRequest&,
                         const DescribeInstanceInformationRequest&) = default;
};

/// One managed node (the members ssmc shows; others are ignored).
struct InstanceInformation {
  std::string instance_id;
  std::string ping_status;    // Online | ConnectionLost | Inactive
  std::string platform_type;  // Windows | Linux | MacOS
  std::string platform_name;
  std::string platform_version;
  std::string agent_version;
  std::string computer_name;
  std::string ip_address;
  std::string resource_type;  // ManagedInstance | EC2Instance
  std::string name;
  /// Seconds since the epoch (JSON 1.1 timestamps are numbers).
  std::optional<double> last_ping_date_time;
  std::optional<bool> is_latest_version;
  friend bool operator==(const InstanceInformation&, const InstanceInformation&) = default;
};

struct DescribeInstanceInformationResponse {
  std::vector<InstanceInformation> instances;
  std::string next_token;  // "" = last page
  friend bool operator==(const DescribeInstanceInformationResponse&,
                         const DescribeInstanceInformationResponse&) = default;
};

struct GenerateDataKeyRequest {
  std::string key_id;
  /// 01 §6.1: 64, no KeySpec. Exactly one of the two is sent.
  std::optional<int> number_of_bytes = kSessionDataKeyBytes;
  std::optional<std::string> key_spec;  // AES_256 | AES_128
  EncryptionContext encryption_context;
  friend bool operator==(const GenerateDataKeyRequest&, const GenerateDataKeyRequest&) = default;
};

struct GenerateDataKeyResponse {
  std::vector<std::uint8_t> ciphertext_blob;
  /// SECRET: the data key.
  std::vector<std::uint8_t> plaintext;
  std::string key_id;  // the key ARN
  friend bool operator==(const GenerateDataKeyResponse&, const GenerateDataKeyResponse&) = default;
};

struct DecryptRequest {
  std::vector<std::uint8_t> ciphertext_blob;
  EncryptionContext encryption_context;
  std::optional<std::string> key_id;
  friend bool operator==(const DecryptRequest&, const DecryptRequest&) = default;
};

struct DecryptResponse {
  std::string key_id;
  /// SECRET: the data key.
  std::vector<std::uint8_t> plaintext;
  std::string encryption_algorithm = "SYMMETRIC_DEFAULT";
  friend bool operator==(const DecryptResponse&, const DecryptResponse&) = default;
};

// ---------------------------------------------------------------------------
// Errors returned by the service

/// An AWS error response, parsed (client) or to send (server).
struct ApiError {
  int http_status = 0;
  /// Error code without namespace, e.g. "TargetNotConnected".
  std::string code;
  /// The service's message with session-token values replaced by "****",
  /// at most kMaxErrorMessage bytes (may span lines: InvalidSignatureException
  /// carries the canonical request).
  std::string message;
  /// x-amzn-RequestId (or x-amz-request-id); "" if absent.
  std::string request_id;
  friend bool operator==(const ApiError&, const ApiError&) = default;
};
/// Only for result<T, ApiError>::value() on an error (a caller bug).
[[noreturn]] void throw_exception_from_error(const ApiError& error, const boost::source_location& location);
template <class T>
using ApiResult = boost::system::result<T, ApiError>;

/// Longest message kept in ApiError.
inline constexpr std::size_t kMaxErrorMessage = 4096;

/// True for HTTP 2xx.
constexpr bool is_success_status(int status) { return status >= 200 && status < 300; }

/// Parses an error response (any non-2xx). Never fails. The code comes from
/// the body's `__type` (or `code`), else the x-amzn-ErrorType header, else
/// the HTTP status as text (botocore); a namespace up to the last '#' and
/// anything from the first ':' are removed ("com.amazonaws.ssm#TargetNotConnected",
/// "ValidationException:http://internal.amazon.com/..."); a query-compatible
/// `x-amzn-query-error: Code;Sender` header wins over both. The message is
/// `message` or `Message`; a body that is not JSON becomes the message
/// (printable ASCII only, cut to 200 bytes). Headers are matched without case.
ApiError parse_api_error(int http_status, const Headers& headers, std::string_view body);

/// What kind of failure an error is.
enum class ErrorClass {
  /// Slow down and retry (ThrottlingException, TooManyRequestsException, ... —
  /// the union list of botocore standard retries).
  throttling,
  /// Service-side trouble; retry (HTTP 500/502/503/504, InternalServerError,
  /// ServiceUnavailable, RequestTimeout, KMS KMSInternalException/DependencyTimeoutException).
  transient,
  /// Credentials, signature, clock or permission problem; retrying will not help.
  auth,
  /// Anything else (validation, not found, not connected, ...): not retried.
  other,
};
ErrorClass classify(const ApiError& error);
/// True for the throttling error codes of botocore's standard retry mode.
bool is_throttling_code(std::string_view code);

/// One line for the user: what failed and what to do, naming `subject` (the
/// target for StartSession, the session id for Resume/Terminate, the key id
/// for KMS; may be empty), ending with "(request id ...)" when known. Never
/// contains credentials or tokens (nor multi-line server text).
std::string user_message(const ApiError& error, Operation op, std::string_view subject = {});

// ---------------------------------------------------------------------------
// Retries (sans-I/O: the caller sleeps)

/// Retry budget and backoff of one call. Full jitter (AWS SDKs "standard"
/// retry mode): the delay before retry k (k = 1 after the first failed
/// attempt) is uniform in [0, min(base * 2^(k-1), cap)).
struct RetryPolicy {
  /// Total attempts, the first included (1 = no retry).
  int max_attempts = 3;
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{20000};
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

/// AWS "standard" retry mode (AWS SDKs and Tools reference guide "Retry
/// behavior"; botocore 1.43.11 retries/standard.py: DEFAULT_MAX_ATTEMPTS = 3,
/// ExponentialBackoff `rand(0,1) * min(2 ** (attempt - 1), 20)` seconds, i.e.
/// base 1 s, cap 20 s). Used by the AWS CLI v2 and by the plugin's KMS call
/// (1.2.804.0+: SDK v2 standard retryer, 3 attempts; 07 §6).
inline constexpr RetryPolicy kStandardRetryPolicy{3, std::chrono::milliseconds{1000}, std::chrono::milliseconds{20000}};
/// A single attempt: plugin 1.2.804.0+ ResumeSession/TerminateSession
/// ("quick check" config, RetryMaxAttempts(1); 07 §6).
inline constexpr RetryPolicy kSingleAttemptPolicy{1, std::chrono::milliseconds{0}, std::chrono::milliseconds{0}};

/// The policy ssmc uses per operation: single attempt for ResumeSession and
/// TerminateSession (the reconnect loop around them retries, 02 §5),
/// standard for the rest.
RetryPolicy retry_policy_for(Operation op);

/// Why an attempt failed, for the retry decision.
enum class FailureKind {
  throttling,
  transient,
  /// The request may not have reached the service or the response was lost
  /// (connect/TLS handshake/read failure, timeout). The I/O layer decides
  /// which of its errors are transport failures.
  transport,
  /// Not retryable.
  permanent,
};
/// throttling/transient as classify(); auth and other are permanent.
FailureKind failure_kind(const ApiError& error);

/// Delay before the next attempt, or nullopt when the failure is permanent
/// or `attempts_made` (>= 1) reached policy.max_attempts.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, FailureKind failure, int attempts_made,
                                                     crypto::RandomSource& random);
/// Same with failure_kind(error).
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, const ApiError& error,
                                                     int attempts_made, crypto::RandomSource& random);

// ---------------------------------------------------------------------------
// The signed HTTP request

/// A request ready for the HTTP layer. Contains the session token and the
/// signature: do not log it.
struct PreparedRequest {
  std::string method = "POST";
  /// Where to connect: Endpoint scheme/host/port.
  std::string scheme;
  std::string host;
  std::uint16_t port = 443;
  /// Request target (path) for the request line.
  std::string target = "/";
  /// In this order: Host, Content-Type, X-Amz-Target, User-Agent, then
  /// X-Amz-Security-Token (temporary credentials), X-Amz-Date, Authorization.
  /// Content-Length is the HTTP layer's job (not signed).
  Headers headers;
  std::string body;
};

/// Builds the signed JSON 1.1 POST of `target` ("AmazonSSM.StartSession") to
/// `endpoint`, signed for `region`/`service` at `now` (01 §2: signed headers
/// content-type;host;x-amz-date;x-amz-target[;x-amz-security-token]).
/// Errors: those of sign_headers (missing_credentials, missing_scope,
/// bad_signing_time), endpoint_bad_url when the endpoint has no host.
Result<PreparedRequest> prepare_json_request(const Endpoint& endpoint, std::string_view target, std::string body,
                                             const Credentials& credentials, std::string_view region,
                                             std::string_view service, std::chrono::system_clock::time_point now,
                                             std::string_view user_agent = kUserAgent);

/// Same for an Operation, with the endpoint's signing region and name.
Result<PreparedRequest> prepare_api_request(Operation op, const Endpoint& endpoint, std::string body,
                                            const Credentials& credentials, std::chrono::system_clock::time_point now);

// ---------------------------------------------------------------------------
// Client side: request bodies and response parsers. Parsers fail with
// api_bad_json (not a JSON object), api_bad_member (wrong type),
// api_missing_member (a member the client cannot do without),
// api_bad_base64.

std::string build_start_session_request(const StartSessionRequest& request);
/// SessionId and StreamUrl are required; TokenValue may be empty.
Result<StartSessionResponse> parse_start_session_response(std::string_view body);

std::string build_resume_session_request(const ResumeSessionRequest& request);
/// Nothing required: an empty TokenValue means "timed out" (01 §4).
Result<ResumeSessionResponse> parse_resume_session_response(std::string_view body);

std::string build_terminate_session_request(const TerminateSessionRequest& request);
Result<TerminateSessionResponse> parse_terminate_session_response(std::string_view body);

std::string build_describe_instance_information_request(const DescribeInstanceInformationRequest& request);
/// Every listed node needs an InstanceId.
Result<DescribeInstanceInformationResponse> parse_describe_instance_information_response(std::string_view body);

std::string build_generate_data_key_request(const GenerateDataKeyRequest& request);
/// CiphertextBlob and Plaintext are required (base64 in the body).
Result<GenerateDataKeyResponse> parse_generate_data_key_response(std::string_view body);

std::string build_decrypt_request(const DecryptRequest& request);
/// Plaintext is required.
Result<DecryptResponse> parse_decrypt_response(std::string_view body);

// ---------------------------------------------------------------------------
// Server side (emulator): request parsers that answer like the services —
// SerializationException (HTTP 400) for a body that is not a JSON object or a
// member of the wrong type, ValidationException (HTTP 400, coral wording
// "1 validation error detected: Value ... at 'target' failed to satisfy
// constraint: ...") for model constraints — and response bodies.

/// The operation of a request from its X-Amz-Target header; errors:
/// UnknownOperationException (HTTP 400) for a missing or unknown target.
ApiResult<Operation> parse_api_target(const Headers& headers);

ApiResult<StartSessionRequest> parse_start_session_request(std::string_view body);
std::string build_start_session_response(const StartSessionResponse& response);

ApiResult<ResumeSessionRequest> parse_resume_session_request(std::string_view body);
std::string build_resume_session_response(const ResumeSessionResponse& response);

ApiResult<TerminateSessionRequest> parse_terminate_session_request(std::string_view body);
std::string build_terminate_session_response(const TerminateSessionResponse& response);

ApiResult<DescribeInstanceInformationRequest> parse_describe_instance_information_request(std::string_view body);
std::string build_describe_instance_information_response(const DescribeInstanceInformationResponse& response);

ApiResult<GenerateDataKeyRequest> parse_generate_data_key_request(std::string_view body);
std::string build_generate_data_key_response(const GenerateDataKeyResponse& response);

ApiResult<DecryptRequest> parse_decrypt_request(std::string_view body);
std::string build_decrypt_response(const DecryptResponse& response);

/// An error response as the services send it.
struct ApiHttpResponse {
  int status = 400;
  /// Content-Type, and x-amzn-RequestId when error.request_id is set.
  Headers headers;
  /// `{"__type":"<code>","message":"<message>"}`.
  std::string body;
};
ApiHttpResponse build_error_response(const ApiError& error);

}  // namespace ssmc::aws
