// util::RingQueue, the engine's FIFO: deque semantics (order, indexing,
// inserts) across growth and wrap-around, and storage kept in steady use.
#include "util/ring_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

namespace ssmc::util {
namespace {

TEST(RingQueue, BehavesLikeADequeThroughGrowthAndWrapAround) {
  RingQueue<std::string> q;
  std::deque<std::string> model;
  std::mt19937 rng(5);
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto op = rng() % 10;
    if (op < 5 || model.empty()) {
      q.push_back(std::to_string(next));
      model.push_back(std::to_string(next++));
    } else if (op < 8) {
      q.pop_front();
      model.pop_front();
    } else if (op == 8) {
      const auto at = rng() % (model.size() + 1);
      q.insert(q.begin() + static_cast<long>(at), "i" + std::to_string(next));
      model.insert(model.begin() + static_cast<long>(at), "i" + std::to_string(next++));
    } else {
      const std::string more[] = {"a" + std::to_string(next), "b" + std::to_string(next)};
      ++next;
      q.insert(q.begin(), std::begin(more), std::end(more));
      model.insert(model.begin(), std::begin(more), std::end(more));
    }
    ASSERT_EQ(q.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(q.front(), model.front());
      ASSERT_EQ(q.back(), model.back());
      const auto i = rng() % model.size();
      ASSERT_EQ(q[i], model[i]);
    }
  }
  ASSERT_TRUE(std::equal(q.begin(), q.end(), model.begin(), model.end()));
}

TEST(RingQueue, SteadyPushAndPopKeepTheSameStorage) {
  RingQueue<int> q;
  for (int i = 0; i < 100; ++i) q.push_back(i);
  const auto capacity = q.capacity();
  for (int i = 100; i < 100000; ++i) {
    q.pop_front();
    q.push_back(i);
    ASSERT_EQ(q.capacity(), capacity);
  }
  EXPECT_EQ(q.front(), 100000 - 100);
  EXPECT_EQ(q.back(), 99999);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), capacity);  // clear() keeps the storage too
}

}  // namespace
}  // namespace ssmc::util
