// Counts global operator new calls while a scope is active: for tests that
// prove a data path allocates nothing in steady state. Replaces the global
// operator new/delete of the test program, so include it from exactly one
// translation unit per test program.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ssmc::test {

inline std::atomic<bool> g_counting_allocations{false};
inline std::atomic<std::size_t> g_allocations{0};

/// Counts the allocations made while it is alive (count()).
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_counting_allocations = true;
  }
  ~AllocationCounter() { g_counting_allocations = false; }
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  std::size_t count() const { return g_allocations.load(); }
};

}  // namespace ssmc::test

void* operator new(std::size_t n) {
  if (ssmc::test::g_counting_allocations.load(std::memory_order_relaxed))
    ssmc::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
