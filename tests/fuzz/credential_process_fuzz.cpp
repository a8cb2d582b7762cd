// libFuzzer target for the credential_process codecs (src/aws/credential_codecs.hpp):
// the JSON a credential_process prints, the shell-like splitting of its
// command line, and ISO-8601 times.
//
// The whole input is tried as each of the three. Properties, for any input:
//  * nothing crashes, hangs or reads out of bounds;
//  * parse_credential_process_output fails only with
//    credential_process_bad_output and a non-empty message; on success the
//    access key and secret are set from JSON strings and an empty session
//    token is reported as none;
//  * split_command_line fails only with credential_process_bad_command; on
//    success, quoting every word for a POSIX shell ('…' with ' as '"'"') and
//    splitting again gives the same words;
//  * parse_iso8601 fails only with bad_timestamp; on success, unless clamped,
//    format_iso8601 → parse_iso8601 gives the instant rounded down to the second.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/credential_codecs.hpp"
#include "aws/errors.hpp"

namespace {

using namespace ssmc::aws;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\"'\"'";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto output = parse_credential_process_output(text);
  if (output) {
    check(!output->credentials.session_token || !output->credentials.session_token->empty());
    check(!output->account_id || !output->account_id->empty());
  } else {
    check(output.error().code == make_error_code(Errc::credential_process_bad_output));
    check(!output.error().message.empty());
  }

  auto words = split_command_line(text);
  if (words) {
    std::string joined;
    for (const auto& w : *words) joined += shell_quote(w) + ' ';
    auto again = split_command_line(joined);
    check(again && *again == *words);
  } else {
    check(words.error() == make_error_code(Errc::credential_process_bad_command));
  }

  auto time = parse_iso8601(text);
  if (time) {
    if (*time != TimePoint::max() && *time != TimePoint::min()) {
      auto again = parse_iso8601(format_iso8601(*time));
      check(again && *again == std::chrono::floor<std::chrono::seconds>(*time));
    }
  } else {
    check(time.error() == make_error_code(Errc::bad_timestamp));
  }
  return 0;
}
