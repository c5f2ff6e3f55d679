// ThreadPool under the conditions the engine puts it in: thousands of short regions back to back (decode),
// pauses long enough for the workers to fall asleep, a caller that finishes its share long before a worker
// does (so the caller sleeps), and the spin lock that guards the claims.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "util/spin_lock.h"
#include "util/thread_pool.h"

namespace rwkv {
namespace {

// Each region records (region, task) pairs; a task run under another region's function, twice or not at
// all shows up as a wrong count.
TEST(ThreadPool, BackToBackRegionsRunEachTaskOnceWithItsOwnFunction) {
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    constexpr int kRegions = 3000;
    std::vector<std::atomic<int>> runs(static_cast<std::size_t>(kRegions) * 8);
    for (int r = 0; r < kRegions; ++r) {
      const std::size_t n = 1 + static_cast<std::size_t>(r) % 8;  // 1..8 tasks, many smaller than the pool
      pool.run_tasks(n, [&, r](std::size_t task, int thread) {
        ASSERT_LT(task, n);
        ASSERT_GE(thread, 0);
        ASSERT_LT(thread, threads);
        runs[static_cast<std::size_t>(r) * 8 + task].fetch_add(1);
      });
    }
    for (int r = 0; r < kRegions; ++r)
      for (std::size_t t = 0; t < 8; ++t)
        ASSERT_EQ(runs[static_cast<std::size_t>(r) * 8 + t].load(),
                  t < 1 + static_cast<std::size_t>(r) % 8 ? 1 : 0)
            << "threads " << threads << " region " << r << " task " << t;
  }
}

// Pauses of 200 µs let the workers go to sleep (they spin for about 50 µs); every region after one must
// wake them and still see all of its tasks run, by more than one thread when a task blocks long enough.
TEST(ThreadPool, WorkersAsleepBetweenRegionsWakeForTheNext) {
  ThreadPool pool(2);
  int regions_with_both_threads = 0;
  for (int r = 0; r < 20; ++r) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::atomic<int> ran{0};
    std::atomic<bool> thread_used[2] = {false, false};
    pool.run_tasks(4, [&](std::size_t, int thread) {
      thread_used[thread].store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ran.fetch_add(1);
    });
    EXPECT_EQ(ran.load(), 4) << "region " << r;
    regions_with_both_threads += thread_used[0].load() && thread_used[1].load();
  }
  // Four 1 ms tasks: a woken worker takes part unless the caller claims all four before it wakes.
  EXPECT_GT(regions_with_both_threads, 0);
}

// The caller's share is done at once, the worker's takes 5 ms: the caller must wait (asleep, past its
// spin) for the worker's tasks, and see their writes when it returns.
TEST(ThreadPool, CallerWaitsForASlowWorkerAndSeesItsResults) {
  ThreadPool pool(2);
  for (int r = 0; r < 5; ++r) {
    std::vector<int> out(2, 0);
    pool.run_tasks(2, [&](std::size_t task, int) {
      if (task == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      out[task] = static_cast<int>(task) + 10 * r + 1;
    });
    EXPECT_EQ(out[0], 10 * r + 1);
    EXPECT_EQ(out[1], 10 * r + 2);
  }
}

// A throwing task does not stop the others or leave tasks running after the call: the first error comes
// back to the caller once the region is done, and the pool works normally afterwards.
TEST(ThreadPool, TaskErrorsReachTheCallerAfterEveryTaskRan) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> runs(32);
    EXPECT_THROW(pool.run_tasks(32,
                                [&](std::size_t task, int) {
                                  runs[task].fetch_add(1);
                                  if (task % 5 == 3) throw std::runtime_error("task failed");
                                }),
                 std::runtime_error);
    for (std::size_t t = 0; t < 32; ++t)
      EXPECT_EQ(runs[t].load(), 1) << "threads " << threads << " task " << t;
    EXPECT_THROW(pool.run_tasks(1, [](std::size_t, int) { throw std::runtime_error("alone"); }),
                 std::runtime_error);
    std::atomic<int> after{0};
    pool.run_tasks(8, [&](std::size_t, int) { after.fetch_add(1); });  // no stale error left behind
    EXPECT_EQ(after.load(), 8);
  }
}

TEST(SpinLock, ExcludesConcurrentHolders) {
  SpinLock lock;
  long counter = 0;  // not atomic: only the lock keeps the increments from being lost
  constexpr int kThreads = 4, kIncrements = 50000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < kIncrements; ++j) {
        std::lock_guard<SpinLock> guard(lock);
        ++counter;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, long{kThreads} * kIncrements);
}

}  // namespace
}  // namespace rwkv
