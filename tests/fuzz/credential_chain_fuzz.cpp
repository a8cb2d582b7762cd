// libFuzzer target for the credential chain step machine
// (src/aws/credential_chain.hpp), end to end.
//
// Input: byte 0 picks environment switches (see kFlag*); the rest is split
// at NUL bytes into parts that answer the resolver in order: every file read
// (config, credentials, token files, caches) takes the next part (a part
// starting with 0x01 means "no such file"), every HTTP request takes the
// next part (its first byte picks the status or a transport error, the rest
// is the body), every process takes the next part as stdout. MFA prompts are
// answered, or refused when the input runs out.
// Properties, for any input:
//  * the resolver ends (Done or Failed) within kMaxSteps actions and never
//    crashes;
//  * every Failed has an ssmc.aws error code and a non-empty message;
//  * every HttpAction has a method, a host, a port, a path starting with '/'
//    and a Host header; every RunProcessAction has a program;
//  * Done and Failed repeat once reached.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credential_chain.hpp"
#include "aws/errors.hpp"

namespace {

using namespace ssmc::aws;

constexpr int kMaxSteps = 400;
constexpr std::uint8_t kFlagExplicitProfile = 1;
constexpr std::uint8_t kFlagEnvKeys = 2;
constexpr std::uint8_t kFlagContainer = 4;
constexpr std::uint8_t kFlagWebIdentity = 8;
constexpr std::uint8_t kFlagImdsDisabled = 16;
constexpr std::uint8_t kFlagAwsProfile = 32;
constexpr std::uint8_t kFlagRegion = 64;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Parts {
  std::vector<std::string_view> parts;
  std::size_t next = 0;
  const std::string_view* take() { return next < parts.size() ? &parts[next++] : nullptr; }
};

class FuzzFiles final : public FileReader {
 public:
  explicit FuzzFiles(Parts& parts) : parts_(parts) {}
  ssmc::Result<std::string> read_file(const std::string&) override {
    const std::string_view* p = parts_.take();
    if (!p || (!p->empty() && p->front() == '\x01')) return std::make_error_code(std::errc::no_such_file_or_directory);
    return std::string(*p);
  }

 private:
  Parts& parts_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  Parts parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || rest[i] == '\0') {
      parts.parts.push_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }

  FuzzFiles files(parts);
  ResolverInput in;
  in.env = {{"HOME", "/home/u"}};
  if (flags & kFlagEnvKeys) {
    in.env["AWS_ACCESS_KEY_ID"] = "AKIAFUZZ";
    in.env["AWS_SECRET_ACCESS_KEY"] = "FUZZSECRET";
  }
  if (flags & kFlagContainer) in.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/x";
  if (flags & kFlagWebIdentity) {
    in.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/t";
    in.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  }
  if (flags & kFlagImdsDisabled) in.env["AWS_EC2_METADATA_DISABLED"] = "true";
  if (flags & kFlagAwsProfile) in.env["AWS_PROFILE"] = "p";
  if (flags & kFlagRegion) in.env["AWS_REGION"] = "eu-west-1";
  if (flags & kFlagExplicitProfile) in.cli_profile = "p";
  in.files = &files;
  in.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

  CredentialResolver resolver(std::move(in));
  for (int step = 0; step < kMaxSteps; ++step) {
    ResolverAction action = resolver.next_action();
    if (const auto* failed = std::get_if<Failed>(&action)) {
      check(failed->code.category() == aws_category());
      check(!failed->message.empty());
      check(std::holds_alternative<Failed>(resolver.next_action()));
      return 0;
    }
    if (std::holds_alternative<Done>(action)) {
      check(std::holds_alternative<Done>(resolver.next_action()));
      return 0;
    }
    if (const auto* http = std::get_if<HttpAction>(&action)) {
      check(!http->method.empty() && !http->host.empty() && http->port != 0);
      check(!http->path.empty() && http->path.front() == '/');
      check(!http->headers.empty() && http->headers.front().name == "Host");
      const std::string_view* p = parts.take();
      if (!p || p->empty()) {
        resolver.on_http_error(std::make_error_code(std::errc::connection_refused));
        continue;
      }
      static constexpr int kStatuses[] = {200, 200, 200, 400, 401, 403, 404, 405, 429, 500, 503, 0};
      const int status = kStatuses[static_cast<unsigned char>(p->front()) % std::size(kStatuses)];
      if (status == 0)
        resolver.on_http_error(std::make_error_code(std::errc::timed_out));
      else
        resolver.on_http_response(status, {}, std::string(p->substr(1)));
    } else if (const auto* process = std::get_if<RunProcessAction>(&action)) {
      check(!process->argv.empty());
      const std::string_view* p = parts.take();
      if (p)
        resolver.on_process_result(0, std::string(*p), "");
      else
        resolver.on_process_error(std::make_error_code(std::errc::no_such_file_or_directory));
    } else if (std::holds_alternative<PromptMfaAction>(action)) {
      if (parts.next < parts.parts.size())
        resolver.on_mfa_code("123456");
      else
        resolver.on_mfa_unavailable();
    }
    // WriteCacheAction: nothing to answer.
  }
  std::abort();  // did not finish
}
