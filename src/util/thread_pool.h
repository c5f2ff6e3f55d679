// ThreadPool: the engine's one pool of worker threads. parallel_for splits an index range over the
// calling thread plus the workers and returns when all of it is done. Not re-entrant: a task must not
// call parallel_for on the same pool. Thread-safe for one caller at a time (callers serialise).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "util/spin_lock.h"
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
  // shares per thread (see TaskShares). If tasks throw, the other tasks still run, and the first
  // exception is rethrown here once the whole region is done (so no task outlives the call).
  void run_tasks(std::size_t n_tasks, const std::function<void(std::size_t, int)>& fn);

 private:
  // One region as a thread sees it when it joins: its generation, function and task count.
  struct Region {
    unsigned long generation = 0;
    const std::function<void(std::size_t, int)>* fn = nullptr;
    std::size_t tasks = 0;
  };
  void worker_loop(int index);
  // Runs tasks of `region` until none is left (or the region is over); adds them to finished_ and
  // wakes the caller if it sleeps and the region is complete.
  void work_on(const Region& region, int index);

  int n_threads_;
  std::vector<std::thread> workers_;

  // The current region, guarded by claim_lock_ (held for a few instructions per task: a region of small
  // tasks must not put threads to sleep on a contended mutex).
  SpinLock claim_lock_;
  Region region_;
  TaskShares shares_;               // the current region's unclaimed tasks
  std::exception_ptr first_error_;  // the first exception a task of the current region threw

  // Published without a lock: the current generation (workers spin on it), tasks finished in it.
  std::atomic<unsigned long> published_{0};
  std::atomic<std::size_t> finished_{0};
  std::atomic<bool> stopping_{false};

  // Sleeping, after about 50 µs of spinning: workers wait on wake_ for a new generation, the caller on
  // done_ for the region's end. The counters tell the other side whether it has to notify.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  int started_ = 0;  // workers that have begun worker_loop (guarded by sleep_mutex_)
};

}  // namespace rwkv
