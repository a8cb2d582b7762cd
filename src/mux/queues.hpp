// The smux session engine's byte FIFO: it keeps its storage between uses so
// the steady-state data path does not allocate (its queues of ids and events
// are util::RingQueue).
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

}  // namespace ssmc::mux::detail
