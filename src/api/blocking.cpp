#include "ssmc/blocking.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ssmc::blocking {

ExecOutcome exec(const ClientConfig& config, const ExecRequest& request, std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  Client client(io.get_executor(), config);
  ExecOutcome out;
  bool done = false;
  boost::asio::steady_timer deadline(io, timeout);
  client.async_exec(request, [&](Error e, ExecResult r) {
    out.error = std::move(e);
    out.result = std::move(r);
    done = true;
    deadline.cancel();
  });
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec || done) return;
    out.error = Error{make_error_code(errc::connection_lost),
                      "no result within " + std::to_string(timeout.count()) + " ms"};
    io.stop();  // abandons the session; the service ends it after its idle timeout
  });
  io.run();
  return out;
}

}  // namespace ssmc::blocking
