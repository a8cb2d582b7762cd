#include "aws/errors.hpp"

#include <string>

namespace ssmc::aws {
namespace {

class AwsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.aws"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "ok";
      case Errc::missing_credentials:
        return "AWS credentials have an empty access key id or secret access key; check the profile or environment";
      case Errc::bad_signing_time:
        return "signing time is outside 1970-9999; check the system clock";
      case Errc::missing_scope:
        return "SigV4 region or service name is empty; pass a region (e.g. --region)";
      case Errc::missing_host_header:
        return "request to sign has no Host header; add one";
      case Errc::bad_percent_encoding:
        return "URL path or query has a '%' not followed by two hex digits; percent-encode it as %25";
      case Errc::conflicting_header:
        return "request already carries an X-Amz-Date, X-Amz-Security-Token or x-amz-content-sha256 header with a "
               "different value; remove it before signing";
      case Errc::bad_expiry:
        return "presigned URL lifetime must be between 1 second and 7 days";
      case Errc::bad_url:
        return "URL does not parse; check the StreamUrl returned by the API";
      case Errc::unsupported_url_scheme:
        return "URL scheme must be wss or ws";
      case Errc::missing_url_host:
        return "URL has no host";
      case Errc::url_already_presigned:
        return "URL is already presigned; connect with it unchanged and unsigned";
      case Errc::config_not_utf8:
        return "AWS config file is not valid UTF-8; save it as UTF-8";
      case Errc::config_missing_section_header:
        return "AWS config file has a line before the first section header; add [default] or [profile NAME]";
      case Errc::config_bad_section_header:
        return "AWS config file has a malformed section header; write it as [NAME]";
      case Errc::config_missing_equals:
        return "AWS config file has a line that is not 'name = value'";
      case Errc::config_empty_property_name:
        return "AWS config file has a property without a name";
      case Errc::config_bad_sub_property:
        return "AWS config file has an indented sub-property line without '='; write it as 'key = value'";
      case Errc::config_duplicate_section:
        return "AWS config file repeats a section (the AWS CLI rejects this); merge the two sections";
      case Errc::config_duplicate_property:
        return "AWS config file repeats a property in one section (the AWS CLI rejects this); keep one";
      case Errc::no_home_directory:
        return "HOME is not set; set HOME or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE";
    }
    return "unknown AWS error";
  }
};

}  // namespace

const std::error_category& aws_category() noexcept {
  static const AwsCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), aws_category()}; }

}  // namespace ssmc::aws
