// Small reusable containers of the smux session engine: a byte FIFO and a
// ring-buffer queue. Both keep their storage between uses so the steady-state
// data path does not allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

namespace ssmc::mux::detail {

/// FIFO of bytes: append at the back, consume from the front. Storage is one
/// vector; consumed space at the front is reclaimed by moving the live bytes
/// down when the vector would otherwise grow (amortised O(1) per byte).
class ByteQueue {
 public:
  std::size_t size() const noexcept { return buf_.size() - head_; }
  bool empty() const noexcept { return head_ == buf_.size(); }
  std::size_t capacity() const noexcept { return buf_.capacity(); }
  const std::uint8_t* data() const noexcept { return buf_.data() + head_; }

  void push(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    if (head_ > 0 && buf_.size() + bytes.size() > buf_.capacity()) compact();
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  /// Drops `n` ≤ size() bytes from the front.
  void pop(std::size_t n) noexcept {
    head_ += n;
    if (head_ == buf_.size()) {
      buf_.clear();  // keeps capacity
      head_ = 0;
    }
  }
  /// Takes the storage out of an empty queue (for a pool).
  std::vector<std::uint8_t> release() noexcept {
    std::vector<std::uint8_t> out;
    out.swap(buf_);
    out.clear();
    head_ = 0;
    return out;
  }
  /// Gives an empty queue pooled storage (cleared, capacity kept).
  void adopt(std::vector<std::uint8_t>&& storage) noexcept {
    buf_.swap(storage);
    buf_.clear();
    head_ = 0;
  }
  void clear_and_free() {
    std::vector<std::uint8_t>().swap(buf_);
    head_ = 0;
  }

 private:
  void compact() noexcept {
    const std::size_t live = size();
    if (live > 0) std::memmove(buf_.data(), buf_.data() + head_, live);
    buf_.resize(live);
    head_ = 0;
  }

  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;
};

/// FIFO of T over a power-of-two ring; grows by doubling, never shrinks.
/// T must be default-constructible and movable.
template <class T>
class RingQueue {
 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& front() noexcept { return slots_[head_]; }
  /// The i-th element from the front (i < size()).
  T& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](std::size_t i) const noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }

  void push_back(T value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(value);
    ++size_;
  }
  T pop_front() {
    T value = std::move(slots_[head_]);
    slots_[head_] = T{};
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return value;
  }
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(16, slots_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ssmc::mux::detail
