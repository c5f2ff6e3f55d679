// Prometheus metrics of `rwkv serve`: request counters by route and status, queue size, requests in
// flight, batch and latency histograms, token and cancellation counters. Thread-safe; render() gives the text
// exposition format.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace rwkv::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void observe(double v);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<long> counts_;  // non-cumulative per bucket; +Inf is count_
  long count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void request(const std::string& route, int status);
  void queue_size(long n);
  void batch(long requests, long tokens);
  void queue_seconds(double s);
  void inference_seconds(double s);
  void cancelled();                // a queued work item dropped because its client went away
  void in_flight_add(long delta);  // model requests being handled now (--max-concurrent-requests)
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, long> requests_;
  long queue_size_ = 0, tokens_total_ = 0, cancelled_total_ = 0, in_flight_ = 0;
  Histogram batch_size_{{1, 2, 4, 8, 16, 32, 64, 128, 256}};
  Histogram batch_tokens_{{16, 64, 256, 1024, 4096, 16384, 65536}};
  Histogram queue_seconds_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  Histogram inference_seconds_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
};

}  // namespace rwkv::server
