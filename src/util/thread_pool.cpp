// ThreadPool implementation. A region's tasks are claimed under a spin lock (a few instructions per
// task); the generation and the finished count are atomics that waiting threads spin on. Threads sleep
// on a mutex and condition variables only after about 50 µs without work, and the other side takes that
// mutex to notify only when someone sleeps (the counters are sequentially consistent, so either the
// sleeper sees the new value before it waits, or the notifier sees the sleeper).
#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

namespace rwkv {

namespace {

// Spins until done() or about 50 µs have passed; returns done()'s last value.
template <typename Done>
bool spin_until(Done&& done) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::microseconds(50);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (clock::now() >= deadline) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads > 0 ? n_threads
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      shares_(n_threads_) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  // Return only once every worker runs: a thread still starting holds runtime locks (the sanitizers' thread
  // setup allocates), and a process that forks then (`rwkv bench` measures each mode in a child) would hand
  // the child a lock that nobody releases.
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  done_.wait(lock, [&] { return started_ == n_threads_ - 1; });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  { std::lock_guard<std::mutex> lock(sleep_mutex_); }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    ++started_;
  }
  done_.notify_all();
  unsigned long seen = 0;
  auto woken = [&] { return published_.load() != seen || stopping_.load(); };
  for (;;) {
    if (!spin_until(woken)) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleeping_workers_.fetch_add(1);
      wake_.wait(lock, woken);
      sleeping_workers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    Region region;
    {
      std::lock_guard<SpinLock> lock(claim_lock_);
      region = region_;
    }
    // The region may be newer than the generation that woke us (the caller sets it up before it
    // publishes); joining it early is fine, and the next wait starts from it.
    seen = region.generation;
    work_on(region, index);
  }
}

void ThreadPool::work_on(const Region& region, int index) {
  std::size_t done = 0;
  for (;;) {
    std::size_t task;
    {
      std::lock_guard<SpinLock> lock(claim_lock_);
      // A thread that joined late may find its region over and the next one set up: it must not take
      // the next region's tasks for this region's function.
      if (region_.generation != region.generation || shares_.empty()) break;
      task = shares_.claim(index);
    }
    try {
      (*region.fn)(task, index);
    } catch (...) {  // counted as done; the caller rethrows the first error once the region is over
      std::lock_guard<SpinLock> lock(claim_lock_);
      if (!first_error_) first_error_ = std::current_exception();
    }
    ++done;
  }
  if (done == 0) return;
  // (A region completes only once every claimed task is counted, so these counts are never late.)
  if (finished_.fetch_add(done) + done == region.tasks && caller_sleeping_.load()) {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    done_.notify_all();
  }
}

void ThreadPool::run_tasks(std::size_t n_tasks, const std::function<void(std::size_t, int)>& fn) {
  if (n_tasks == 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {  // on the caller alone, with the same error semantics
    std::exception_ptr error;
    for (std::size_t t = 0; t < n_tasks; ++t) {
      try {
        fn(t, 0);
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
  Region region;
  {
    std::lock_guard<SpinLock> lock(claim_lock_);
    region_ = {region_.generation + 1, &fn, n_tasks};
    region = region_;
    shares_.reset(n_tasks);
    finished_.store(0);
    first_error_ = nullptr;
  }
  published_.store(region.generation);
  if (sleeping_workers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    wake_.notify_all();
  }
  work_on(region, 0);
  auto complete = [&] { return finished_.load() == n_tasks; };
  if (!spin_until(complete)) {
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, complete);
    caller_sleeping_.store(false);
  }
  std::exception_ptr error;
  {
    std::lock_guard<SpinLock> lock(claim_lock_);
    error = std::exchange(first_error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_for(std::size_t n, std::size_t grain,
                              const std::function<void(std::size_t, std::size_t, int)>& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  std::size_t pieces = std::min<std::size_t>(n_threads_, (n + grain - 1) / grain);
  std::size_t step = (n + pieces - 1) / pieces;
  pieces = (n + step - 1) / step;
  run_tasks(pieces, [&](std::size_t p, int thread) {
    std::size_t begin = p * step;
    fn(begin, std::min(n, begin + step), thread);
  });
}

}  // namespace rwkv
