#include "mux/errors.hpp"

#include <string>

namespace ssmc::mux {
namespace {

class MuxCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.mux"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "ok";
      case Errc::would_block:
        return "smux send buffer full: wait for the stream to become writable";
      case Errc::unknown_stream:
        return "no such smux stream";
      case Errc::stream_closed:
        return "smux stream already closed for writing";
      case Errc::write_too_large:
        return "write larger than the smux stream send buffer: split it";
      case Errc::too_many_streams:
        return "too many open smux streams: close some first";
      case Errc::stream_ids_exhausted:
        return "smux stream ids exhausted: start a new session";
      case Errc::session_dead:
        return "smux session is dead";
      case Errc::keepalive_timeout:
        return "smux keep-alive timeout: nothing received from the peer for 30 s (the session or the agent is "
               "gone; reconnect)";
      case Errc::input_overflow:
        return "smux receive backlog overflow: input was fed while the receive buffer was full";
      case Errc::session_closed:
        return "smux session closed locally";
    }
    return "unknown mux error";
  }
};

}  // namespace

const std::error_category& mux_category() noexcept {
  static const MuxCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), mux_category()}; }

}  // namespace ssmc::mux
