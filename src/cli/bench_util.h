// Timing and memory helpers shared by the parts of `rwkv bench`.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rwkv {
class ThreadPool;
struct KernelTable;
}  // namespace rwkv

namespace rwkv::cli {

// The middle value of a non-empty set of readings (the upper of the two middle ones for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median wall time in seconds of `reps` runs of f(), after one warm-up run.
template <typename F>
double median_seconds(int reps, F&& f) {
  using Clock = std::chrono::steady_clock;
  f();
  std::vector<double> t;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(std::move(t));
}

// GFLOP/s of the FMA probe (independent fp32 multiply-adds, the arithmetic's ceiling) on `threads` of the
// pool's threads at once; median of 3 runs of about 40 ms.
double fma_peak_gflops(const KernelTable& kt, ThreadPool& pool, int threads);

// Resident set size of this process now, and its peak so far (MB).
double resident_mb();
double peak_resident_mb();

// GB/s of reading a buffer much larger than the caches (512 MB) with all of the pool's threads; median of 3.
double read_bandwidth_gbs(ThreadPool& pool);
// The same in a forked child with a pool of `threads`, so that the buffer is not this process's memory
// (a reading beside a measurement whose peak RSS is reported).
double read_bandwidth_gbs_in_child(int threads);

// A machine reading taken just before and just after a measurement: `key`_before, `key`_after, and the
// higher of the two as `key`, the stricter yardstick the report uses (a prefill's FMA peak
// "fma_peak_gflops", a decode's bandwidth "read_bandwidth_gbs").
void add_readings(nlohmann::json& j, const std::string& key, double before, double after);

// Runs f() in a forked child process and returns its result, so that each measurement has its own peak
// RSS and starts from a fresh heap. The child must not use threads of the parent (make a new pool).
// Throws rwkv::Error with the child's message if f() threw, or if the child died.
nlohmann::json run_in_child(const std::function<nlohmann::json()>& f);

}  // namespace rwkv::cli
