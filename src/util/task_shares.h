// TaskShares: hands out the tasks [0, n) of one parallel region to a fixed number of threads. Thread i
// starts on the i-th contiguous share of the range and walks it in order; a thread whose share is used
// up takes tasks from the end of the largest share left. Neighbouring tasks (adjacent heads, adjacent
// column blocks) thus run on one core, so the cache lines at their borders do not move between cores,
// and the split still balances itself when one thread is slowed down. Not synchronised: the caller
// serialises claims (ThreadPool holds its mutex).
#pragma once

#include <cstddef>
#include <vector>

namespace rwkv {

class TaskShares {
 public:
  explicit TaskShares(int threads)
      : begin_(static_cast<std::size_t>(threads), 0), end_(static_cast<std::size_t>(threads), 0) {}

  // Starts a region of n_tasks tasks, split into one contiguous share per thread.
  void reset(std::size_t n_tasks) {
    const std::size_t shares = begin_.size();
    for (std::size_t i = 0; i < shares; ++i) {
      begin_[i] = n_tasks * i / shares;
      end_[i] = n_tasks * (i + 1) / shares;
    }
    unclaimed_ = n_tasks;
  }

  bool empty() const { return unclaimed_ == 0; }

  // The next task for `thread` (0 <= thread < threads); requires !empty().
  std::size_t claim(int thread) {
    --unclaimed_;
    const std::size_t own = static_cast<std::size_t>(thread);
    if (begin_[own] < end_[own]) return begin_[own]++;
    std::size_t victim = 0;
    for (std::size_t i = 1; i < end_.size(); ++i)
      if (end_[i] - begin_[i] > end_[victim] - begin_[victim]) victim = i;
    return --end_[victim];
  }

 private:
  std::vector<std::size_t> begin_, end_;  // per thread: its unclaimed tasks [begin, end)
  std::size_t unclaimed_ = 0;
};

}  // namespace rwkv
