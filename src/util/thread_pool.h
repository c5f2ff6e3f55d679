// ThreadPool: the engine's one pool of worker threads. parallel_for splits an index range over the
// calling thread plus the workers and returns when all of it is done. Not re-entrant: a task must not
// call parallel_for on the same pool. Thread-safe for one caller at a time (callers serialise).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "util/task_shares.h"

namespace rwkv {

class ThreadPool {
 public:
  // n_threads = total threads including the caller; 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) over disjoint pieces of [0, n), at most `size()` of them, each
  // piece at least `grain` long (except the last). Pieces are contiguous and assigned in order, so the
  // split depends only on n, grain and size(): results that depend on the split stay deterministic.
  void parallel_for(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t, int)>& fn);

  // Calls fn(task, thread_index) for task in [0, n_tasks), tasks handed out dynamically in contiguous
  // shares per thread (see TaskShares).
  void run_tasks(std::size_t n_tasks, const std::function<void(std::size_t, int)>& fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::size_t, int)>* job_ = nullptr;
  std::size_t job_tasks_ = 0;
  TaskShares shares_;  // the current region's unclaimed tasks
  std::size_t finished_tasks_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
  int started_ = 0;  // workers that have begun worker_loop (the constructor waits for all of them)
  // Lock-free mirrors of generation_ / finished_tasks_ / stop_ that waiting threads spin on briefly
  // before sleeping: a parallel region is often only tens of microseconds long, shorter than a
  // sleep-and-wake round trip.
  std::atomic<unsigned long> published_{0};
  std::atomic<std::size_t> finished_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace rwkv
