// SpinLock: a lock for critical sections of a few instructions (the thread pool's task claims). A
// contended std::mutex puts the waiter to sleep in the kernel, and waking it costs a system call on the
// other side: on a VM, microseconds, longer than the task it guards. This one never sleeps; it spins
// with a pause and yields the core only after a long wait (its holder was descheduled).
#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace rwkv {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

class SpinLock {
 public:
  void lock() {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 4096) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace rwkv
