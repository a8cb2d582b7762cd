// crypto::system_random(): small requests come from a buffered block of
// RAND_bytes output; the bytes must still never repeat, across block
// boundaries, threads and fork().
#include "crypto/random.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <thread>
#include <vector>

namespace ssmc::crypto {
namespace {

using Id = std::array<std::uint8_t, 16>;

Id draw() {
  Id id{};
  system_random().fill(id);
  return id;
}

TEST(SystemRandom, SmallDrawsNeverRepeatAcrossBlocksAndThreads) {
  std::set<Id> seen;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(seen.insert(draw()).second) << "repeat at draw " << i;  // ~20 blocks
  std::vector<Id> other(5000);
  std::thread t([&] {
    for (auto& id : other) id = draw();
  });
  t.join();
  for (const auto& id : other) ASSERT_TRUE(seen.insert(id).second) << "another thread repeated a draw";
  std::vector<std::uint8_t> odd(37), big(4096 + 3);  // straddling and direct requests
  system_random().fill(odd);
  system_random().fill(big);
  EXPECT_NE(std::vector<std::uint8_t>(odd.begin(), odd.begin() + 16),
            std::vector<std::uint8_t>(big.begin(), big.begin() + 16));
}

TEST(SystemRandom, ForkedChildDoesNotRepeatTheParentsNextBytes) {
  (void)draw();  // the parent now holds a partly used block
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const Id id = draw();
    const bool ok = write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  Id child{};
  ASSERT_EQ(read(fds[0], child.data(), child.size()), static_cast<ssize_t>(child.size()));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_NE(child, draw()) << "the child handed out the parent's buffered bytes";
}

}  // namespace
}  // namespace ssmc::crypto
