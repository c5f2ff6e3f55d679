// Random inputs for the benchmarks: n standard-normal floats from a fixed seed (the same data every run).
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace rwkv::bench {

inline std::vector<float> random_vec(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace rwkv::bench
