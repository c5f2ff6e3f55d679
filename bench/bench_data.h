// Inputs shared by the benchmarks: random data from a fixed seed (the same every run), and how many copies
// of a weight matrix stream it from memory instead of cache.
#pragma once

#include <algorithm>
#include <cstddef>
#include <random>
#include <vector>

namespace rwkv::bench {

// n standard-normal floats.
inline std::vector<float> random_vec(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Copies of a `bytes`-byte weight matrix that fill 256 MB: a benchmark cycling through them reads its weights
// from memory, as the model does (the 0.1B model's fp32 block weights are 344 MB).
inline std::size_t cold_copies(std::size_t bytes) {
  constexpr std::size_t kColdBytes = std::size_t{256} << 20;
  return std::max<std::size_t>(1, (kColdBytes + bytes - 1) / bytes);
}

}  // namespace rwkv::bench
