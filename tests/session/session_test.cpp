// Pure helpers of the session layer: StreamUrl rule (02 §1.1.1), version
// gates (05 §5, 06 §4.4), command wrapping for exec (05 §4).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstdio>
#include <string>

#include "session/modes.hpp"
#include "session/stream_url.hpp"
#include "session/version.hpp"

namespace ssmc::session {
namespace {

TEST(StreamUrl, AcceptsAwsMessagesEndpointsAndLoopbackOnly) {
  EXPECT_EQ(stream_url_problem("wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe"), "");
  EXPECT_EQ(stream_url_problem("wss://ssmmessages-fips.us-gov-west-1.amazonaws.com/v1/data-channel/s"), "");
  EXPECT_EQ(stream_url_problem("wss://ssmmessages.cn-north-1.amazonaws.com.cn/x"), "");
  EXPECT_EQ(stream_url_problem("wss://ssmmessages.eu-west-1.api.aws/x"), "");
  EXPECT_EQ(stream_url_problem("wss://vpce-0abc-xyz.ssmmessages.us-east-1.vpce.amazonaws.com/x"), "");
  EXPECT_EQ(stream_url_problem("wss://SSMMESSAGES.US-EAST-1.AMAZONAWS.COM./x"), "");
  EXPECT_EQ(stream_url_problem("ws://127.0.0.1:8080/v1/data-channel/s"), "");
  EXPECT_EQ(stream_url_problem("ws://[::1]:8080/x"), "");
  EXPECT_EQ(stream_url_problem("wss://localhost/x"), "");
  // Look-alikes, other hosts, other schemes, user info.
  EXPECT_NE(stream_url_problem("wss://ssmmessages.attacker.example/x"), "");
  EXPECT_NE(stream_url_problem("wss://evil-ssmmessages.us-east-1.amazonaws.com/x"), "");
  EXPECT_NE(stream_url_problem("wss://ssmmessages.us-east-1.amazonaws.com.evil.com/x"), "");
  EXPECT_NE(stream_url_problem("wss://ssmmessages.notaregion.amazonaws.com/x"), "");
  EXPECT_NE(stream_url_problem("ws://ssmmessages.us-east-1.amazonaws.com/x"), "") << "ws:// only to loopback";
  EXPECT_NE(stream_url_problem("https://ssmmessages.us-east-1.amazonaws.com/x"), "");
  EXPECT_NE(stream_url_problem("wss://user@ssmmessages.us-east-1.amazonaws.com/x"), "");
  EXPECT_NE(stream_url_problem("wss://example.com/x"), "");
  EXPECT_NE(stream_url_problem("not a url"), "");
}

TEST(Version, GatesCompareNumericallyAndStrictly) {
  EXPECT_FALSE(version_greater("3.0.196.0", kSmuxMinAgentVersion)) << "equal is not greater: basic mode";
  EXPECT_TRUE(version_greater("3.0.197.0", kSmuxMinAgentVersion));
  EXPECT_TRUE(version_greater("3.0.1000.0", kSmuxMinAgentVersion)) << "numeric, not lexical";
  EXPECT_TRUE(version_greater("3.3.1142.0", kSmuxKeepAliveOffAgentVersion));
  EXPECT_FALSE(version_greater("3.1.1511.0", kSmuxKeepAliveOffAgentVersion));
  EXPECT_FALSE(version_greater("2.3.722.0", kTerminateFlagMinAgentVersion));
  EXPECT_TRUE(version_greater("1.2.896.0", "1.2.497.0"));
  EXPECT_FALSE(version_greater("", "1.0"));
  EXPECT_FALSE(version_greater("3.x.1", "1.0")) << "non-numeric fails closed";
}

TEST(Exec, ShellJoinQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(shell_join({"echo", "a b", "it's", "$HOME", "plain-1.2"}), "echo 'a b' 'it'\\''s' '$HOME' plain-1.2");
  EXPECT_EQ(shell_join({""}), "''");
}

/// Runs the wrapper locally with /bin/sh, as the agent would, and checks that
/// the markers, the base64 streams and the status come back.
TEST(Exec, WrappedCommandReportsStreamsAndStatusUnambiguously) {
  const std::string marker = "__SSMC_test__";
  const std::string wrapped = wrap_command("printf 'out\\n'; printf 'err' >&2; exit 42", marker);
  FILE* p = ::popen(wrapped.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[256];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  ::pclose(p);
  EXPECT_NE(text.find("\n" + marker + " OUT\nb3V0Cg==\n"), std::string::npos) << text;  // "out\n"
  EXPECT_NE(text.find(marker + " ERR\nZXJy\n"), std::string::npos) << text;            // "err"
  EXPECT_NE(text.find(marker + " EXIT 42\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ssmc::session
