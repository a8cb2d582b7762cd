#include "aws/sts_codec.hpp"

#include <array>

#include "aws/api.hpp"
#include "aws/errors.hpp"

namespace ssmc::aws {
namespace {

CredentialError fail(std::string message) {
  return {make_error_code(Errc::bad_credential_response), std::move(message)};
}

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_xml_space(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::size_t pos, std::string_view prefix) {
  return s.size() - pos >= prefix.size() && s.compare(pos, prefix.size(), prefix) == 0;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Decodes character data with entity references into `out`.
bool decode_text(std::string_view text, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '&') {
      out += c;
      ++i;
      continue;
    }
    const auto semi = text.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) return false;
    const auto ref = text.substr(i + 1, semi - i - 1);
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const auto digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return false;
      char32_t cp = 0;
      for (char d : digits) {
        unsigned v = 0;
        if (d >= '0' && d <= '9')
          v = static_cast<unsigned>(d - '0');
        else if (hex && d >= 'a' && d <= 'f')
          v = static_cast<unsigned>(d - 'a' + 10);
        else if (hex && d >= 'A' && d <= 'F')
          v = static_cast<unsigned>(d - 'A' + 10);
        else
          return false;
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF) return false;
      }
      if (!is_xml_char(cp)) return false;
      append_utf8(out, cp);
    } else {
      return false;
    }
    i = semi + 1;
  }
  return true;
}

bool is_name_end(char c) {
  return is_xml_space(c) || c == '/' || c == '>' || c == '<' || c == '=' || c == '&' || c == '"' || c == '\'';
}

std::string_view local_name(std::string_view qname) {
  const auto colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// Skips a comment / PI at `pos` (which starts with "<!--" or "<?").
bool skip_markup(std::string_view s, std::size_t& pos) {
  if (starts_with(s, pos, "<!--")) {
    const auto end = s.find("-->", pos + 4);
    if (end == std::string_view::npos) return false;
    pos = end + 3;
    return true;
  }
  if (starts_with(s, pos, "<?")) {
    const auto end = s.find("?>", pos + 2);
    if (end == std::string_view::npos) return false;
    pos = end + 2;
    return true;
  }
  return false;
}

const char* kHex = "0123456789ABCDEF";

}  // namespace

std::string form_urlencode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string assume_role_body(const AssumeRoleParams& p) {
  std::string body = "Action=AssumeRole&Version=" + std::string(kStsApiVersion);
  body += "&RoleArn=" + form_urlencode(p.role_arn);
  body += "&RoleSessionName=" + form_urlencode(p.role_session_name);
  if (p.duration_seconds) body += "&DurationSeconds=" + std::to_string(*p.duration_seconds);
  if (p.external_id) body += "&ExternalId=" + form_urlencode(*p.external_id);
  if (p.serial_number) body += "&SerialNumber=" + form_urlencode(*p.serial_number);
  if (p.token_code) body += "&TokenCode=" + form_urlencode(*p.token_code);
  return body;
}

std::string assume_role_with_web_identity_body(const WebIdentityParams& p) {
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=" + std::string(kStsApiVersion);
  body += "&RoleArn=" + form_urlencode(p.role_arn);
  body += "&RoleSessionName=" + form_urlencode(p.role_session_name);
  body += "&WebIdentityToken=" + form_urlencode(p.web_identity_token);
  return body;
}

// --- XML ------------------------------------------------------------------------

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const auto& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

const XmlElement* XmlElement::find(std::string_view descendant_name) const {
  for (const auto& c : children) {
    if (c.name == descendant_name) return &c;
    if (const auto* f = c.find(descendant_name)) return f;
  }
  return nullptr;
}

Result<XmlElement> parse_xml(std::string_view s) {
  const auto bad = make_error_code(Errc::bad_credential_response);
  std::size_t pos = 0;
  if (starts_with(s, 0, "\xEF\xBB\xBF")) pos = 3;

  // Prolog.
  bool seen_doctype = false;
  while (true) {
    while (pos < s.size() && is_xml_space(s[pos])) ++pos;
    if (pos >= s.size()) return bad;
    if (starts_with(s, pos, "<!--") || starts_with(s, pos, "<?")) {
      if (!skip_markup(s, pos)) return bad;
      continue;
    }
    if (starts_with(s, pos, "<!DOCTYPE")) {
      if (seen_doctype) return bad;
      seen_doctype = true;
      const auto end = s.find('>', pos);
      if (end == std::string_view::npos) return bad;
      if (s.substr(pos, end - pos).find('[') != std::string_view::npos) return bad;  // no internal subset
      pos = end + 1;
      continue;
    }
    break;
  }
  if (s[pos] != '<') return bad;

  std::vector<XmlElement> stack;
  std::vector<std::string> qnames;
  std::optional<XmlElement> root;
  while (!root) {
    if (pos >= s.size()) return bad;
    if (s[pos] != '<') {
      if (stack.empty()) return bad;
      const auto end = s.find('<', pos);
      if (end == std::string_view::npos) return bad;
      if (!decode_text(s.substr(pos, end - pos), stack.back().text)) return bad;
      pos = end;
      continue;
    }
    if (starts_with(s, pos, "<!--") || starts_with(s, pos, "<?")) {
      if (stack.empty() || !skip_markup(s, pos)) return bad;
      continue;
    }
    if (starts_with(s, pos, "<![CDATA[")) {
      if (stack.empty()) return bad;
      const auto end = s.find("]]>", pos + 9);
      if (end == std::string_view::npos) return bad;
      stack.back().text.append(s.substr(pos + 9, end - pos - 9));
      pos = end + 3;
      continue;
    }
    if (starts_with(s, pos, "<!")) return bad;
    if (starts_with(s, pos, "</")) {
      std::size_t i = pos + 2;
      const std::size_t name_start = i;
      while (i < s.size() && !is_name_end(s[i])) ++i;
      const auto qname = s.substr(name_start, i - name_start);
      while (i < s.size() && is_xml_space(s[i])) ++i;
      if (i >= s.size() || s[i] != '>' || stack.empty() || qname != qnames.back()) return bad;
      pos = i + 1;
      XmlElement done = std::move(stack.back());
      stack.pop_back();
      qnames.pop_back();
      if (stack.empty())
        root = std::move(done);
      else
        stack.back().children.push_back(std::move(done));
      continue;
    }
    // Start tag.
    std::size_t i = pos + 1;
    const std::size_t name_start = i;
    while (i < s.size() && !is_name_end(s[i])) ++i;
    const auto qname = s.substr(name_start, i - name_start);
    if (qname.empty() || local_name(qname).empty()) return bad;
    bool empty_element = false;
    while (true) {
      const std::size_t before = i;
      while (i < s.size() && is_xml_space(s[i])) ++i;
      if (i >= s.size()) return bad;
      if (s[i] == '>') {
        ++i;
        break;
      }
      if (s[i] == '/') {
        if (i + 1 >= s.size() || s[i + 1] != '>') return bad;
        i += 2;
        empty_element = true;
        break;
      }
      if (i == before) return bad;  // attributes are separated by white space
      const std::size_t attr_start = i;
      while (i < s.size() && !is_name_end(s[i])) ++i;
      if (i == attr_start) return bad;
      while (i < s.size() && is_xml_space(s[i])) ++i;
      if (i >= s.size() || s[i] != '=') return bad;
      ++i;
      while (i < s.size() && is_xml_space(s[i])) ++i;
      if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) return bad;
      const char quote = s[i++];
      const auto end = s.find(quote, i);
      if (end == std::string_view::npos) return bad;
      std::string ignored;
      const auto value = s.substr(i, end - i);
      if (value.find('<') != std::string_view::npos || !decode_text(value, ignored)) return bad;
      i = end + 1;
    }
    pos = i;
    XmlElement element;
    element.name = std::string(local_name(qname));
    if (empty_element) {
      if (stack.empty())
        root = std::move(element);
      else
        stack.back().children.push_back(std::move(element));
      continue;
    }
    if (stack.size() >= kMaxXmlDepth) return bad;
    stack.push_back(std::move(element));
    qnames.emplace_back(qname);
  }

  // Epilog: white space, comments, PIs only.
  while (pos < s.size()) {
    if (is_xml_space(s[pos])) {
      ++pos;
      continue;
    }
    if (!skip_markup(s, pos)) return bad;
  }
  return std::move(*root);
}

// --- STS answers ------------------------------------------------------------------

CredentialResult<StsCredentials> parse_sts_credentials(std::string_view xml, std::string_view action) {
  const std::string what = "the STS " + std::string(action) + " response";
  auto doc = parse_xml(xml);
  if (!doc) return fail(what + " is not well-formed XML");
  if (doc->name != std::string(action) + "Response")
    return fail(what + " has root element <" + doc->name + ">, not <" + std::string(action) + "Response>");
  const XmlElement* result = doc->child(std::string(action) + "Result");
  if (!result) return fail(what + " lacks <" + std::string(action) + "Result>");
  const XmlElement* creds = result->child("Credentials");
  if (!creds) return fail(what + " lacks <Credentials>");
  StsCredentials out;
  for (std::string_view name : {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
    const XmlElement* e = creds->child(name);
    if (!e || trim_xml_space(e->text).empty()) return fail(what + " lacks <" + std::string(name) + ">");
  }
  out.credentials.access_key_id = std::string(trim_xml_space(creds->child("AccessKeyId")->text));
  out.credentials.secret_access_key = std::string(trim_xml_space(creds->child("SecretAccessKey")->text));
  out.credentials.session_token = std::string(trim_xml_space(creds->child("SessionToken")->text));
  auto expiration = parse_iso8601(creds->child("Expiration")->text);
  if (!expiration) return fail(what + " has an <Expiration> that is not an ISO-8601 time");
  out.credentials.expiration = *expiration;
  if (const XmlElement* user = result->child("AssumedRoleUser")) {
    if (const auto* id = user->child("AssumedRoleId")) out.assumed_role_id = std::string(trim_xml_space(id->text));
    if (const auto* arn = user->child("Arn")) out.assumed_role_arn = std::string(trim_xml_space(arn->text));
  }
  out.account_id = account_id_from_arn(out.assumed_role_arn);
  return out;
}

std::optional<StsServiceError> parse_sts_error(std::string_view xml) {
  auto doc = parse_xml(xml);
  if (!doc) return std::nullopt;
  const XmlElement* error = doc->name == "Error" ? &*doc : doc->find("Error");
  while (error && !error->child("Code")) error = error->find("Error");
  if (!error) return std::nullopt;
  StsServiceError out;
  out.code = std::string(trim_xml_space(error->child("Code")->text));
  if (const auto* t = error->child("Type")) out.type = std::string(trim_xml_space(t->text));
  if (const auto* m = error->child("Message")) out.message = std::string(trim_xml_space(m->text));
  const XmlElement* id = doc->find("RequestId");
  if (!id) id = doc->find("RequestID");
  if (id) out.request_id = std::string(trim_xml_space(id->text));
  return out;
}

bool is_retryable_error_code(std::string_view code) {
  // botocore retries/standard.py: _THROTTLED_ERROR_CODES (shared with the API
  // client) + _TRANSIENT_ERROR_CODES, plus IDPCommunicationError
  // (RetryIDPCommunicationError, STS only).
  return is_throttling_code(code) || code == "RequestTimeout" || code == "RequestTimeoutException" ||
         code == "IDPCommunicationError";
}

}  // namespace ssmc::aws
