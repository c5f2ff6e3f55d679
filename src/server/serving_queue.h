// The bounded FIFO queue of a served model and the one thread that owns the model and serves it. Shared by
// the embedding server (Inference) and the language-model server (Completions): the thread runs `load`,
// then takes batches of queued jobs in arrival order and hands them to `serve`; stop() lets it finish
// everything already queued. Queue length, time in the queue and time in `serve` go to the metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/metrics.h"

namespace rwkv::server {

template <class JobPtr>
class ServingQueue {
 public:
  // Whether `next` may join a batch that starts with the jobs in `batch` (called under the queue's lock).
  using JoinsBatch = std::function<bool(const std::vector<JobPtr>& batch, const JobPtr& next)>;

  ServingQueue(int max_queue, Metrics& metrics) : max_queue_(max_queue), metrics_(metrics) {}
  ~ServingQueue() { stop(); }
  ServingQueue(const ServingQueue&) = delete;
  ServingQueue& operator=(const ServingQueue&) = delete;

  // Starts the thread. If `load` throws, failure() says why and on_failure is called from the thread;
  // otherwise ready() turns true and every batch goes to `serve` (one job per batch without `joins`).
  void start(std::function<void()> load, std::function<void(std::vector<JobPtr>&)> serve,
             std::function<void()> on_failure, JoinsBatch joins = nullptr) {
    thread_ = std::thread([this, load = std::move(load), serve = std::move(serve),
                           on_failure = std::move(on_failure), joins = std::move(joins)] {
      try {
        load();
      } catch (const std::exception& e) {
        failure_ = e.what();
        on_failure();
        return;
      }
      ready_.store(true, std::memory_order_release);
      run(serve, joins);
    });
  }

  // Refuses new jobs, lets the thread finish the queued ones, and joins it.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  const std::string& failure() const { return failure_; }  // once on_failure has been called

  // Queues a job; false when the queue is full or stopping.
  bool push(JobPtr job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || static_cast<int>(queue_.size()) >= max_queue_) return false;
      queue_.push_back({std::move(job), Clock::now()});
      metrics_.queue_size(static_cast<long>(queue_.size()));
    }
    cv_.notify_one();
    return true;
  }

  // Removes the first queued job for which `match` is true; false if there is none (it may already be in
  // `serve`).
  bool remove_first(const std::function<bool(const JobPtr&)>& match) {
    std::lock_guard lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (!match(it->job)) continue;
      queue_.erase(it);
      metrics_.queue_size(static_cast<long>(queue_.size()));
      return true;
    }
    return false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    JobPtr job;
    Clock::time_point enqueued;
  };

  void run(const std::function<void(std::vector<JobPtr>&)>& serve, const JoinsBatch& joins) {
    for (;;) {
      std::vector<JobPtr> batch;
      std::vector<Clock::time_point> enqueued;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued is done
        do {
          batch.push_back(std::move(queue_.front().job));
          enqueued.push_back(queue_.front().enqueued);
          queue_.pop_front();
        } while (joins && !queue_.empty() && joins(batch, queue_.front().job));
        metrics_.queue_size(static_cast<long>(queue_.size()));
      }
      const auto now = Clock::now();
      for (const auto& t : enqueued) metrics_.queue_seconds(std::chrono::duration<double>(now - t).count());
      serve(batch);
      metrics_.inference_seconds(std::chrono::duration<double>(Clock::now() - now).count());
    }
  }

  const int max_queue_;
  Metrics& metrics_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::atomic<bool> ready_{false};
  std::string failure_;
};

}  // namespace rwkv::server
