// AlignedVector: std::vector with 64-byte aligned storage (cache lines, AVX-512 loads). Elements are
// default-initialised (resize() does not zero floats: write before reading, or use assign(n, 0)).
// Buffers of 4 MiB or more are 2 MiB aligned and their whole 2 MiB pages advised to use transparent huge
// pages, which cuts the page faults of loading large weights.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <vector>

namespace rwkv {

template <typename T, std::size_t Alignment = 64>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{4} << 20, kHugeAlign = std::size_t{2} << 20;
  AlignedAllocator() noexcept = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}
  template <typename U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kHuge) {
      // Huge pages for the whole 2 MiB pages inside the buffer only: advising a rounded-up size made the
      // kernel back the rounding with memory too (31 MiB of the bf16 0.1B model's FFN matrices).
      void* p = ::operator new(bytes, std::align_val_t(kHugeAlign));
      ::madvise(p, bytes / kHugeAlign * kHugeAlign, MADV_HUGEPAGE);  // advisory: failure is harmless
      return static_cast<T*>(p);
    }
    return static_cast<T*>(::operator new(bytes, std::align_val_t(Alignment)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, std::align_val_t(n * sizeof(T) >= kHuge ? kHugeAlign : Alignment));
  }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-init: no zeroing
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  bool operator==(const AlignedAllocator&) const noexcept { return true; }
  bool operator!=(const AlignedAllocator&) const noexcept { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace rwkv
