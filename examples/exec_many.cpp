// exec_many: runs one command on several targets at the same time and
// reports each target's exit status, output and session statistics. Written
// with plain completion callbacks: every Client::async_exec is started at
// once, and the sessions run side by side on one io_context (one thread).
// Exits 0 when every target ran the command with status 0, else 1.
//
//   exec_many [--region R] [--endpoint-url URL] [--profile P] TARGET... -- COMMAND [ARG...]
//
// Without the options, region, endpoint and credentials come from the
// environment and ~/.aws as for the AWS CLI. Against ssmc-emulator
// (docs/emulator.md; export its AWS_* settings):
//   exec_many --endpoint-url http://127.0.0.1:PORT i-0123456789abcdef0 i-0123456789abcdef0 -- uname -a
//
// RUN: --endpoint-url $ENDPOINT --region $REGION $TARGET $TARGET $TARGET -- sh -c 'uname -s; exit 3'
// RUN: $TARGET i-0000000000000dead -- uname -s
// EXPECT: ^\[1\] i-0123456789abcdef0: exit (0|3)$
// EXPECT: ^    Linux$
// EXPECT: ^[23] targets: [01] succeeded, [1-3] failed$
// EXIT: 1
#include <ssmc/ssmc.hpp>

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Outcome {
  ssmc::Error error;
  ssmc::ExecResult result;
};

// Prints `text` indented, one line at a time, with an optional label.
void print_indented(const std::string& text, const char* label) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) std::cout << "    " << label << line << "\n";
}

const char* errc_name(const std::error_code& code) {
  if (code.category() != ssmc::error_category()) return "other";
  switch (static_cast<ssmc::errc>(code.value())) {
    case ssmc::errc::invalid_argument: return "invalid_argument";
    case ssmc::errc::config: return "config";
    case ssmc::errc::credentials: return "credentials";
    case ssmc::errc::api: return "api";
    case ssmc::errc::unreachable: return "unreachable";
    case ssmc::errc::connection_lost: return "connection_lost";
    case ssmc::errc::session_closed: return "session_closed";
    case ssmc::errc::protocol: return "protocol";
    case ssmc::errc::no_exit_code: return "no_exit_code";
    case ssmc::errc::unsupported: return "unsupported";
    case ssmc::errc::closed: return "closed";
  }
  return "other";
}

int usage() {
  std::cerr << "usage: exec_many [--region R] [--endpoint-url URL] [--profile P] TARGET... -- COMMAND [ARG...]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ssmc::ClientConfig config;  // empty fields: taken from the environment and ~/.aws
  std::vector<std::string> targets, command;
  int i = 1;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) {
    const std::string a = argv[i];
    if (a == "--region" && i + 1 < argc) config.region = argv[++i];
    else if (a == "--endpoint-url" && i + 1 < argc) config.endpoint_url = argv[++i];
    else if (a == "--profile" && i + 1 < argc) config.profile = argv[++i];
    else if (a.starts_with("--")) return usage();
    else targets.push_back(a);
  }
  command.assign(argv + std::min(i + 1, argc), argv + argc);
  if (targets.empty() || command.empty()) return usage();

  boost::asio::io_context io;
  ssmc::Client client(io.get_executor(), config);
  client.set_event_handler([](const ssmc::SessionEvent& e) {  // resumes happen by themselves; just tell
    if (e.type == ssmc::SessionEvent::Type::connection_lost)
      std::cerr << "exec_many: " << e.session_id << ": connection lost (" << e.text << "), resuming\n";
  });

  const auto started = std::chrono::steady_clock::now();
  std::vector<Outcome> outcomes(targets.size());
  for (std::size_t t = 0; t < targets.size(); ++t) {
    ssmc::ExecRequest request;
    request.target = targets[t];
    request.argv = command;  // quoted for the remote POSIX shell by ssmc: no re-interpretation
    // Each callback runs on io's thread, one at a time: no locking needed.
    client.async_exec(std::move(request), [&outcomes, t](ssmc::Error err, ssmc::ExecResult result) {
      outcomes[t] = {std::move(err), std::move(result)};
    });
  }
  io.run();  // returns when every exec has completed
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;

  int succeeded = 0;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const auto& [err, r] = outcomes[t];
    std::cout << "[" << t + 1 << "] " << targets[t] << ": ";
    if (err) {
      // The result may still hold output that arrived before the failure (no_exit_code, ...).
      std::cout << "error " << errc_name(err.code) << "\n";
      std::cerr << "exec_many: " << targets[t] << ": " << err.message << "\n";
    } else {
      std::cout << "exit " << r.exit_code << "\n";
      succeeded += r.exit_code == 0;
    }
    print_indented(r.stdout_data, "");
    print_indented(r.stderr_data, "stderr: ");
    if (!r.session_id.empty()) {
      std::cout << "    session " << r.session_id << ": " << r.stats.frames_in << " frames in, "
                << r.stats.frames_out << " out, " << r.stats.retransmissions << " retransmitted, rtt "
                << r.stats.rtt.count() << " us\n";
    }
  }
  const auto failed = targets.size() - static_cast<std::size_t>(succeeded);
  std::cout << targets.size() << " targets: " << succeeded << " succeeded, " << failed << " failed\n";
  std::cerr << "exec_many: " << targets.size() << " sessions in " << std::fixed << std::setprecision(2) << took.count()
            << " s\n";
  return failed == 0 ? 0 : 1;
}
