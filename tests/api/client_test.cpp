// The public API (include/ssmc/*.hpp) against an in-process ssmc-emulator on
// the same io_context: every documented error of every public operation is
// produced here, and each operation's normal result is checked.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include "emulator/emulator.hpp"
#include "ssmc/blocking.hpp"
#include "ssmc/ssmc.hpp"

namespace ssmc {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

constexpr const char* kTarget = "i-0123456789abcdef0";
constexpr const char* kOldAgentTarget = "i-0000000000000b001";  // 3.0.161.0: no multiplexing
constexpr const char* kOfflineTarget = "i-00000000000000off";
constexpr const char* kKeyId = "AKIAEMULATOR00000000";
constexpr const char* kSecret = "ssmc-emulator-secret-key";
constexpr auto kTestTimeout = std::chrono::seconds(60);

std::map<std::string, std::string> clean_env() {
  return {{"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"HOME", "/nonexistent"},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

/// A TCP echo server on 127.0.0.1 (the remote end of port and SSH sessions).
class EchoServer {
 public:
  explicit EchoServer(asio::io_context& io) : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(tuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), echo(std::move(socket)), asio::detached);
    }
  }
  static awaitable<void> echo(asio::ip::tcp::socket s) {
    std::array<char, 4096> buf{};
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple);
      if (ec) {
        boost::system::error_code ignored;
        s.shutdown(asio::socket_base::shutdown_send, ignored);  // echo the half-close too
        co_return;
      }
      auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), tuple);
      if (wec) co_return;
    }
  }
  asio::ip::tcp::acceptor acceptor_;
};

class Api : public ::testing::Test {
 protected:
  void SetUp() override { start_emulator({}); }

  void start_emulator(std::function<void(emulator::Config&)> tweak) {
    emu_.reset();
    emulator::Config c;
    c.profile = "fast";
    c.targets = {emulator::Target{kTarget, "example"}, emulator::Target{kOldAgentTarget, "old"},
                 emulator::Target{kOfflineTarget, "off"}};
    c.targets[1].agent_version = "3.0.161.0";
    c.targets[2].online = false;
    if (tweak) tweak(c);
    auto e = emulator::Emulator::start(io_.get_executor(), c);
    ASSERT_TRUE(e) << e.error().message();
    emu_ = std::move(*e);
  }

  ClientConfig config() const {
    ClientConfig c;
    c.region = "us-east-1";
    c.endpoint_url = emu_->endpoint_url();
    c.credentials = Credentials{kKeyId, kSecret, ""};
    c.environment = clean_env();
    return c;
  }

  /// Runs `body` as a coroutine on the shared io_context until it finishes.
  void run(std::function<awaitable<void>()> body) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + kTestTimeout;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(done) << "the test coroutine did not finish in " << kTestTimeout.count() << " s";
    if (error) std::rethrow_exception(error);
  }

  awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(io_, d);
    co_await t.async_wait(tuple);
  }

  asio::io_context io_;
  std::unique_ptr<emulator::Emulator> emu_;
  EchoServer echo_{io_};
};

awaitable<std::string> read_until_text(Stream& s, std::string needle, std::string& seen) {
  std::array<char, 4096> buf{};
  while (seen.find(needle) == std::string::npos) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple);
    if (ec) break;
    seen.append(buf.data(), n);
  }
  co_return seen;
}

// ------------------------------------------------------------------ exec

TEST_F(Api, ExecSeparatesStreamsAndReturnsTheExitCode) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    const ExecRequest req = {.target = kTarget, .argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_FALSE(err) << err.message;
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_data, "out\n");
    EXPECT_EQ(r.stderr_data, "err\n");
    EXPECT_FALSE(r.session_id.empty());
    EXPECT_GT(r.stats.frames_in, 0u);
    EXPECT_GT(r.stats.rtt.count(), 0);
  });
}

TEST_F(Api, ExecArgumentsAreNotReinterpretedByTheRemoteShell) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    const ExecRequest req = {.target = kTarget, .argv = {"printf", "%s|", "a b", "$HOME", "'q'"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_FALSE(err) << err.message;
    EXPECT_EQ(r.stdout_data, "a b|$HOME|'q'|");
  });
}

TEST_F(Api, ExecInvalidArguments) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    const ExecRequest req = {.target = kTarget, .argv = {}};
    auto [e1, r1] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(e1.code, make_error_code(errc::invalid_argument));
    const ExecRequest no_target = {.target = "", .argv = {"true"}};
    auto [e2, r2] = co_await client.async_exec(no_target, tuple);
    EXPECT_EQ(e2.code, make_error_code(errc::invalid_argument));
    EXPECT_EQ(e2.message, "no target given");
  });
}

TEST_F(Api, ExecConfigErrorWithoutARegion) {
  run([&]() -> awaitable<void> {
    auto c = config();
    c.region.clear();
    Client client(io_.get_executor(), c);
    const ExecRequest req = {.target = kTarget, .argv = {"true"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::config)) << err.message;
    EXPECT_NE(err.message.find("region"), std::string::npos) << err.message;
  });
}

TEST_F(Api, ExecCredentialsErrorWhenNoneCanBeFound) {
  run([&]() -> awaitable<void> {
    auto c = config();
    c.credentials.reset();  // and the environment has none
    Client client(io_.get_executor(), c);
    const ExecRequest req = {.target = kTarget, .argv = {"true"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::credentials)) << err.message;
  });
}

TEST_F(Api, ExecApiErrorForAWrongSecretNeverShowsIt) {
  run([&]() -> awaitable<void> {
    auto c = config();
    c.credentials = Credentials{kKeyId, "not-the-secret-at-all", ""};
    Client client(io_.get_executor(), c);
    const ExecRequest req = {.target = kTarget, .argv = {"true"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::api)) << err.message;
    EXPECT_EQ(err.message.find("not-the-secret-at-all"), std::string::npos);
  });
}

TEST_F(Api, ExecApiErrorForAnOfflineTarget) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    const ExecRequest req = {.target = kOfflineTarget, .argv = {"true"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::api)) << err.message;
    EXPECT_NE(err.message.find("is not connected to SSM"), std::string::npos) << err.message;
  });
}

TEST_F(Api, ExecUnreachableEndpoint) {
  run([&]() -> awaitable<void> {
    // A port that was just free: nothing listens there.
    asio::ip::tcp::acceptor a(io_, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();
    auto c = config();
    c.endpoint_url = "http://127.0.0.1:" + std::to_string(port);
    Client client(io_.get_executor(), c);
    const ExecRequest req = {.target = kTarget, .argv = {"true"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::unreachable)) << err.message;
  });
}

TEST_F(Api, ExecNoExitCodeKeepsTheOutput) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    // InteractiveCommands reports no exit status (05 §4).
    const ExecRequest req = {
        .target = kTarget, .argv = {"echo", "interactive-ok"}, .document = "AWS-StartInteractiveCommand"};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::no_exit_code)) << err.message;
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_NE(r.stdout_data.find("interactive-ok"), std::string::npos) << r.stdout_data;
  });
}

TEST_F(Api, ExecSessionClosedByTheServiceGivesItsReason) {
  start_emulator([](emulator::Config& c) { c.faults.max_duration = std::chrono::milliseconds(1500); });
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    std::vector<SessionEvent> events;
    client.set_event_handler([&](const SessionEvent& e) { events.push_back(e); });
    const ExecRequest req = {.target = kTarget, .argv = {"sleep", "30"}};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::session_closed)) << err.message;
    EXPECT_FALSE(err.message.empty());
    bool closed = false;
    for (const auto& e : events) closed |= e.type == SessionEvent::Type::closed && e.text == err.message;
    EXPECT_TRUE(closed) << "a closed event with the reason";
  });
}

TEST_F(Api, ExecConnectionLostWhenTheSessionCannotBeResumed) {
  // The client's leg is cut after 20 frames, and then the whole service goes away (without a channel_closed,
  // which could no longer reach the client): every resume fails until the budget is spent.
  start_emulator([](emulator::Config& c) { c.faults.drop_client_after = 20; });
  run([&]() -> awaitable<void> {
    auto c = config();
    c.reconnect_budget = std::chrono::milliseconds(1500);
    Client client(io_.get_executor(), c);
    std::vector<SessionEvent::Type> events;
    client.set_event_handler([&](const SessionEvent& e) {
      events.push_back(e.type);
      if (e.type == SessionEvent::Type::connection_lost) emu_->stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    // A document that streams output as it comes (the default one wraps it up until the command ends).
    const ExecRequest req = {.target = kTarget,
                             .argv = {"sh", "-c", "while :; do echo tick; sleep 0.02; done"},
                             .document = "SSMC-StartNonInteractiveCommandSeparateStreams"};
    auto [err, r] = co_await client.async_exec(req, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::connection_lost)) << err.message;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20)) << "gave up within the budget";
    EXPECT_NE(std::find(events.begin(), events.end(), SessionEvent::Type::connection_lost), events.end()) << err.message;
  });
}

// ------------------------------------------------------------------ blocking

TEST_F(Api, BlockingExecRunsItsOwnLoop) {
  // The emulator runs on a thread of its own here: blocking::exec brings its own io_context.
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop) io_.run_for(std::chrono::milliseconds(50));
  });
  auto out = blocking::exec(config(), {.target = kTarget, .argv = {"sh", "-c", "echo blocking; exit 7"}},
                            std::chrono::seconds(30));
  auto timed_out = blocking::exec(config(), {.target = kTarget, .argv = {"sleep", "30"}}, std::chrono::seconds(1));
  stop = true;
  t.join();
  EXPECT_FALSE(out.error) << out.error.message;
  EXPECT_EQ(out.result.exit_code, 7);
  EXPECT_EQ(out.result.stdout_data, "blocking\n");
  EXPECT_EQ(timed_out.error.code, make_error_code(errc::connection_lost)) << timed_out.error.message;
  EXPECT_NE(timed_out.error.message.find("no result within 1000 ms"), std::string::npos) << timed_out.error.message;
}

// ------------------------------------------------------------------ port sessions

TEST_F(Api, PortSessionStreamsEchoConcurrently) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    auto [err, port] = co_await client.async_connect_port(kTarget, "", echo_.port(), tuple);
    EXPECT_FALSE(err) << err.message;
    if (err) co_return;
    EXPECT_TRUE(port.is_open());
    EXPECT_FALSE(port.session_id().empty());
    constexpr int kStreams = 4;
    int done = 0;
    for (int i = 0; i < kStreams; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> awaitable<void> {
            auto [oe, s] = co_await port.async_open_stream(tuple);
            EXPECT_FALSE(oe) << oe.message;
            std::string payload(100'000 + i, static_cast<char>('a' + i));
            co_await asio::async_write(s, asio::buffer(payload), tuple);
            s.shutdown(asio::socket_base::shutdown_send);
            std::string got;
            std::array<char, 8192> buf{};
            for (;;) {
              auto [re, n] = co_await s.async_read_some(asio::buffer(buf), tuple);
              if (re) break;
              got.append(buf.data(), n);
            }
            EXPECT_EQ(got, payload) << "stream " << i;
            ++done;
          },
          asio::detached);
    }
    for (int waited = 0; done < kStreams && waited < 300; ++waited) co_await sleep(std::chrono::milliseconds(100));
    EXPECT_EQ(done, kStreams);
    EXPECT_GT(port.stats().bytes_received, 400'000u);
    port.close();
    auto [ce] = co_await port.async_wait_closed(tuple);
    EXPECT_FALSE(ce) << ce.message;
    EXPECT_FALSE(port.is_open());
    auto [after, s] = co_await port.async_open_stream(tuple);
    EXPECT_EQ(after.code, make_error_code(errc::closed));
  });
}

TEST_F(Api, PortSessionErrors) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    auto [e0, p0] = co_await client.async_connect_port(kTarget, "", 0, tuple);
    EXPECT_EQ(e0.code, make_error_code(errc::invalid_argument));
    auto [e1, p1] = co_await client.async_connect_port(kOldAgentTarget, "", echo_.port(), tuple);
    EXPECT_EQ(e1.code, make_error_code(errc::unsupported)) << e1.message;
    EXPECT_NE(e1.message.find("3.0.161.0"), std::string::npos) << e1.message;
    auto [e2, p2] = co_await client.async_connect_port(kOfflineTarget, "", echo_.port(), tuple);
    EXPECT_EQ(e2.code, make_error_code(errc::api)) << e2.message;
    // Outside the emulator's allow-list (loopback only): the agent refuses each stream, which reads EOF.
    auto [e3, p3] = co_await client.async_connect_port(kTarget, "192.0.2.1", 80, tuple);
    EXPECT_FALSE(e3) << e3.message;
    if (!e3) {
      auto [oe, s] = co_await p3.async_open_stream(tuple);
      EXPECT_FALSE(oe) << oe.message;
      std::array<char, 16> buf{};
      auto [re, n] = co_await s.async_read_some(asio::buffer(buf), tuple);
      EXPECT_EQ(re, asio::error::eof) << re.message();
      EXPECT_TRUE(p3.is_open()) << "one refused stream does not end the session";
      p3.close();
    }
    // A handle that did not come from a Client.
    PortSession empty;
    EXPECT_FALSE(empty.is_open());
    EXPECT_THROW(empty.async_open_stream([](Error, Stream) {}), std::logic_error);
  });
}

// ------------------------------------------------------------------ shell and ssh

TEST_F(Api, ShellAnswersAndEndsWhenClosed) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    auto [err, shell] = co_await client.async_start_shell(kTarget, 100, 30, tuple);
    EXPECT_FALSE(err) << err.message;
    if (err) co_return;
    const std::string cmd = "stty size; echo api-$((6*7))\n";
    co_await asio::async_write(shell.stream(), asio::buffer(cmd), tuple);
    std::string seen;
    co_await read_until_text(shell.stream(), "api-42", seen);
    EXPECT_NE(seen.find("api-42"), std::string::npos) << seen;
    EXPECT_NE(seen.find("30 100"), std::string::npos) << seen;
    shell.close();
    auto [ce] = co_await shell.async_wait_closed(tuple);
    EXPECT_FALSE(ce) << ce.message;
    EXPECT_FALSE(shell.is_open());
  });
}

// Found by the examples (valgrind): an operation started before the loop ran
// used its session object after it was freed.
TEST_F(Api, OperationsStartedBeforeTheLoopRunsAndClientDropped) {
  std::optional<ExecResult> result;
  Error shell_error{make_error_code(errc::protocol), "not called"};
  Shell shell;
  {
    Client client(io_.get_executor(), config());
    const ExecRequest req = {.target = kTarget, .argv = {"echo", "early"}};
    client.async_exec(req, [&](Error e, ExecResult r) {
      EXPECT_FALSE(e) << e.message;
      result = std::move(r);
    });
    client.async_start_shell(kTarget, 80, 24, [&](Error e, Shell s) {
      shell_error = e;
      shell = std::move(s);
    });
  }  // the Client goes away before anything ran
  const auto deadline = std::chrono::steady_clock::now() + kTestTimeout;
  while ((!result || !shell.is_open()) && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(result);
  EXPECT_EQ(result->stdout_data, "early\n");
  EXPECT_FALSE(shell_error) << shell_error.message;
  shell.close();
}

// Found by the examples: after a shell ended, its session waited forever for
// input the user never closed, so io_context::run() never returned.
TEST_F(Api, RunReturnsAfterAShellEndsWithoutTheUserClosingTheStream) {
  std::atomic<bool> stop{false};
  std::thread emulator_thread([&] {
    while (!stop) io_.run_for(std::chrono::milliseconds(50));
  });
  asio::io_context client_io;
  std::string seen;
  bool eof = false;
  asio::co_spawn(
      client_io,
      [&]() -> awaitable<void> {
        Client client(client_io.get_executor(), config());
        auto [err, shell] = co_await client.async_start_shell(kTarget, 80, 24, tuple);
        EXPECT_FALSE(err) << err.message;
        if (err) co_return;
        const std::string cmd = "echo last-words; exit\n";
        co_await asio::async_write(shell.stream(), asio::buffer(cmd), tuple);
        std::array<char, 4096> buf{};
        for (;;) {  // all output, then EOF once the session has ended
          auto [ec, n] = co_await shell.stream().async_read_some(asio::buffer(buf), tuple);
          if (ec) {
            eof = ec == asio::error::eof;
            break;
          }
          seen.append(buf.data(), n);
        }
      },  // the handles are dropped here, the stream never closed by us
      asio::detached);
  const auto t0 = std::chrono::steady_clock::now();
  client_io.run_for(std::chrono::seconds(30));
  const auto took = std::chrono::steady_clock::now() - t0;
  stop = true;
  emulator_thread.join();
  EXPECT_LT(took, std::chrono::seconds(25)) << "run() returned only at its time limit";
  EXPECT_TRUE(eof);
  EXPECT_NE(seen.find("last-words"), std::string::npos) << seen;
}

TEST_F(Api, ShellInvalidSize) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    auto [err, shell] = co_await client.async_start_shell(kTarget, 0, 30, tuple);
    EXPECT_EQ(err.code, make_error_code(errc::invalid_argument));
  });
}

TEST_F(Api, SshStreamCarriesBytesBothWays) {
  run([&]() -> awaitable<void> {
    Client client(io_.get_executor(), config());
    auto [e0, none] = co_await client.async_start_ssh_stream(kTarget, 0, tuple);
    EXPECT_EQ(e0.code, make_error_code(errc::invalid_argument));
    auto [err, ssh] = co_await client.async_start_ssh_stream(kTarget, echo_.port(), tuple);
    EXPECT_FALSE(err) << err.message;
    if (err) co_return;
    const std::string hello = "SSH-2.0-api-test\r\n";
    co_await asio::async_write(ssh.stream(), asio::buffer(hello), tuple);
    std::string seen;
    co_await read_until_text(ssh.stream(), "\r\n", seen);
    EXPECT_EQ(seen, hello);
    ssh.close();
    auto [ce] = co_await ssh.async_wait_closed(tuple);
    EXPECT_FALSE(ce) << ce.message;
  });
}

}  // namespace
}  // namespace ssmc
