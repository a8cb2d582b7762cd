#include "ssmc/error.hpp"

namespace ssmc {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::invalid_argument: return "invalid argument";
      case errc::config: return "configuration error";
      case errc::credentials: return "no usable credentials";
      case errc::api: return "the AWS API refused the call";
      case errc::unreachable: return "endpoint unreachable";
      case errc::connection_lost: return "the session's connection was lost";
      case errc::session_closed: return "the session was ended by the service";
      case errc::protocol: return "protocol error";
      case errc::no_exit_code: return "the target reported no exit status";
      case errc::unsupported: return "not supported by the agent";
      case errc::closed: return "the session is closed";
    }
    return "unknown ssmc error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace ssmc
