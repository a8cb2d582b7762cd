#include "aws/credentials.hpp"

#include <cstdio>
#include <ostream>

namespace ssmc::aws {

std::string redacted(const Credentials& credentials) {
  std::string out = credentials.access_key_id.empty() ? std::string("(no access key id)") : credentials.access_key_id;
  out += " secret=****";
  if (credentials.session_token && !credentials.session_token->empty()) out += " token=****";
  if (credentials.expiration) {
    using namespace std::chrono;
    const auto t = floor<seconds>(*credentials.expiration);
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, " expires=%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    out += buf;
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Credentials& credentials) { return os << redacted(credentials); }

}  // namespace ssmc::aws
