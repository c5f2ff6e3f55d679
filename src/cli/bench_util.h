// Timing and memory helpers shared by the parts of `rwkv bench`.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace rwkv::cli {

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
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Resident set size of this process now, and its peak so far (MB).
double resident_mb();
double peak_resident_mb();

}  // namespace rwkv::cli
