// TaskShares: contiguous shares per thread, stealing from the end of the largest share, every task once.
#include "util/task_shares.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "util/thread_pool.h"

namespace rwkv {
namespace {

TEST(TaskShares, EachThreadWalksItsOwnShareThenStealsFromTheEndOfTheLargest) {
  TaskShares shares(2);
  shares.reset(10);  // thread 0: [0, 5), thread 1: [5, 10)
  std::vector<std::size_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(shares.claim(0));
  for (int i = 0; i < 2; ++i) got.push_back(shares.claim(1));
  for (int i = 0; i < 3; ++i) got.push_back(shares.claim(0));  // 3, 4, then the end of thread 1's share
  got.push_back(shares.claim(1));
  EXPECT_FALSE(shares.empty());
  got.push_back(shares.claim(1));
  EXPECT_TRUE(shares.empty());
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 1, 2, 5, 6, 3, 4, 9, 7, 8}));
}

TEST(TaskShares, ThreadWithoutAShareStealsFromTheLargest) {
  TaskShares shares(4);
  shares.reset(6);  // shares: [0, 1), [1, 3), [3, 4), [4, 6)
  EXPECT_EQ(shares.claim(2), 3u);
  EXPECT_EQ(shares.claim(2), 2u);  // the first of the two largest shares left (thread 1's)
  EXPECT_EQ(shares.claim(3), 4u);
  EXPECT_EQ(shares.claim(1), 1u);
  EXPECT_EQ(shares.claim(1), 0u);  // shares of one task left: thread 0's and thread 3's; the first wins
  EXPECT_EQ(shares.claim(1), 5u);
  EXPECT_TRUE(shares.empty());
  shares.reset(2);                 // more threads than tasks: shares [0, 0), [0, 1), [1, 1), [1, 2)
  EXPECT_EQ(shares.claim(0), 0u);  // thread 0 has none: it takes thread 1's task
  EXPECT_EQ(shares.claim(3), 1u);
  EXPECT_TRUE(shares.empty());
}

TEST(TaskShares, EveryTaskIsClaimedExactlyOnceWhateverTheOrderOfClaims) {
  std::mt19937 rng(7);
  for (int threads : {1, 2, 3, 8}) {
    TaskShares shares(threads);
    for (std::size_t n : {0u, 1u, 2u, 7u, 12u, 100u}) {
      shares.reset(n);
      std::vector<int> seen(n, 0);
      std::size_t claims = 0;
      while (!shares.empty()) {
        const std::size_t task = shares.claim(static_cast<int>(rng() % threads));
        ASSERT_LT(task, n);
        ++seen[task];
        ASSERT_LE(++claims, n);
      }
      for (std::size_t t = 0; t < n; ++t) EXPECT_EQ(seen[t], 1) << "threads " << threads << " task " << t;
    }
  }
}

TEST(ThreadPool, RunTasksRunsEveryTaskOnceOnEveryPoolSize) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (std::size_t n : {1u, 2u, 5u, 64u}) {
      std::vector<int> runs(n, 0);
      pool.run_tasks(n, [&](std::size_t task, int thread) {
        EXPECT_GE(thread, 0);
        EXPECT_LT(thread, threads);
        ++runs[task];
      });
      for (std::size_t t = 0; t < n; ++t) EXPECT_EQ(runs[t], 1) << "threads " << threads << " task " << t;
    }
  }
}

}  // namespace
}  // namespace rwkv
