// ThreadPool implementation: a shared task counter guarded by one mutex; tasks are coarse (tiles,
// heads), so the lock is taken a handful of times per parallel region.
#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

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
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
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
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return started_ == n_threads_ - 1; });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++started_;
  }
  done_.notify_all();
  unsigned long seen = 0;
  for (;;) {
    spin_until([&] { return published_.load(std::memory_order_acquire) != seen || stopping_.load(); });
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stop_ || (generation_ != seen && !shares_.empty()); });
    if (stop_) return;
    seen = generation_;
    while (!shares_.empty()) {
      std::size_t task = shares_.claim(index);
      const auto* job = job_;
      lock.unlock();
      (*job)(task, index);
      lock.lock();
      finished_.store(++finished_tasks_, std::memory_order_release);
      if (finished_tasks_ == job_tasks_) done_.notify_all();
    }
  }
}

void ThreadPool::run_tasks(std::size_t n_tasks, const std::function<void(std::size_t, int)>& fn) {
  if (n_tasks == 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (std::size_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = &fn;
  job_tasks_ = n_tasks;
  shares_.reset(n_tasks);
  finished_tasks_ = 0;
  finished_.store(0, std::memory_order_relaxed);
  ++generation_;
  published_.store(generation_, std::memory_order_release);
  wake_.notify_all();
  while (!shares_.empty()) {
    std::size_t task = shares_.claim(0);
    lock.unlock();
    fn(task, 0);
    lock.lock();
    finished_.store(++finished_tasks_, std::memory_order_release);
  }
  if (finished_tasks_ != job_tasks_) {
    const std::size_t want = job_tasks_;
    lock.unlock();
    spin_until([&] { return finished_.load(std::memory_order_acquire) == want; });
    lock.lock();
    done_.wait(lock, [&] { return finished_tasks_ == job_tasks_; });
  }
  job_ = nullptr;
  job_tasks_ = 0;
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
