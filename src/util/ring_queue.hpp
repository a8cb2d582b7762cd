// RingQueue: a FIFO that keeps its storage. A boost::circular_buffer that
// doubles its capacity when full, so a queue in steady use (push at the back,
// pop at the front, as the engine does once per message) never allocates;
// std::deque allocates and frees a block every 512 bytes of elements.
#pragma once

#include <algorithm>
#include <boost/circular_buffer.hpp>
#include <cstddef>
#include <iterator>
#include <utility>

namespace ssmc::util {

template <class T>
class RingQueue {
  using Buffer = boost::circular_buffer<T>;

 public:
  using value_type = T;
  using iterator = typename Buffer::iterator;
  using const_iterator = typename Buffer::const_iterator;

  bool empty() const { return buf_.empty(); }
  std::size_t size() const { return buf_.size(); }
  std::size_t capacity() const { return buf_.capacity(); }
  T& front() { return buf_.front(); }
  const T& front() const { return buf_.front(); }
  T& back() { return buf_.back(); }
  const T& back() const { return buf_.back(); }
  T& operator[](std::size_t i) { return buf_[i]; }
  const T& operator[](std::size_t i) const { return buf_[i]; }
  iterator begin() { return buf_.begin(); }
  iterator end() { return buf_.end(); }
  const_iterator begin() const { return buf_.begin(); }
  const_iterator end() const { return buf_.end(); }

  void push_back(T value) {
    reserve(buf_.size() + 1);
    buf_.push_back(std::move(value));
  }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    push_back(T(std::forward<Args>(args)...));
    return buf_.back();
  }
  void pop_front() { buf_.pop_front(); }
  void clear() { buf_.clear(); }

  /// Inserts before `pos` (linear in the elements moved).
  iterator insert(const_iterator pos, T value) {
    const auto at = pos - buf_.begin();
    reserve(buf_.size() + 1);
    return buf_.insert(buf_.begin() + at, std::move(value));
  }
  template <class It>
  void insert(const_iterator pos, It first, It last) {
    const auto at = pos - buf_.begin();
    reserve(buf_.size() + static_cast<std::size_t>(std::distance(first, last)));
    buf_.insert(buf_.begin() + at, first, last);
  }

 private:
  /// First allocation: enough for a few messages' worth of bookkeeping.
  static constexpr std::size_t kInitialCapacity = 16;

  void reserve(std::size_t n) {
    if (n > buf_.capacity()) buf_.set_capacity(std::max({n, kInitialCapacity, buf_.capacity() * 2}));
  }

  Buffer buf_;
};

}  // namespace ssmc::util
