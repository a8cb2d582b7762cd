// libFuzzer target for the STS XML reader (src/aws/sts_codec.hpp): the small
// XML parser and the AssumeRole / AssumeRoleWithWebIdentity / error readers.
//
// Properties, for any input:
//  * nothing crashes, hangs, overflows the stack or reads out of bounds
//    (nesting is capped at kMaxXmlDepth);
//  * parse_xml fails only with bad_credential_response; a parsed tree has a
//    non-empty root name, no element name contains markup characters, and no
//    deeper nesting than kMaxXmlDepth;
//  * parse_sts_credentials succeeds only on documents parse_xml accepts, and
//    then every credential field is non-empty and the expiration is set;
//  * parse_sts_error finds something only in well-formed documents, and the
//    code is what the tree says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/errors.hpp"
#include "aws/sts_codec.hpp"

namespace {

using namespace ssmc::aws;

void check(bool ok) {
  if (!ok) std::abort();
}

std::size_t check_tree(const XmlElement& e, std::size_t depth) {
  check(!e.name.empty());
  check(e.name.find_first_of("<>/= \t\r\n:") == std::string::npos);
  std::size_t deepest = depth;
  for (const auto& c : e.children) {
    const std::size_t d = check_tree(c, depth + 1);
    if (d > deepest) deepest = d;
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = parse_xml(text);
  if (doc) {
    check(check_tree(*doc, 1) <= kMaxXmlDepth + 1);
  } else {
    check(doc.error() == make_error_code(Errc::bad_credential_response));
  }
  for (std::string_view action : {"AssumeRole", "AssumeRoleWithWebIdentity"}) {
    auto creds = parse_sts_credentials(text, action);
    if (creds) {
      check(doc.has_value());
      check(!creds->credentials.access_key_id.empty() && !creds->credentials.secret_access_key.empty());
      check(creds->credentials.session_token && !creds->credentials.session_token->empty());
      check(creds->credentials.expiration.has_value());
    } else {
      check(creds.error().code == make_error_code(Errc::bad_credential_response));
      check(!creds.error().message.empty());
    }
  }
  auto error = parse_sts_error(text);
  if (error) check(doc.has_value());
  return 0;
}
