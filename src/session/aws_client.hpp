// AwsClient: the I/O driver of the AWS codec half. Resolves credentials with
// aws::CredentialResolver (running its HTTP requests, credential_process and
// MFA prompts), resolves endpoints, signs, sends, retries with jitter, and
// turns AWS errors into one-line messages.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "aws/api.hpp"
#include "aws/config_file.hpp"
#include "aws/credential_chain.hpp"
#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "net/http.hpp"
#include "util/result.hpp"

namespace ssmc::session {

namespace asio = boost::asio;

struct AwsSettings {
  aws::Environment env;
  std::string profile;         ///< --profile ("" = none)
  std::string region;          ///< --region ("" = from env/profile)
  std::string ssm_endpoint;    ///< --endpoint-url (SSM only, 01 §1)
};

/// A failure with the line to show the user.
struct AwsFailure {
  std::error_code code;
  std::string message;
  /// Set when the service answered with an error.
  std::optional<aws::ApiError> api_error;
  /// The endpoint could not be reached (connect, TLS, proxy, timeout).
  bool transport = false;
};
template <class T>
using AwsResult = boost::system::result<T, AwsFailure>;
[[noreturn]] void throw_exception_from_error(const AwsFailure& f, const boost::source_location& location);

class AwsClient {
 public:
  AwsClient(asio::any_io_executor ex, AwsSettings settings);

  /// Loads the config files and resolves the region. Call first.
  AwsResult<std::string> init();
  const std::string& region() const { return region_; }
  const AwsSettings& settings() const { return settings_; }

  /// Credentials, resolved once and re-resolved when within the refresh
  /// window of their expiry (stack.md §1.11); `force` re-resolves.
  asio::awaitable<AwsResult<aws::Credentials>> credentials(bool force = false);

  /// One JSON 1.1 call with retries (aws::retry_policy_for); the body of a
  /// 2xx response, else the failure (api_error set for service errors).
  asio::awaitable<AwsResult<std::string>> call(aws::Operation op, std::string body, std::string subject = {});

  asio::awaitable<AwsResult<aws::StartSessionResponse>> start_session(aws::StartSessionRequest request);
  asio::awaitable<AwsResult<aws::ResumeSessionResponse>> resume_session(std::string session_id);
  asio::awaitable<AwsResult<void>> terminate_session(std::string session_id);
  asio::awaitable<AwsResult<aws::DescribeInstanceInformationResponse>> describe_instances(
      std::vector<aws::InstanceInformationFilter> filters);
  asio::awaitable<AwsResult<aws::GenerateDataKeyResponse>> generate_data_key(aws::GenerateDataKeyRequest request);

  /// SigV4 headers for the data-channel upgrade (02 §1.2), or an error.
  asio::awaitable<AwsResult<net::HttpHeaders>> sign_upgrade(net::Endpoint endpoint);

  /// Endpoint of `service` (for messages and tests).
  AwsResult<aws::Endpoint> endpoint(aws::Service service) const;
  net::ClientOptions http_options(const net::Endpoint& target) const;

 private:
  asio::awaitable<AwsResult<aws::Credentials>> resolve();

  asio::any_io_executor ex_;
  AwsSettings settings_;
  std::string region_;
  std::optional<aws::SharedConfig> shared_;
  std::optional<aws::Credentials> cached_;
};

}  // namespace ssmc::session
