// Smoke tests of the foundation: the thread pool splits work exactly once per index.
#include <atomic>
#include <vector>

#include <gtest/gtest.h>

#include "util/thread_pool.h"

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    rwkv::ThreadPool pool(threads);
    for (std::size_t n : {0u, 1u, 7u, 1000u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, 3, [&](std::size_t b, std::size_t e, int) {
        for (std::size_t i = b; i < e; ++i) hits[i]++;
      });
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, RunTasksManyTimes) {
  rwkv::ThreadPool pool(2);
  std::atomic<long> sum{0};
  for (int rep = 0; rep < 200; ++rep)
    pool.run_tasks(17, [&](std::size_t t, int) { sum += static_cast<long>(t); });
  EXPECT_EQ(sum.load(), 200L * (16 * 17 / 2));
}
